// One data set, three ways of searching the same HNSW parameters, interleaved in one process so
// their ratios share the machine's noise:
//  - raw hnswlib-node in-process (the floor),
//  - Quiver in-process (createQuiver + Collection.write + search, provider "none"),
//  - Quiver over HTTP (the real server on the same data folder, concurrency 1 and 8),
// then the open time from the saved snapshot and after deleting it (rebuild from SQLite).
//   node --import tsx benchmarks/worker-hnsw.ts --dataset glove --out file.json [--n N] [--nq N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import hnswlib from 'hnswlib-node';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { search } from '../src/query/index.js';
import { createQuiver } from '../src/server.js';
import type { DatasetName } from './lib/datasets.js';
import { bucketOf, loadDataset } from './lib/datasets.js';
import { HttpLoad } from './lib/http.js';
import { startServer } from './lib/server.js';
import { dirBytes, log, median, peakRss, percentile, recallOf } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string' },
    n: { type: 'string' },
    nq: { type: 'string' },
    reps: { type: 'string', default: '3' },
    efs: { type: 'string', default: '16,32,64,128,256' },
    'min-seconds': { type: 'string', default: '0.3' },
    'open-reps': { type: 'string', default: '3' },
    rebuild: { type: 'boolean', default: true },
    out: { type: 'string' },
  },
});

const M = 16;
const EF_CONSTRUCTION = 200;
const K = 10;

interface Pass {
  qps: number[];
  recall: number;
  p50_ms?: number[];
  p99_ms?: number[];
}

