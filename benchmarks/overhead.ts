// Where a Quiver query's time goes, beyond hnswlib's own search: times each step that
// search and the HTTP layer add, on a GloVe subset, one query at a time.
//   npx tsx benchmarks/overhead.ts [--n 20000] [--ef 64] [--only http-steps]
// --only http-steps times only the per-request work of the HTTP layer, in-process (no index).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import http from 'node:http';
import net from 'node:net';
import helmet from 'helmet';
import { pino } from 'pino';
import client from 'prom-client';
import { z } from 'zod';
import { parse } from '../src/api/errors.js';
import { queryBody } from '../src/api/v1/schemas.js';
import { searchView } from '../src/api/v1/views.js';
import { loadConfig } from '../src/config/index.js';
import type { SearchResult } from '../src/domain/types.js';
import { createLogger, requestContext } from '../src/log.js';
import { search } from '../src/query/index.js';
import { createQuiver } from '../src/server.js';
import { loadDataset } from './lib/datasets.js';
import { HttpLoad } from './lib/http.js';
import { startServer } from './lib/server.js';
import { median } from './lib/util.js';

const { values: args } = parseArgs({
  options: { n: { type: 'string', default: '20000' }, ef: { type: 'string', default: '64' }, log: { type: 'string', default: 'info' }, only: { type: 'string' } },
});

/** Median over 5 runs of `reps` calls, in microseconds per call. */
function time(fn: () => unknown, reps = 2000): number {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let j = 0; j < reps; j++) fn();
    runs.push(((performance.now() - t0) / reps) * 1000);
  }
  return median(runs);
}

/**
 * The per-request work of the HTTP layer on a 100-number query (GloVe's dimension), each piece
 * alone: what src/api does around a search (benchmarks/FINDINGS.md, the lean request path).
 */
function httpSteps(queries: number[][]): Record<string, number> {
  const out: Record<string, number> = {};
  let i = 0;
  const next = () => (i = (i + 1) % queries.length);
  const bodies = queries.map((q) => JSON.stringify({ vector: q, k: 10, include: [] }));
  const values = bodies.map((b) => JSON.parse(b) as unknown);
  out['JSON.parse of the query body'] = time(() => JSON.parse(bodies[next()]!));
  out['parse(queryBody) (as src/api/v1/schemas.ts has it now)'] = time(() => parse(queryBody, values[next()]));
  const former = z.array(z.number({ error: 'expected numbers' })).min(1, 'must not be empty').max(65_536);
  out['  for comparison: the former z.array(z.number()) on the vector alone'] = time(() => former.parse(queries[next()]));
  out['  for comparison: a loop of typeof/Number.isFinite on the vector alone'] = time(() => {
    const v = queries[next()]!;
    let ok = true;
    for (let j = 0; j < v.length; j++) if (typeof v[j] !== 'number' || !Number.isFinite(v[j])) ok = false;
    return ok;
  });

  const hits = Array.from({ length: 10 }, (_, j) => ({ documentId: `doc-${j}`, chunkIndex: 0, score: 0.9 - j / 100 }));
  const result: SearchResult = { hits, mode: 'vector', plan: { vector: 'hnsw' }, tookMs: 0.123 };
  out['searchView + JSON.stringify (10 hits, include [])'] = time(() => JSON.stringify(searchView(result)));
  const full: SearchResult = { ...result, hits: hits.map((h, j) => ({ ...h, text: `the text of document ${j}, about a hundred characters long, as a short passage would be.`, metadata: { n: j, kind: 'odd', tags: ['a', 'b'] } })) };
  out['searchView + JSON.stringify (10 hits, include [text, metadata])'] = time(() => JSON.stringify(searchView(full)));

  // A pino line as app.ts writes it, to /dev/null (a pipe to a log shipper costs more, not less).
  const sink = pino.destination({ dest: '/dev/null', sync: true });
  const line = { method: 'POST', url: '/v1/collections/o/query', status: 200, ms: 0.4321, key: 'anonymous' };
  for (const level of ['info', 'warn'] as const) {
    const log = createLogger(level, sink);
    out[`"request completed" at info, logger level ${level} (inside requestContext.run)`] = requestContext.run({ reqId: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff' }, () =>
      time(() => log.info(line, 'request completed')),
    );
  }
  out['requestContext.run (AsyncLocalStorage) around a call'] = time(() => requestContext.run({ reqId: 'x' }, () => 1));
  out['crypto.randomUUID (x-request-id)'] = time(() => crypto.randomUUID());

  const registry = new client.Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new client.Counter({ name: 'r_total', help: 'h', labelNames, registers: [registry] });
  const latency = new client.Histogram({ name: 'l_seconds', help: 'h', labelNames, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  out['metrics: startTimer, end(labels), counter.inc(labels)'] = time(() => {
    const end = latency.startTimer();
    const labels = { method: 'POST', route: '/v1/collections/:name/query', status: '200' };
    end(labels);
    requests.inc(labels);
  });
  const children = new Map<string, { h: client.Histogram.Internal<string>; c: client.Counter.Internal }>();
  out['metrics: the same through a cached child per label set'] = time(() => {
    const t0 = process.hrtime.bigint();
    const key = 'POST /v1/collections/:name/query 200';
    let ch = children.get(key);
    if (!ch) {
      ch = { h: latency.labels('POST', '/v1/collections/:name/query', '200'), c: requests.labels('POST', '/v1/collections/:name/query', '200') };
      children.set(key, ch);
    }
    ch.h.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    ch.c.inc();
  });

  const req = new http.IncomingMessage(new net.Socket());
  const res = new http.ServerResponse(req);
  const mw = helmet();
  const noop = () => undefined;
  out['helmet() middleware (sets its headers on a ServerResponse)'] = time(() => mw(req, res, noop));
  const headers = Object.entries(res.getHeaders());
  out['  for comparison: setting the same headers from a precomputed list'] = time(() => {
    for (const [k, v] of headers) res.setHeader(k, v as string);
  });
  return out;
}

async function main(): Promise<void> {
  if (args.only === 'http-steps') {
    const ds = loadDataset('glove', { n: 1000, nq: 200 });
    const qs = Array.from({ length: ds.nq }, (_, q) => Array.from(ds.queries.subarray(q * ds.dim, q * ds.dim + ds.dim)));
    process.stdout.write(`HTTP layer steps, per request, median, microseconds (${ds.dim}-number query vector):\n`);
    for (const [k, v] of Object.entries(httpSteps(qs))) process.stdout.write(`${v.toFixed(2).padStart(9)}  ${k}\n`);
    return;
  }
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
