// Scale: one collection of 1,000,000 × 384 clustered vectors (issue 12). Not part of the default
// run (the build alone takes several minutes on 2 cores): `npm run bench -- --only scale`.
//   node --import tsx benchmarks/scale.ts --out file.json [--n 1000000] [--nq 200] [--check-truth]
// 1. The vectors: the clustered set's Gaussian mixture (lib/datasets.ts) at n, generated in
//    memory (seeded; the first 100,000 are the 100k set's), nq queries from the same mixture;
//    ground truth by exact search over the queries (cached in benchmarks/.cache).
// 2. The build, through the fastest honest path: Quiver in-process (createQuiver, provider
//    "none", QUIVER_SYNC=full) with Collection.write in batches of --batch documents, each with a
//    small metadata object, as worker-hnsw.ts does; then close, which saves the index snapshot.
//    Over HTTP the same build also parses JSON; this path measures SQLite and HNSW only.
// 3. The real server on that folder: open time from the snapshot (spawn → /readyz 200, target
//    < 5 s), its RSS after open; recall@10 over HTTP at each candidate ef, the smallest ef
//    reaching 0.95 chosen; at that ef queries/s and p50/p99 at concurrency 1 and 8, beside a
//    bare express and a bare node:http endpoint at c=8 (same bodies, same minutes); the RSS
//    after the queries; a second open for the open time's spread.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { createQuiver } from '../src/server.js';
import type { AnchorKind, RunningAnchor } from './lib/anchor.js';
import { ANCHOR_NAMES, startAnchor } from './lib/anchor.js';
import { bucketOf, clusteredMixture } from './lib/datasets.js';
import { HttpLoad } from './lib/http.js';
import { startServer } from './lib/server.js';
import { CACHE_DIR, dirBytes, exactTopK, log, median, peakRss, percentile, quiverEnv, recallOf } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    nq: { type: 'string', default: '200' },
    'check-truth': { type: 'boolean', default: false },
    batch: { type: 'string', default: '5000' },
    efs: { type: 'string', default: '32,64,128,256,512' },
    target: { type: 'string', default: '0.95' },
    reps: { type: 'string', default: '3' },
    'min-seconds': { type: 'string', default: '1' },
    'open-reps': { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});

const K = 10;

/**
 * Exact top-k by inner product (cosine: unit vectors), the same answer as lib/util.ts exactTopK
 * but blocked for a large base: each block of base vectors is read once from memory for all the
 * queries (exactTopK streams the whole base once per query: 1.5 GB × queries at 1M × 384).
 */
function exactTopKBlocked(base: Float32Array, queries: Float32Array, dim: number, k: number): Int32Array {
  const n = base.length / dim;
  const nq = queries.length / dim;
  const bestS = new Float64Array(nq * k).fill(-Infinity);
  const bestI = new Int32Array(nq * k).fill(-1);
  const BLOCK = 512;
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const j1 = Math.min(n, j0 + BLOCK);
    for (let q = 0; q < nq; q++) {
      const qo = q * dim;
      const ko = q * k;
      let worst = bestS[ko + k - 1]!;
      for (let j = j0; j < j1; j++) {
        const bo = j * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let i = 0;
        for (; i + 3 < dim; i += 4) {
          s0 += base[bo + i]! * queries[qo + i]!;
          s1 += base[bo + i + 1]! * queries[qo + i + 1]!;
          s2 += base[bo + i + 2]! * queries[qo + i + 2]!;
          s3 += base[bo + i + 3]! * queries[qo + i + 3]!;
        }
        for (; i < dim; i++) s0 += base[bo + i]! * queries[qo + i]!;
        const s = s0 + s1 + s2 + s3;
        if (s <= worst) continue;
        let p = k - 1;
        while (p > 0 && bestS[ko + p - 1]! < s) {
          bestS[ko + p] = bestS[ko + p - 1]!;
          bestI[ko + p] = bestI[ko + p - 1]!;
          p--;
        }
        bestS[ko + p] = s;
        bestI[ko + p] = j;
        worst = bestS[ko + k - 1]!;
      }
    }
  }
  return bestI;
}

function groundTruth(base: Float32Array, queries: Float32Array, dim: number, n: number, nq: number): Int32Array {
  const file = path.join(CACHE_DIR, `clustered-scale.gt-${n}-${nq}-${K}.i32`);
  if (fs.existsSync(file)) {
    const b = fs.readFileSync(file);
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }
  const t0 = performance.now();
  const truth = exactTopKBlocked(base, queries, dim, K);
  log(`ground truth ${n} × ${nq}: ${((performance.now() - t0) / 1000).toFixed(1)} s (cached)`);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  fs.writeFileSync(file, new Uint8Array(truth.buffer, truth.byteOffset, truth.byteLength));
  return truth;
}