async function main(): Promise<void> {
  const name = args.dataset as DatasetName;
  const ds = loadDataset(name, { n: args.n ? Number(args.n) : undefined, nq: args.nq ? Number(args.nq) : undefined });
  const { dim, n, nq } = ds;
  const efs = args.efs.split(',').map(Number);
  const reps = Number(args.reps);
  const minSeconds = Number(args['min-seconds']);
  const qArrays = Array.from({ length: nq }, (_, q) => Array.from(ds.queries.subarray(q * dim, q * dim + dim)));
  const vec = (i: number) => Array.from(ds.base.subarray(i * dim, i * dim + dim));
  const rssBefore = peakRss();
  log(`${name}: n=${n} nq=${nq} dim=${dim}`);

  // --- raw hnswlib-node ---
  const raw = new hnswlib.HierarchicalNSW('cosine', dim);
  raw.initIndex(n, M, EF_CONSTRUCTION, 100);
  let t0 = performance.now();
  for (let i = 0; i < n; i++) raw.addPoint(vec(i), i);
  const rawBuildS = (performance.now() - t0) / 1000;
  const rawRss = peakRss();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `quiver-bench-${name}-`));
  await raw.writeIndex(path.join(tmp, 'raw.hnsw'));
  const rawBytes = fs.statSync(path.join(tmp, 'raw.hnsw')).size;
  fs.rmSync(path.join(tmp, 'raw.hnsw'));
  log(`raw hnswlib build ${rawBuildS.toFixed(1)} s (${Math.round(n / rawBuildS)} vectors/s)`);

  // --- Quiver in-process ---
  const dataDir = path.join(tmp, 'quiver');
  const config = loadConfig({ QUIVER_DATA_DIR: dataDir, QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'warn', QUIVER_SYNC: 'full' });
  const quiver = createQuiver(config, createLogger('warn'));
  await quiver.lifecycle.start();
  const col = await quiver.collections.create({ name: 'bench', metric: 'cosine', embedder: { provider: 'none' }, dimension: dim });
  t0 = performance.now();
  for (let s = 0; s < n; s += 1000) {
    const docs = [];
    for (let i = s; i < Math.min(n, s + 1000); i++) docs.push({ id: String(i), vector: vec(i), metadata: { b: bucketOf(i) } });
    await col.write(docs, { onError: 'reject-batch' });
  }
  const quiverIngestS = (performance.now() - t0) / 1000;
  log(`quiver ingest ${quiverIngestS.toFixed(1)} s (${Math.round(n / quiverIngestS)} vectors/s)`);

  const rawPass = (ef: number, recallNeeded: boolean): { qps: number; recall: number } => {
    raw.setEf(ef);
    let count = 0;
    let recall = 0;
    const start = performance.now();
    const deadline = start + minSeconds * 1000;
    do {
      for (let q = 0; q < nq; q++) {
        const r = raw.searchKnn(qArrays[q]!, K);
        if (recallNeeded && count < nq) recall += recallOf(ds.truth, q, K, r.neighbors);
        count++;
      }
    } while (performance.now() < deadline);
    return { qps: count / ((performance.now() - start) / 1000), recall: recall / nq };
  };
  const quiverPass = async (ef: number, recallNeeded: boolean): Promise<{ qps: number; recall: number }> => {
    let count = 0;
    let recall = 0;
    const start = performance.now();
    const deadline = start + minSeconds * 1000;
    do {
      for (let q = 0; q < nq; q++) {
        const r = await search(col, { vector: qArrays[q]!, k: K, include: [], ef });
        if (recallNeeded && count < nq) recall += recallOf(ds.truth, q, K, r.hits.map((h) => Number(h.documentId)));
        count++;
      }
    } while (performance.now() < deadline);
    return { qps: count / ((performance.now() - start) / 1000), recall: recall / nq };
  };

  const results: Record<string, Record<number, Pass>> = { 'hnswlib-node (raw)': {}, 'Quiver in-process': {}, 'Quiver HTTP c=1': {}, 'Quiver HTTP c=8': {}, 'hnswlib-node (raw, HTTP phase)': {} };
  const put = (engineName: string, ef: number, qps: number, recall: number | undefined, lat?: number[]) => {
    const e = results[engineName]!;
    const p = (e[ef] ??= { qps: [], recall: NaN });
    p.qps.push(qps);
    if (recall !== undefined) p.recall = recall;
    if (lat) {
      (p.p50_ms ??= []).push(percentile(lat, 50));
      (p.p99_ms ??= []).push(percentile(lat, 99));
    }
  };
  // warm-up
  rawPass(efs[0]!, false);
  await quiverPass(efs[0]!, false);
  for (let rep = 0; rep < reps; rep++) {
    for (const ef of efs) {
      // Alternate which goes first, so neither always gets the warmer cache.
      const order = rep % 2 === 0 ? ['raw', 'quiver'] : ['quiver', 'raw'];
      for (const o of order) {
        if (o === 'raw') {
          const r = rawPass(ef, rep === 0);
          put('hnswlib-node (raw)', ef, r.qps, rep === 0 ? r.recall : undefined);
        } else {
          const r = await quiverPass(ef, rep === 0);
          put('Quiver in-process', ef, r.qps, rep === 0 ? r.recall : undefined);
        }
      }
    }
    log(`in-process rep ${rep + 1}/${reps} done`);
  }
  // Recall at the server's default search breadth (QUIVER_HNSW_EF_SEARCH, 100): no ef given.
  let defaultEfRecall = 0;
  for (let q = 0; q < nq; q++) {
    const r = await search(col, { vector: qArrays[q]!, k: K, include: [] });
    defaultEfRecall += recallOf(ds.truth, q, K, r.hits.map((h) => Number(h.documentId)));
  }
  defaultEfRecall /= nq;
  const inprocRss = peakRss();
  await quiver.lifecycle.close();
  const quiverBytes = dirBytes(dataDir);
  const dbBytes = dirBytes(path.join(dataDir, 'quiver.db')) + dirBytes(path.join(dataDir, 'quiver.db-wal'));
  const indexBytes = dirBytes(path.join(dataDir, 'indexes'));

  // --- Quiver over HTTP, open from the snapshot ---
  const openMs: number[] = [];
  let serverRss: number | undefined;
  for (let i = 0; i < Number(args['open-reps']); i++) {
    const srv = await startServer(dataDir);
    openMs.push(srv.openMs);
    log(`open from snapshot: ${(srv.openMs / 1000).toFixed(2)} s`);
    if (i === 0) {
      const http = new HttpLoad(srv.url, 8);
      const bodies = (ef: number) => qArrays.map((v) => JSON.stringify({ vector: v, k: K, include: [], ef }));
      const path_ = '/v1/collections/bench/query';
      const ids = (answers: unknown[]) => answers.map((a) => (a as { hits: { id: string }[] }).hits.map((h) => Number(h.id)));
      const recallOfAnswers = (answers: unknown[]) => ids(answers).reduce((s, f, q) => s + recallOf(ds.truth, q, K, f), 0) / nq;
      await http.run(path_, bodies(efs[0]!).slice(0, 200), 8, 0); // warm-up
      for (let rep = 0; rep < reps; rep++) {
        for (const ef of efs) {
          const b = bodies(ef);
          const r0 = rawPass(ef, false);
          put('hnswlib-node (raw, HTTP phase)', ef, r0.qps, undefined);
          const r1 = await http.run(path_, b, 1, minSeconds);
          put('Quiver HTTP c=1', ef, r1.count / r1.seconds, rep === 0 ? recallOfAnswers(r1.bodies) : undefined, r1.latenciesMs);
          const r8 = await http.run(path_, b, 8, minSeconds);
          put('Quiver HTTP c=8', ef, r8.count / r8.seconds, rep === 0 ? recallOfAnswers(r8.bodies) : undefined, r8.latenciesMs);
        }
        log(`HTTP rep ${rep + 1}/${reps} done`);
      }
      await http.close();
      serverRss = srv.peakRss();
    }
    await srv.stop();
  }
  // Raw recall in the HTTP phase is the same index as before.
  for (const ef of efs) results['hnswlib-node (raw, HTTP phase)']![ef]!.recall = results['hnswlib-node (raw)']![ef]!.recall;

  // --- rebuild: drop the snapshot manifest, so open rebuilds the index from SQLite ---
  let rebuildMs: number | undefined;
  if (args.rebuild) {
    for (const f of fs.readdirSync(path.join(dataDir, 'indexes'))) if (f.endsWith('.json')) fs.rmSync(path.join(dataDir, 'indexes', f));
    const srv = await startServer(dataDir);
    rebuildMs = srv.openMs;
    log(`open with rebuild: ${(rebuildMs / 1000).toFixed(2)} s`);
    await srv.stop();
  }
  fs.rmSync(tmp, { recursive: true, force: true });

  const curves = Object.fromEntries(
    Object.entries(results).map(([eng, byEf]) => [
      eng,
      efs.map((ef) => {
        const p = byEf[ef]!;
        return {
          ef,
          recall: +p.recall.toFixed(4),
          qps: +median(p.qps).toFixed(1),
          qps_runs: p.qps.map((x) => +x.toFixed(1)),
          ...(p.p50_ms ? { p50_ms: +median(p.p50_ms).toFixed(3), p99_ms: +median(p.p99_ms!).toFixed(3) } : {}),
        };
      }),
    ]),
  );
  const out = {
    dataset: name,
    n,
    nq,
    dim,
    k: K,
    hnsw: { m: M, ef_construction: EF_CONSTRUCTION, default_ef: config.hnsw.efSearch },
    default_ef_recall: +defaultEfRecall.toFixed(4),
    curves,
    build: {
      raw_hnswlib_s: +rawBuildS.toFixed(2),
      quiver_ingest_s: +quiverIngestS.toFixed(2),
      quiver_ingest_vectors_per_s: Math.round(n / quiverIngestS),
      raw_vectors_per_s: Math.round(n / rawBuildS),
    },
    open: { snapshot_ms: openMs.map((x) => Math.round(x)), snapshot_median_ms: Math.round(median(openMs)), rebuild_ms: rebuildMs === undefined ? null : Math.round(rebuildMs) },
    memory: {
      dataset_rss_bytes: rssBefore,
      raw_peak_rss_bytes: rawRss,
      worker_peak_rss_bytes_after_quiver: inprocRss,
      quiver_server_peak_rss_bytes: serverRss ?? null,
    },
    disk: {
      raw_hnswlib_bytes_per_vector: +(rawBytes / n).toFixed(1),
      quiver_bytes_per_vector: +(quiverBytes / n).toFixed(1),
      quiver_sqlite_bytes_per_vector: +(dbBytes / n).toFixed(1),
      quiver_index_bytes_per_vector: +(indexBytes / n).toFixed(1),
    },
  };
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(out, null, 2));
  else console.log(JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
