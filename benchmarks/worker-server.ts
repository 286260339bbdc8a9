// The figures that need features beyond plain search, all through the real server:
//  - filtered search: recall@10 and QPS with a metadata filter passing 0.1%, 1%, 10% and 50%
//    of a GloVe subset (ground truth: exact search over the documents that pass);
//  - ingest with the default embedding model: documents/s end to end (synchronous upsert, and
//    the async /ingest job when the server has it) against the bare embedder in this process,
//    and query p50/p99 while the ingest runs against the same figures on an idle server.
// A feature the server does not have yet is reported as "not measured" with the server's answer.
//   node --import tsx benchmarks/worker-server.ts --out file.json [--filter-n N] [--docs N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_MODELS_DIR, DEFAULT_LOCAL_MODEL, loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { LocalEmbedder } from '../src/embedding/index.js';
import { createQuiver } from '../src/server.js';
import { loadFioriCases } from '../scripts/eval-default-model.js';
import { bucketOf, loadDataset } from './lib/datasets.js';
import { HttpLoad } from './lib/http.js';
import { startServer } from './lib/server.js';
import { exactTopK, log, median, percentile, recallOf, sleep } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    'filter-n': { type: 'string', default: '50000' },
    nq: { type: 'string', default: '200' },
    docs: { type: 'string', default: '4000' },
    'min-seconds': { type: 'string', default: '0.5' },
    out: { type: 'string' },
  },
});

const K = 10;
const SELECTIVITIES = [0.001, 0.01, 0.1, 0.5];

