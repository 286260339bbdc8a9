import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start servers (some as processes) and load the model. The ceilings are
    // generous on purpose: CI is a shared 2-core machine, and a test may only fail on what it
    // asserts, never because the machine was busy. Waits inside tests are on conditions.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    // QUIVER_TEST_REPORT=<file> also writes vitest's JSON report there: .ci/run reads it to list
    // each failed test, with the start of its error, after its summary, where a log cut to its
    // last lines still shows which test failed on which Node.js line.
    reporters: process.env.QUIVER_TEST_REPORT ? ['default', ['json', { outputFile: process.env.QUIVER_TEST_REPORT }]] : ['default'],
  },
});