async function main(): Promise<void> {
  const started = performance.now();
  const n = Number(args.n);
  const nq = Number(args.nq);
  const batch = Number(args.batch);
  const efs = args.efs.split(',').map(Number).sort((a, b) => a - b);
  const target = Number(args.target);
  const reps = Number(args.reps);
  const minSeconds = Number(args['min-seconds']);

  let t0 = performance.now();
  const { dim, base, queries } = clusteredMixture(n, nq);
  const generateS = (performance.now() - t0) / 1000;
  log(`generated ${n} × ${dim} clustered vectors and ${nq} queries in ${generateS.toFixed(1)} s`);
  t0 = performance.now();
  const truth = groundTruth(base, queries, dim, n, nq);
  const truthS = (performance.now() - t0) / 1000;
  if (args['check-truth']) {
    // The blocked scan against lib/util.ts's plain one (slow at 1M: a check for small n).
    const plain = exactTopK(base, queries, dim, K);
    let same = 0;
    for (let q = 0; q < nq; q++) same += recallOf(plain, q, K, truth.subarray(q * K, q * K + K));
    log(`ground truth check: ${(same / nq).toFixed(4)} agreement with exactTopK`);
    if (same / nq < 0.999) throw new Error('the blocked exact search disagrees with exactTopK');
  }

  // --- build, in-process ---
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-scale-'));
  const dataDir = path.join(tmp, 'quiver');
  try {
    const config = loadConfig({ ...quiverEnv(), QUIVER_DATA_DIR: dataDir, QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'warn', QUIVER_SYNC: 'full' });
    const quiver = createQuiver(config, createLogger('warn'));
    await quiver.lifecycle.start();
    const col = await quiver.collections.create({ name: 'scale', metric: 'cosine', embedder: { provider: 'none' }, dimension: dim });
    t0 = performance.now();
    let nextLog = n / 10;
    for (let s = 0; s < n; s += batch) {
      const docs = [];
      for (let i = s; i < Math.min(n, s + batch); i++) docs.push({ id: String(i), vector: Array.from(base.subarray(i * dim, i * dim + dim)), metadata: { b: bucketOf(i) } });
      await col.write(docs, { onError: 'reject-batch' });
      if (s + batch >= nextLog) {
        const el = (performance.now() - t0) / 1000;
        log(`build: ${Math.min(n, s + batch).toLocaleString('en-US')} / ${n.toLocaleString('en-US')} in ${el.toFixed(0)} s (${Math.round(Math.min(n, s + batch) / el)} vectors/s)`);
        nextLog += n / 10;
      }
    }
    const buildS = (performance.now() - t0) / 1000;
    const builderRss = process.memoryUsage().rss;
    t0 = performance.now();
    await quiver.lifecycle.close();
    const closeS = (performance.now() - t0) / 1000;
    const builderPeakRss = peakRss();
    log(`build ${buildS.toFixed(1)} s (${Math.round(n / buildS)} vectors/s), close (snapshot) ${closeS.toFixed(1)} s`);
    const diskBytes = dirBytes(dataDir);

    // --- the server ---
    const bodies = (ef: number) => Array.from({ length: nq }, (_, q) => JSON.stringify({ vector: Array.from(queries.subarray(q * dim, q * dim + dim)), k: K, include: [], ef }));
    const path_ = '/v1/collections/scale/query';
    const recallOfAnswers = (answers: unknown[]) =>
      answers.reduce<number>((s, a, q) => s + recallOf(truth, q, K, (a as { hits: { id: string }[] }).hits.map((h) => Number(h.id))), 0) / nq;
    const openMs: number[] = [];
    let rssAfterOpen: number | undefined;
    let rssAfterQueries: number | undefined;
    let serverPeakRss: number | undefined;
    const candidates: { ef: number; recall: number; qps_c8_one_pass: number }[] = [];
    let chosen: { ef: number; recall: number; reached: boolean } | undefined;
    const acc: Record<string, { qps: number[]; p50: number[]; p99: number[] }> = {};
    for (let i = 0; i < Number(args['open-reps']); i++) {
      const srv = await startServer(dataDir);
      openMs.push(srv.openMs);
      log(`open from snapshot: ${(srv.openMs / 1000).toFixed(2)} s`);
      if (i > 0) {
        await srv.stop();
        continue;
      }
      rssAfterOpen = srv.rss();
      const http = new HttpLoad(srv.url, 8);
      const anchors: (RunningAnchor & { http: HttpLoad })[] = [];
      for (const kind of ['express', 'node'] as AnchorKind[]) {
        const a = await startAnchor(kind);
        anchors.push({ ...a, http: new HttpLoad(a.url, 8) });
      }
      await http.run(path_, bodies(efs[0]!).slice(0, 100), 8, 0); // warm-up
      for (const ef of efs) {
        const r = await http.run(path_, bodies(ef), 8, 0);
        const recall = recallOfAnswers(r.bodies);
        candidates.push({ ef, recall: +recall.toFixed(4), qps_c8_one_pass: +(r.count / r.seconds).toFixed(1) });
        log(`ef ${ef}: recall@10 ${recall.toFixed(4)}, ${Math.round(r.count / r.seconds)} QPS (c=8, one pass)`);
      }
      const reached = candidates.find((c) => c.recall >= target);
      const pick = reached ?? candidates.reduce((a, b) => (b.recall > a.recall ? b : a));
      chosen = { ef: pick.ef, recall: pick.recall, reached: reached !== undefined };
      const b = bodies(chosen.ef);
      for (const a of anchors) await a.http.run(path_, b.slice(0, 100), 8, 0); // warm-up
      const record = (key: string, qps: number, lat: number[]) => {
        const e = (acc[key] ??= { qps: [], p50: [], p99: [] });
        e.qps.push(qps);
        e.p50.push(percentile(lat, 50));
        e.p99.push(percentile(lat, 99));
      };
      for (let rep = 0; rep < reps; rep++) {
        const r1 = await http.run(path_, b, 1, minSeconds);
        record('Quiver HTTP c=1', r1.count / r1.seconds, r1.latenciesMs);
        const trio = [undefined, ...anchors];
        for (let j = 0; j < trio.length; j++) {
          const t = trio[(rep + j) % trio.length];
          const r = await (t ? t.http : http).run(path_, b, 8, minSeconds);
          record(t ? `${ANCHOR_NAMES[t.kind]} c=8` : 'Quiver HTTP c=8', r.count / r.seconds, r.latenciesMs);
        }
        log(`HTTP rep ${rep + 1}/${reps} done`);
      }
      await http.close();
      for (const a of anchors) {
        await a.http.close();
        await a.stop();
      }
      rssAfterQueries = srv.rss();
      serverPeakRss = srv.peakRss();
      await srv.stop();
    }

    // An empty server (no collection) for the fixed part of the resident set.
    const empty = await startServer(path.join(tmp, 'empty'));
    const emptyRss = empty.rss();
    await empty.stop();

    const out = {
      measured: true,
      measured_at: new Date().toISOString(),
      load_average_at_start: os.loadavg().map((x) => +x.toFixed(2)),
      dataset: 'clustered mixture (lib/datasets.ts clusteredMixture), unit length, cosine',
      n,
      nq,
      dim,
      k: K,
      quiver_env: quiverEnv(),
      build_path: `in-process createQuiver + Collection.write, batches of ${batch} documents (vector + metadata {b}), QUIVER_SYNC=full, provider "none"`,
      generate_s: +generateS.toFixed(1),
      ground_truth_s: +truthS.toFixed(1),
      build: { seconds: +buildS.toFixed(1), vectors_per_s: Math.round(n / buildS), close_with_snapshot_s: +closeS.toFixed(1), builder_rss_bytes: builderRss, builder_peak_rss_bytes: builderPeakRss, dataset_bytes: base.byteLength + queries.byteLength },
      disk_bytes: diskBytes,
      open: { snapshot_ms: openMs.map((x) => Math.round(x)), snapshot_median_ms: Math.round(median(openMs)) },
      memory: {
        server_rss_after_open_bytes: rssAfterOpen ?? null,
        server_rss_after_queries_bytes: rssAfterQueries ?? null,
        server_peak_rss_bytes: serverPeakRss ?? null,
        empty_server_rss_bytes: emptyRss ?? null,
      },
      target_recall: target,
      candidates,
      chosen: chosen ?? null,
      http: Object.entries(acc).map(([engine, e]) => ({
        engine,
        qps: +median(e.qps).toFixed(1),
        qps_runs: e.qps.map((x) => +x.toFixed(1)),
        p50_ms: +median(e.p50).toFixed(3),
        p99_ms: +median(e.p99).toFixed(3),
      })),
      seconds: Math.round((performance.now() - started) / 1000),
    };
    if (args.out) fs.writeFileSync(args.out, JSON.stringify(out, null, 2));
    else console.log(JSON.stringify(out, null, 2));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
