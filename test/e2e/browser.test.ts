// The Studio's tests need Chromium and say so: a machine without it fails them with the way to
// install it, never skips them (CI installs it: .ci/run).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

describe('launching Chromium', () => {
  it('fails with how to install it when Chromium is missing', () => {
    const script = `import { launchChromium } from './test/e2e/browser.ts'; await launchChromium();`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, QUIVER_CHROMIUM: path.join(ROOT, 'no-such-chromium') },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('apt-get install -y chromium');
  });
});
