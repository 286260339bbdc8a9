// One data set, three ways of searching the same HNSW parameters, interleaved in one process so
// their ratios share the machine's noise:
//  - raw hnswlib-node in-process (the floor),
//  - Quiver in-process (createQuiver + Collection.write + search, provider "none"), one search
//    at a time and with 8 searches in flight (an index in a worker thread answers each call
//    with a message round trip, which several calls in flight can overlap),
//  - Quiver over HTTP (the real server on the same data folder, concurrency 1 and 8), and, at
//    concurrency 8 in the same minutes with the same bodies and load generator, two bare JSON
//    endpoints in their own processes (node:http and express 5, benchmarks/anchor-server.ts);
//  - with --sweep, queries/s and p50/p99 at concurrency 1, 2, 4, 8 and 16 at the default ef,
//    for Quiver over HTTP and both bare endpoints;
// then the server's memory (after open, after the queries, and an empty server's for the
// difference), the open time from the saved snapshot and after deleting it (rebuild from SQLite).
//   node --import tsx benchmarks/worker-hnsw.ts --dataset glove --out file.json [--n N] [--nq N] [--sweep]
// QUIVER_* variables of the environment (e.g. QUIVER_INDEX_WORKERS) apply to the in-process
// Quiver and to the server alike.
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
import type { AnchorKind, RunningAnchor } from './lib/anchor.js';
import { ANCHOR_NAMES, startAnchor } from './lib/anchor.js';
import { HttpLoad } from './lib/http.js';
import { startServer } from './lib/server.js';
import type { SweepRow } from './lib/util.js';
import { dirBytes, log, median, peakRss, percentile, quiverEnv, recallOf } from './lib/util.js';

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
    sweep: { type: 'boolean', default: false },
    concurrencies: { type: 'string', default: '1,2,4,8,16' },
    /** Repetitions of the concurrency sweep (default: --reps). */
    'sweep-reps': { type: 'string' },
    inflight: { type: 'string', default: '8' },
    out: { type: 'string' },
  },
});

