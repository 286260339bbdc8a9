// Builds the client as a browser bundle with vite (the way an app that imports quiver/client
// gets it: src/client and openapi-fetch in one minified ES module, nothing left external) and
// measures it, minified and gzipped. `npm run size:client` prints the figures;
// test/integration/client-package.test.ts checks them and that nothing of Node is in it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { build } from 'vite';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BrowserBundle {
  code: string;
  bytes: number;
  gzipBytes: number;
}

export async function buildBrowserBundle(): Promise<BrowserBundle> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-client-bundle-'));
  try {
    await build({
      configFile: false,
      root: ROOT,
      logLevel: 'silent',
      build: {
        outDir,
        emptyOutDir: true,
        target: 'es2022',
        minify: true,
        // An application build of the client's entry, its exports kept: library mode leaves ES
        // output unminified (whitespace and all), which is not what an app ships.
        rollupOptions: {
          input: path.join(ROOT, 'src', 'client', 'index.ts'),
          preserveEntrySignatures: 'strict',
          output: { entryFileNames: 'quiver-client.js', format: 'es' },
        },
        modulePreload: false,
      },
    });
    const file = fs.readdirSync(outDir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.js'));
    if (file === undefined) throw new Error(`vite wrote no .js file to ${outDir}`);
    const code = fs.readFileSync(path.join(outDir, file), 'utf8');
    return { code, bytes: Buffer.byteLength(code), gzipBytes: zlib.gzipSync(code, { level: 9 }).length };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const b = await buildBrowserBundle();
  process.stdout.write(`quiver/client browser bundle: ${(b.bytes / 1024).toFixed(1)} KiB minified, ${(b.gzipBytes / 1024).toFixed(1)} KiB gzipped\n`);
}
