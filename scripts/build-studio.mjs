// Builds Quiver Studio (src/studio, issue 15) with vite into dist/studio: one HTML page and hashed
// ES module and CSS assets, which the server serves at /studio (src/api/studio.ts). Run by
// `prepare` beside the client build, so `npm ci && npm start` serves it; the output is never
// committed. Where vite is not installed (`npm ci --omit=dev`) there is nothing
// to build, and /studio answers with a page saying how to build it.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src', 'studio');
if (!fs.existsSync(path.join(src, 'index.html'))) process.exit(0);
let vite;
try {
  vite = await import('vite');
} catch {
  process.stdout.write('quiver: vite is not installed; dist/studio (Quiver Studio) not built\n');
  process.exit(0);
}
const outDir = path.join(root, 'dist', 'studio');
try {
  await vite.build({
    root: src,
    base: '/studio/',
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 400 },
  });
} catch (err) {
  process.stderr.write(`quiver: building dist/studio failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