async function filtered(): Promise<Record<string, unknown>> {
  const n = Number(args['filter-n']);
  const ds = loadDataset('glove', { n, nq: Number(args.nq) });
  const { dim, nq } = ds;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-filter-'));
  try {
    const config = loadConfig({ QUIVER_DATA_DIR: dataDir, QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'warn' });
    const quiver = createQuiver(config, createLogger('warn'));
    await quiver.lifecycle.start();
    const col = await quiver.collections.create({ name: 'f', metric: 'cosine', embedder: { provider: 'none' }, dimension: dim });
    for (let s = 0; s < ds.n; s += 1000) {
      const docs = [];
      for (let i = s; i < Math.min(ds.n, s + 1000); i++) docs.push({ id: String(i), vector: Array.from(ds.base.subarray(i * dim, i * dim + dim)), metadata: { b: bucketOf(i) } });
      await col.write(docs, { onError: 'reject-batch' });
    }
    await quiver.lifecycle.close();
    const srv = await startServer(dataDir);
    const http = new HttpLoad(srv.url, 1);
    const rows: Record<string, unknown>[] = [];
    try {
      const qArrays = Array.from({ length: nq }, (_, q) => Array.from(ds.queries.subarray(q * dim, q * dim + dim)));
      const probe = await http.request('POST', '/v1/collections/f/query', { vector: qArrays[0], k: K, include: [], filter: { b: { $lt: 1 } } });
      if (probe.status !== 200) return { measured: false, reason: `not measured: filters not landed (the server answered ${probe.status} ${JSON.stringify(probe.json).slice(0, 200)})` };
      for (const sel of SELECTIVITIES) {
        const limit = Math.round(sel * 1000);
        const truth = exactTopK(ds.base, ds.queries, dim, K, (id) => bucketOf(id) < limit);
        const passing = Array.from({ length: ds.n }, (_, i) => i).filter((i) => bucketOf(i) < limit).length;
        const bodies = qArrays.map((v) => JSON.stringify({ vector: v, k: K, include: [], filter: { b: { $lt: limit } } }));
        const r = await http.run('/v1/collections/f/query', bodies, 1, Number(args['min-seconds']));
        const recall = r.bodies.reduce<number>((s, a, q) => s + recallOf(truth, q, K, (a as { hits: { id: string }[] }).hits.map((h) => Number(h.id))), 0) / nq;
        rows.push({ selectivity: sel, passing, recall: +recall.toFixed(4), qps: +(r.count / r.seconds).toFixed(1), p50_ms: +percentile(r.latenciesMs, 50).toFixed(3), p99_ms: +percentile(r.latenciesMs, 99).toFixed(3) });
        log(`filter ${sel * 100}% (${passing} docs): recall ${recall.toFixed(3)}, ${(r.count / r.seconds).toFixed(0)} qps`);
      }
      // The same queries without a filter, for comparison.
      const plain = await http.run('/v1/collections/f/query', qArrays.map((v) => JSON.stringify({ vector: v, k: K, include: [] })), 1, Number(args['min-seconds']));
      return { measured: true, n: ds.n, nq, via: 'HTTP, concurrency 1, default ef', rows, unfiltered_qps: +(plain.count / plain.seconds).toFixed(1) };
    } finally {
      await http.close();
      await srv.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Unique texts of a few hundred characters, cut from the Fiori documentation bodies. */
async function documents(count: number): Promise<string[]> {
  const out = new Set<string>();
  for (const c of await loadFioriCases()) {
    const sentences = c.body.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter((s) => s.length > 0);
    let cur = '';
    for (const s of sentences) {
      cur = cur ? `${cur} ${s}` : s;
      if (cur.length >= 300) {
        out.add(cur);
        cur = '';
      }
    }
    if (cur.length >= 40) out.add(cur);
  }
  const all = [...out];
  const res: string[] = [];
  // Past the supply, make new unique texts by joining two pieces.
  for (let i = 0; res.length < count; i++) res.push(i < all.length ? all[i]! : `${all[i % all.length]!} ${all[(i * 7 + 3) % all.length]!}`);
  return res;
}

async function ingest(): Promise<Record<string, unknown>> {
  const count = Number(args.docs);
  const texts = await documents(count * 2 + 300);
  const syncTexts = texts.slice(0, count);
  const jobTexts = texts.slice(count, 2 * count);
  const probeTexts = texts.slice(2 * count);
  const avgChars = Math.round(syncTexts.reduce((s, t) => s + t.length, 0) / count);

  // Bare embedder, in this process (same model, same worker-thread code path), batches of 100.
  const embedder = await LocalEmbedder.load({ modelId: DEFAULT_LOCAL_MODEL, searchDirs: [BUILTIN_MODELS_DIR], allowDownload: false });
  await embedder.embed(syncTexts.slice(0, 50)); // warm-up
  let t0 = performance.now();
  for (let i = 0; i < count; i += 100) await embedder.embed(syncTexts.slice(i, i + 100));
  const bareDocsPerS = count / ((performance.now() - t0) / 1000);
  await embedder.close();
  log(`bare embedder: ${bareDocsPerS.toFixed(0)} docs/s`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-ingest-'));
  const srv = await startServer(dataDir, { QUIVER_EMBEDDER: 'local', QUIVER_SYNC: 'full' });
  const http = new HttpLoad(srv.url, 4);
  try {
    await http.request('POST', '/v1/collections', { name: 'docs' });
    await http.request('POST', '/v1/collections', { name: 'probe' });
    // A small, separate collection answers the latency probes, so the probes measure the
    // server's responsiveness, not the growing collection.
    await http.request('PUT', '/v1/collections/probe/documents', { documents: probeTexts.map((t, i) => ({ id: `p${i}`, text: t })) });
    const queries = (await loadFioriCases()).map((c) => c.title).filter((t): t is string => !!t);
    const probeBodies = queries.map((t) => JSON.stringify({ text: t, k: K, include: [] }));
    const idle = await http.run('/v1/collections/probe/query', probeBodies, 1, 2);

    // Synchronous upsert, batches of 100, with the latency probe running alongside.
    let done = false;
    const probeDuring = async (): Promise<number[]> => {
      const lat: number[] = [];
      let i = 0;
      while (!done) {
        const t = performance.now();
        await http.post('/v1/collections/probe/query', probeBodies[i++ % probeBodies.length]!);
        lat.push(performance.now() - t);
        await sleep(5);
      }
      return lat;
    };
    const probe1 = probeDuring();
    t0 = performance.now();
    for (let i = 0; i < count; i += 100) {
      const r = await http.request('PUT', '/v1/collections/docs/documents', { documents: syncTexts.slice(i, i + 100).map((t, j) => ({ id: `s${i + j}`, text: t })) });
      if (r.status !== 200) throw new Error(`upsert answered ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
    }
    const upsertDocsPerS = count / ((performance.now() - t0) / 1000);
    done = true;
    const latUpsert = await probe1;
    log(`sync upsert: ${upsertDocsPerS.toFixed(0)} docs/s`);

    // Async ingest job, if the server has it.
    let job: Record<string, unknown>;
    const post = await http.request('POST', '/v1/collections/docs/ingest', { documents: jobTexts.map((t, j) => ({ id: `j${j}`, text: t })) });
    if (post.status !== 202 && post.status !== 200) {
      job = { measured: false, reason: `not measured: async ingest not landed (POST /ingest answered ${post.status} ${JSON.stringify(post.json).slice(0, 200)})` };
    } else {
      t0 = performance.now();
      const id = (post.json as { job?: { id?: string | number }; id?: string | number }).job?.id ?? (post.json as { id?: string | number }).id;
      done = false;
      const probe2 = probeDuring();
      let status = '';
      let last: unknown;
      while (performance.now() - t0 < 600_000) {
        const r = await http.request('GET', `/v1/jobs/${id}`);
        last = r.json;
        status = String((r.json as { status?: string; job?: { status?: string } }).status ?? (r.json as { job?: { status?: string } }).job?.status);
        if (['done', 'failed', 'cancelled'].includes(status)) break;
        await sleep(50);
      }
      const jobDocsPerS = count / ((performance.now() - t0) / 1000);
      done = true;
      const lat = await probe2;
      job = {
        measured: true,
        status,
        docs_per_s: +jobDocsPerS.toFixed(1),
        ratio_to_bare: +(jobDocsPerS / bareDocsPerS).toFixed(3),
        query_p50_ms: +percentile(lat, 50).toFixed(2),
        query_p99_ms: +percentile(lat, 99).toFixed(2),
        probes: lat.length,
        last_status: JSON.stringify(last).slice(0, 300),
      };
      log(`ingest job: ${jobDocsPerS.toFixed(0)} docs/s (${status})`);
    }
    return {
      documents: count,
      avg_chars: avgChars,
      bare_embedder_docs_per_s: +bareDocsPerS.toFixed(1),
      sync_upsert: {
        batch: 100,
        sync: 'full',
        docs_per_s: +upsertDocsPerS.toFixed(1),
        ratio_to_bare: +(upsertDocsPerS / bareDocsPerS).toFixed(3),
        query_p50_ms: +percentile(latUpsert, 50).toFixed(2),
        query_p99_ms: +percentile(latUpsert, 99).toFixed(2),
        probes: latUpsert.length,
      },
      idle_query_p50_ms: +percentile(idle.latenciesMs, 50).toFixed(2),
      idle_query_p99_ms: +percentile(idle.latenciesMs, 99).toFixed(2),
      idle_query_qps: +median([idle.count / idle.seconds]).toFixed(1),
      job,
    };
  } finally {
    await http.close();
    await srv.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // The local embedder's worker thread is unref'd (src/embedding/local.ts): without something
  // else holding the event loop open, an in-process embed() would let the process exit mid-call.
  const keepAlive = setInterval(() => undefined, 1000);
  const out: Record<string, unknown> = {};
  for (const [key, fn] of [
    ['filtered', filtered],
    ['ingest', ingest],
  ] as const) {
    try {
      out[key] = await fn();
    } catch (err) {
      log(`${key} failed: ${(err as Error).message}`);
      out[key] = { measured: false, reason: `failed: ${(err as Error).message.slice(0, 500)}` };
    }
  }
  clearInterval(keepAlive);
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(out, null, 2));
  else console.log(JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
