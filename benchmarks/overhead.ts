// Where a Quiver query's time goes, beyond hnswlib's own search: times each step that
// search and the HTTP layer add, on a GloVe subset, one query at a time.
//   npx tsx benchmarks/overhead.ts [--n 20000] [--ef 64]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { search } from '../src/query/index.js';
import { createQuiver } from '../src/server.js';
import { loadDataset } from './lib/datasets.js';
import { HttpLoad } from './lib/http.js';
import { startServer } from './lib/server.js';
import { median } from './lib/util.js';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '20000' }, ef: { type: 'string', default: '64' }, log: { type: 'string', default: 'info' } } });

async function main(): Promise<void> {
  const ds = loadDataset('glove', { n: Number(args.n), nq: 200 });
  const { dim, nq } = ds;
  const ef = Number(args.ef);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-overhead-'));
  const quiver = createQuiver(loadConfig({ QUIVER_DATA_DIR: dataDir, QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'warn' }), createLogger('warn'));
  await quiver.lifecycle.start();
  const c = await quiver.collections.create({ name: 'o', metric: 'cosine', embedder: { provider: 'none' }, dimension: dim });
  for (let s = 0; s < ds.n; s += 1000) {
    const docs = [];
    for (let i = s; i < Math.min(ds.n, s + 1000); i++) docs.push({ id: String(i), vector: Array.from(ds.base.subarray(i * dim, i * dim + dim)), metadata: { b: i % 1000 } });
    await c.write(docs, { onError: 'reject-batch' });
  }
  const qs = Array.from({ length: nq }, (_, q) => Array.from(ds.queries.subarray(q * dim, q * dim + dim)));
  const index = c.index;
  const labels = await Promise.all(qs.map(async (q) => (await index.search(Float32Array.from(q), 10, { ef })).neighbors.map((n) => n.label)));
  const steps: Record<string, () => unknown> = {};
  let i = 0;
  const next = () => (i = (i + 1) % nq);
  steps['collections.get(name) (map lookup)'] = () => quiver.collections.get('o');
  steps['checkVector (number[] → Float32Array, checks)'] = () => c.checkVector(qs[next()]!, 'vector');
  const f32 = qs.map((q) => Float32Array.from(q));
  steps['Array.from(Float32Array) (for hnswlib-node)'] = () => Array.from(f32[next()]!);
  steps['VectorIndex.search (hnswlib searchKnn + wrapper; a promise)'] = () => index.search(f32[next()]!, 10, { ef });
  steps['collection.chunks (SQLite join, ids only)'] = () => c.chunks(labels[next()]!, { text: false, metadata: false, vector: false });
  const out: Record<string, number> = {};
  for (const [name, fn] of Object.entries(steps)) {
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let j = 0; j < 2000; j++) fn();
      runs.push(((performance.now() - t0) / 2000) * 1000);
    }
    out[name] = median(runs);
  }
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let j = 0; j < 2000; j++) await search(c, { vector: qs[next()]!, k: 10, include: [], ef });
    runs.push(((performance.now() - t0) / 2000) * 1000);
  }
  out['search, whole (include: [])'] = median(runs);
  await quiver.lifecycle.close();

  try {
    const srv = await startServer(dataDir, { QUIVER_LOG_LEVEL: args.log });
    const http = new HttpLoad(srv.url, 1);
    const bodies = qs.map((q) => JSON.stringify({ vector: q, k: 10, include: [], ef }));
    await http.run('/v1/collections/o/query', bodies, 1, 0.5);
    const r = await http.run('/v1/collections/o/query', bodies, 1, 2);
    const took = r.bodies.map((b) => (b as { took_ms: number }).took_ms * 1000);
    out[`HTTP round trip, c=1 (QUIVER_LOG_LEVEL=${args.log})`] = median(r.latenciesMs.map((x) => x * 1000));
    out['  of which took_ms reported by the server (search)'] = median(took);
    await http.close();
    await srv.stop();
  } catch (err) {
    process.stderr.write(`HTTP part skipped: ${(err as Error).message.slice(0, 300)}\n`);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(`per query, median, microseconds (GloVe n=${ds.n}, ef=${ef}, k=10):\n`);
  for (const [k, v] of Object.entries(out)) process.stdout.write(`${v.toFixed(1).padStart(9)}  ${k}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
