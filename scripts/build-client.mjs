// Builds `quiver/client` (package.json "exports"): src/client compiled by tsc with
// tsconfig.client.json into dist/client (ESM .js + .d.ts), which Node 20+ imports without tsx and
// browser bundlers take as they take any package. Run by `prepare`, so a checkout gets it from
// `npm ci` and a packed or published package carries it. Where TypeScript is not installed (the
// `npm ci --omit=dev`) there is nothing to build. The image builds both before dropping dev packages.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stdout.write('quiver: typescript is not installed; dist/client (quiver/client) not built\n');
  process.exit(0);
}
if (!fs.existsSync(path.join(root, 'tsconfig.client.json'))) process.exit(0);
const out = path.join(root, 'dist', 'client');
fs.rmSync(out, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.client.json')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('quiver: building dist/client failed\n');
  process.exit(r.status ?? 1);
}