const M = 16;
const EF_CONSTRUCTION = 200;
const K = 10;
/** Connections per load-generator pool: enough for the largest concurrency of the sweep. */
const POOL = Math.max(8, ...args.concurrencies.split(',').map(Number));

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
  const config = loadConfig({ ...quiverEnv(), QUIVER_DATA_DIR: dataDir, QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'warn', QUIVER_SYNC: 'full' });
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
  // The same queries with `inflight` searches pending at once (Promise-level concurrency, one
  // process): each query's recall is taken from its own answer.
  const inflight = Number(args.inflight);
  const quiverPassInflight = async (ef: number, recallNeeded: boolean): Promise<{ qps: number; recall: number }> => {
    let next = 0;
    let recall = 0;
    const start = performance.now();
    const deadline = start + minSeconds * 1000;
    const one = async () => {
      for (;;) {
        const i = next++;
        if (i >= nq && performance.now() >= deadline) return;
        const q = i % nq;
        const r = await search(col, { vector: qArrays[q]!, k: K, include: [], ef });
        if (recallNeeded && i < nq) recall += recallOf(ds.truth, q, K, r.hits.map((h) => Number(h.documentId)));
      }
    };
    await Promise.all(Array.from({ length: inflight }, one));
    // `next` overshoots by one per runner (the index each drew before stopping).
    return { qps: (next - inflight) / ((performance.now() - start) / 1000), recall: recall / nq };
  };
  const INPROC_N = `Quiver in-process, ${inflight} in flight`;

  const results: Record<string, Record<number, Pass>> = {
    'hnswlib-node (raw)': {},
    'Quiver in-process': {},
    [INPROC_N]: {},
    'Quiver HTTP c=1': {},
    'Quiver HTTP c=8': {},
    'hnswlib-node (raw, HTTP phase)': {},
  };
  // The bare endpoints at concurrency 8, per ef (the same bodies as Quiver's, so the same bytes
  // to parse; their answer does not depend on ef, but measuring them beside each ef keeps each
  // ratio within the same minute).
  const anchorsByEf: Record<string, Record<number, Pass>> = { [ANCHOR_NAMES.node]: {}, [ANCHOR_NAMES.express]: {} };
  const put = (engineName: string, ef: number, qps: number, recall: number | undefined, lat?: number[]) => {
    const e = (results[engineName] ?? anchorsByEf[engineName])!;
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
  await quiverPassInflight(efs[0]!, false);
  for (let rep = 0; rep < reps; rep++) {
    for (const [ei, ef] of efs.entries()) {
      // Rotate which goes first, so none always gets the warmer cache.
      const kinds = ['raw', 'quiver', 'inflight'] as const;
      for (let j = 0; j < kinds.length; j++) {
        const o = kinds[(rep + ei + j) % kinds.length]!;
        if (o === 'raw') {
          const r = rawPass(ef, rep === 0);
          put('hnswlib-node (raw)', ef, r.qps, rep === 0 ? r.recall : undefined);
        } else if (o === 'quiver') {
          const r = await quiverPass(ef, rep === 0);
          put('Quiver in-process', ef, r.qps, rep === 0 ? r.recall : undefined);
        } else {
          const r = await quiverPassInflight(ef, rep === 0);
          put(INPROC_N, ef, r.qps, rep === 0 ? r.recall : undefined);
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
  let serverRssAfterOpen: number | undefined;
  let serverRssAfterQueries: number | undefined;
  const anchorRss: Record<string, number | null> = {};
  let sweep: { ef: number; concurrencies: number[]; raw_single_thread_qps: number; raw_qps_runs: number[]; rows: SweepRow[] } | undefined;
  for (let i = 0; i < Number(args['open-reps']); i++) {
    const srv = await startServer(dataDir);
    openMs.push(srv.openMs);
    log(`open from snapshot: ${(srv.openMs / 1000).toFixed(2)} s`);
    if (i === 0) {
      serverRssAfterOpen = srv.rss();
      const http = new HttpLoad(srv.url, POOL);
      const anchors: (RunningAnchor & { http: HttpLoad })[] = [];
      for (const kind of ['node', 'express'] as AnchorKind[]) {
        const a = await startAnchor(kind);
        anchors.push({ ...a, http: new HttpLoad(a.url, POOL) });
      }
      const bodies = (ef: number | undefined) => qArrays.map((v) => JSON.stringify({ vector: v, k: K, include: [], ...(ef === undefined ? {} : { ef }) }));
      const path_ = '/v1/collections/bench/query';
      const ids = (answers: unknown[]) => answers.map((a) => (a as { hits: { id: string }[] }).hits.map((h) => Number(h.id)));
      const recallOfAnswers = (answers: unknown[]) => ids(answers).reduce((s, f, q) => s + recallOf(ds.truth, q, K, f), 0) / nq;
      // warm-up
      await http.run(path_, bodies(efs[0]).slice(0, 200), 8, 0);
      for (const a of anchors) await a.http.run(path_, bodies(efs[0]).slice(0, 200), 8, 0);
      for (let rep = 0; rep < reps; rep++) {
        for (const [ei, ef] of efs.entries()) {
          const b = bodies(ef);
          const r0 = rawPass(ef, false);
          put('hnswlib-node (raw, HTTP phase)', ef, r0.qps, undefined);
          const r1 = await http.run(path_, b, 1, minSeconds);
          put('Quiver HTTP c=1', ef, r1.count / r1.seconds, rep === 0 ? recallOfAnswers(r1.bodies) : undefined, r1.latenciesMs);
          // Quiver and the two bare endpoints at c=8, back to back, the first of them rotating.
          const trio = [undefined, ...anchors];
          for (let j = 0; j < trio.length; j++) {
            const t = trio[(rep + ei + j) % trio.length];
            if (!t) {
              const r8 = await http.run(path_, b, 8, minSeconds);
              put('Quiver HTTP c=8', ef, r8.count / r8.seconds, rep === 0 ? recallOfAnswers(r8.bodies) : undefined, r8.latenciesMs);
            } else {
              const ra = await t.http.run(path_, b, 8, minSeconds);
              put(ANCHOR_NAMES[t.kind], ef, ra.count / ra.seconds, undefined, ra.latenciesMs);
            }
          }
        }
        log(`HTTP rep ${rep + 1}/${reps} done`);
      }
      if (args.sweep) {
        // Queries/s against concurrency at the server's default ef (bodies without ef); raw
        // hnswlib at that ef, one thread, is measured beside each concurrency for reference.
        const ef = config.hnsw.efSearch;
        const b = bodies(undefined);
        const cs = args.concurrencies.split(',').map(Number);
        const acc = new Map<string, { qps: number[]; p50: number[]; p99: number[] }>();
        const rawRuns: number[] = [];
        const record = (engine: string, c: number, qps: number, lat: number[]) => {
          const key = `${engine}\u0000${c}`;
          const e = acc.get(key) ?? { qps: [], p50: [], p99: [] };
          acc.set(key, e);
          e.qps.push(qps);
          e.p50.push(percentile(lat, 50));
          e.p99.push(percentile(lat, 99));
        };
        const sweepReps = args['sweep-reps'] ? Number(args['sweep-reps']) : reps;
        for (let rep = 0; rep < sweepReps; rep++) {
          for (const [ci, c] of cs.entries()) {
            raw.setEf(ef);
            rawRuns.push(rawPass(ef, false).qps);
            const trio = [undefined, ...anchors];
            for (let j = 0; j < trio.length; j++) {
              const t = trio[(rep + ci + j) % trio.length];
              const r = await (t ? t.http : http).run(path_, b, c, minSeconds);
              record(t ? ANCHOR_NAMES[t.kind] : 'Quiver HTTP', c, r.count / r.seconds, r.latenciesMs);
            }
          }
          log(`concurrency sweep rep ${rep + 1}/${sweepReps} done`);
        }
        const rows: SweepRow[] = [];
        for (const engine of ['Quiver HTTP', ANCHOR_NAMES.node, ANCHOR_NAMES.express]) {
          for (const c of cs) {
            const e = acc.get(`${engine}\u0000${c}`)!;
            rows.push({ engine, c, qps: +median(e.qps).toFixed(1), qps_runs: e.qps.map((x) => +x.toFixed(1)), p50_ms: +median(e.p50).toFixed(3), p99_ms: +median(e.p99).toFixed(3) });
          }
        }
        sweep = { ef, concurrencies: cs, raw_single_thread_qps: +median(rawRuns).toFixed(1), raw_qps_runs: rawRuns.map((x) => +x.toFixed(1)), rows };
      }
      await http.close();
      for (const a of anchors) {
        anchorRss[ANCHOR_NAMES[a.kind]] = a.peakRss() ?? null;
        await a.http.close();
        await a.stop();
      }
      serverRssAfterQueries = srv.rss();
      serverRss = srv.peakRss();
    }
    await srv.stop();
  }
  // An empty server (no collection) for the fixed part of the resident set.
  const emptyDir = path.join(tmp, 'empty');
  const empty = await startServer(emptyDir);
  const emptyRss = empty.rss();
  await empty.stop();
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
  const anchorCurves = Object.fromEntries(
    Object.entries(anchorsByEf).map(([eng, byEf]) => [
      eng,
      efs.map((ef) => {
        const p = byEf[ef]!;
        return { ef, qps: +median(p.qps).toFixed(1), qps_runs: p.qps.map((x) => +x.toFixed(1)), p50_ms: +median(p.p50_ms!).toFixed(3), p99_ms: +median(p.p99_ms!).toFixed(3) };
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
    inflight,
    http_anchors: { concurrency: 8, curves: anchorCurves },
    concurrency_sweep: sweep ?? null,
    quiver_env: quiverEnv(),
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
      quiver_server_rss_after_open_bytes: serverRssAfterOpen ?? null,
      quiver_server_rss_after_queries_bytes: serverRssAfterQueries ?? null,
      empty_server_rss_bytes: emptyRss ?? null,
      anchor_peak_rss_bytes: anchorRss,
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
