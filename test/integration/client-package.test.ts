// quiver/client as its users get it: built to dist/client (scripts/build-client.mjs, what
// `prepare` runs), imported by name from plain Node with no TypeScript loader (the README's
// example, run as written against a server), and bundled for a browser with vite: nothing of
// Node inside, and the size the README states.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowserBundle } from '../../scripts/client-bundle.js';
import { runNode } from '../helpers/cli.js';
import { ROOT, TestServer } from '../helpers/server.js';

describe('quiver/client, built', () => {
  let s: TestServer;
  beforeAll(async () => {
    const built = await runNode(['scripts/build-client.mjs']);
    expect(built.status, built.stderr + built.stdout).toBe(0);
    s = await TestServer.start();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('builds ES modules with type declarations for the package export', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.exports['./client']).toMatchObject({ types: './dist/client/index.d.ts', import: './dist/client/index.js' });
    for (const f of ['index.js', 'index.d.ts', 'schema.d.ts', 'client.js']) expect(fs.existsSync(path.join(ROOT, 'dist', 'client', f)), f).toBe(true);
  });

  it("runs the README's example as written, importing 'quiver/client' from plain Node", async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## TypeScript client'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(snippet.split('\n').filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(10);
    expect(snippet).toContain("from 'quiver/client'");
    // Only the address changes: the test server listens on a port of its own.
    const code = snippet.replace('http://127.0.0.1:8080', s.url);
    const env = { ...process.env };
    delete env.QUIVER_API_KEY;
    // Node resolves 'quiver/client' through this package's own "exports" (a self-reference from the repository root).
    const r = await runNode(['--input-type=module', '-e', code], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pasta \d\.\d+\n$/);
  });

  it('bundles for a browser with nothing of Node, at the size the README states', async () => {
    const b = await buildBrowserBundle();
    expect(b.code).not.toMatch(/\bfrom\s*["'`]node:|\brequire\(/);
    expect(b.code).toContain('QuiverApiError');
    const kib = (n: number) => (n / 1024).toFixed(1);
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    // Within 1 KiB of the stated figures, so small changes do not need a README edit.
    const stated = /\*\*([\d.]+) KiB,\s+([\d.]+) KiB gzipped\*\*/.exec(readme)!;
    expect(Math.abs(Number(stated[1]) - b.bytes / 1024), `minified ${kib(b.bytes)} KiB`).toBeLessThan(1);
    expect(Math.abs(Number(stated[2]) - b.gzipBytes / 1024), `gzipped ${kib(b.gzipBytes)} KiB`).toBeLessThan(1);
  });
});
