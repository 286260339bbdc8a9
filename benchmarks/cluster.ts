// Cluster mode (issue 17, docs/cluster.md) against a standalone Quiver, in the same run and on the
// same machine: a real 3-node NATS JetStream cluster (Debian's nats-server, test/cluster/
// nats-cluster.ts), an api-role Quiver, two replica-role Quivers and one standalone Quiver, each
// its own `node --import tsx src/main.ts` process, plus a fake Bedrock (test/helpers/
// fake-bedrock.ts) answering after a drawn latency, so that embedding is remote-bound.
// Every figure is reported beside a baseline measured in the same minutes:
//   1. write latency: 20-document PUTs, one at a time, alternating between the api node (202 once
//      JetStream acked, R=3) and the standalone server (200 once committed), the same batches to
//      both; client vectors and texts (built-in model);
//   2. replica lag under a sustained write load, twice: saturating (--lag-writers closed-loop
//      writers and a probe writer on the api node), then paced (open loop) at --lag-paced-share of
//      the apply rate the first run measured; sampled every 200 ms, how far each replica's applied
//      sequence is behind the highest acknowledged one, and, for probed writes, the time from the
//      202 to the write being readable on a replica (GET with min_seq);
//   3. query QPS, closed loop at --concurrency, against one replica, two replicas (round robin over
//      their HTTP ports) and the standalone server, the same data and query vectors;
//   4. ingest documents/s when embedding is remote (Titan v2 on the fake Bedrock at --bedrock-ms):
//      standalone (PUT, 200 after embedding), replicas embedding on apply, and 1 and 2 ingest
//      workers (QUIVER_ROLE=worker) when this build has that role ("not available" otherwise).
// Every process started here is stopped on the way out, also on failure, on SIGINT/SIGTERM and
// when the run overruns --budget-s.
//   node --import tsx benchmarks/cluster.ts --out file.json [--quick] [--dim 384] [--batch 20]
//     [--write-batches 100] [--lag-seconds 10] [--lag-writers 4] [--lag-paced-share 0.5] [--query-docs 5000]
//     [--query-seconds 5] [--query-reps 3] [--concurrency 8] [--ingest-docs 600]
//     [--ingest-writers 4] [--bedrock-ms 50-150] [--budget-s 420]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { FakeBedrock } from '../test/helpers/fake-bedrock.js';
import { NatsCluster, natsServerVersion } from '../test/cluster/nats-cluster.js';
import type { ClusterResult, IngestRow } from './lib/cluster-report.js';
import { startServer } from './lib/server.js';
import type { RunningServer } from './lib/server.js';
import { englishDocuments } from './lib/text.js';
import { gaussian, log, machine, median, percentile, rng, sleep } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    dim: { type: 'string' },
    batch: { type: 'string' },
    'write-batches': { type: 'string' },
    'lag-seconds': { type: 'string' },
    'lag-writers': { type: 'string' },
    'lag-paced-share': { type: 'string' },
    'query-docs': { type: 'string' },
    'query-seconds': { type: 'string' },
    'query-reps': { type: 'string' },
    concurrency: { type: 'string' },
    'ingest-docs': { type: 'string' },
    'ingest-writers': { type: 'string' },
    'bedrock-ms': { type: 'string' },
    'budget-s': { type: 'string' },
  },
});

/** "50-150" → [50, 150]; "100" → [100, 100]. */
function latencyRange(text: string): [number, number] {
  const [lo = NaN, hi = lo, ...rest] = text.split('-').map(Number);
  return rest.length > 0 ? [NaN, NaN] : [lo, hi];
}

const q = args.quick;
const num = (v: string | undefined, full: number, quick: number) => (v === undefined ? (q ? quick : full) : Number(v));
const CFG = {
  dim: num(args.dim, 384, 384),
  batch: num(args.batch, 20, 20),
  writeBatches: num(args['write-batches'], 100, 30),
  lagSeconds: num(args['lag-seconds'], 10, 5),
  lagWriters: num(args['lag-writers'], 4, 4),
  lagPacedShare: num(args['lag-paced-share'], 0.5, 0.5),
  queryDocs: num(args['query-docs'], 5000, 1000),
  querySeconds: num(args['query-seconds'], 5, 2),
  queryReps: num(args['query-reps'], 3, 1),
  concurrency: num(args.concurrency, 8, 8),
  ingestDocs: num(args['ingest-docs'], 600, 160),
  ingestWriters: num(args['ingest-writers'], 4, 4),
  bedrockMs: latencyRange(args['bedrock-ms'] ?? '50-150'),
  budgetS: num(args['budget-s'], 420, 240),
};
for (const [k, v] of Object.entries(CFG)) {
  const bad = Array.isArray(v) ? v.some((x) => !Number.isFinite(x) || x < 0) || v[0] > v[1] : !Number.isFinite(v) || v <= 0;
  if (bad) throw new Error(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: expected a positive number${Array.isArray(v) ? ' or a range such as 50-150' : ''}`);
}

const TITAN = 'amazon.titan-embed-text-v2:0';
const TITAN_DIM = 256;
const QUERY_VECTORS = 200;
/** Unmeasured write batches before the measured ones. */
const WARM_BATCHES = 3;
/** Requests in flight per Quiver to Bedrock (the default, stated in the results). */
const BEDROCK_CONCURRENCY = 8;
/** The longest any wait here lasts (a replica catching up, a worker's backlog) on a busy machine. */
const PATIENCE_MS = 120_000;

// ---------------------------------------------------------------- processes and clean-up

const cleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | undefined;
/** Stops everything started, newest first; safe to call more than once. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        log(`clean-up: ${String(err)}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process this benchmark started`);
    void cleanup().finally(() => process.exit(1));
  });
}

/** SIGTERM, then SIGKILL if the process has not exited within 20 s. */
async function stopProcess(s: RunningServer): Promise<void> {
  const timer = setTimeout(() => {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 20_000);
  await s.stop();
  clearTimeout(timer);
}

/** One Quiver process and a keep-alive connection pool to it. */
class Node {
  readonly pool: Pool;
  constructor(
    readonly name: string,
    readonly proc: RunningServer,
    connections: number,
  ) {
    this.pool = new Pool(proc.url, { connections, pipelining: 1 });
  }

  async send(method: 'GET' | 'PUT' | 'POST' | 'DELETE', p: string, body?: string): Promise<{ status: number; text: string }> {
    const r = await this.pool.request({ path: p, method, headers: { 'content-type': 'application/json' }, body });
    return { status: r.statusCode, text: await r.body.text() };
  }

  /** Sends and expects `status`; returns the parsed answer. */
  async expect<T>(status: number, method: 'GET' | 'PUT' | 'POST' | 'DELETE', p: string, body?: string): Promise<T> {
    const r = await this.send(method, p, body);
    if (r.status !== status) throw new Error(`${this.name}: ${method} ${p}: expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
    return JSON.parse(r.text) as T;
  }
}

async function startNode(name: string, env: Record<string, string>, connections: number): Promise<Node> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `quiver-bench-cluster-${name}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const proc = await startServer(dir, env);
  const node = new Node(name, proc, connections);
  cleanups.push(async () => {
    await node.pool.close();
    await stopProcess(proc);
  });
  return node;
}

// ---------------------------------------------------------------- data

interface Ack {
  accepted: number;
  stream: string;
  seq: number;
}
interface CollectionView {
  collection: { document_count: number; vector_count: number };
}

/** Random unit vectors as JSON arrays (made once, so the clients spend little CPU on them). */
function vectorPool(n: number, seed: number): string[] {
  const g = gaussian(rng(seed));
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: CFG.dim }, g);
    const norm = Math.hypot(...v) || 1;
    return `[${v.map((x) => Math.fround(x / norm)).join(',')}]`;
  });
}

const vectors = vectorPool(2048, 42);
const vectorBatch = (prefix: string, from: number, n: number) => `{"documents":[${Array.from({ length: n }, (_, i) => `{"id":"${prefix}${from + i}","vector":${vectors[(from + i) % vectors.length]!}}`).join(',')}]}`;
/** Texts made unique by their number, so no embedding cache answers for the provider. */
const texts = englishDocuments(4000, 7);
const textBatch = (prefix: string, from: number, n: number) =>
  JSON.stringify({ documents: Array.from({ length: n }, (_, i) => ({ id: `${prefix}${from + i}`, text: `${texts[(from + i) % texts.length]!} (note ${prefix}${from + i})` })) });

function stats(xs: number[]): { n: number; p50_ms: number; p99_ms: number } {
  return { n: xs.length, p50_ms: +percentile(xs, 50).toFixed(2), p99_ms: +percentile(xs, 99).toFixed(2) };
}
const ratio = (a: number, b: number) => +(a / b).toFixed(2);

/** Polls until `check` returns a value; fails after PATIENCE_MS naming what it waited for. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${PATIENCE_MS / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Waits until the replica has applied `seq` of the collection's stream (a read with min_seq). */
async function applied(replica: Node, collection: string, seq: number): Promise<void> {
  await waitFor(`${replica.name} to apply ${collection} up to ${seq}`, async () => {
    const r = await replica.send('GET', `/v1/collections/${collection}?min_seq=${seq}`);
    return r.status === 200 ? true : undefined;
  });
}

/** The applied sequence of one collection on a replica's /metrics. */
async function appliedSeq(replica: Node, collection: string): Promise<number | undefined> {
  const text = (await replica.send('GET', '/metrics')).text;
  const m = new RegExp(`^quiver_cluster_applied_seq\\{collection="${collection}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

// ---------------------------------------------------------------- 1. write latency

async function writeLatency(api: Node, standalone: Node) {
  const out: Partial<ClusterResult['write']> = {};
  for (const kind of ['vectors', 'text'] as const) {
    const name = `w_${kind}`;
    const spec = kind === 'vectors' ? { name, embedder: { provider: 'none' }, dimension: CFG.dim, metric: 'cosine' } : { name, embedder: { provider: 'local' } };
    await api.expect(201, 'POST', '/v1/collections', JSON.stringify(spec));
    await standalone.expect(201, 'POST', '/v1/collections', JSON.stringify(spec));
    const cluster: number[] = [];
    const alone: number[] = [];
    let last = 0;
    // A few unmeasured batches first (connections, the model's first load on the standalone side).
    for (let b = -WARM_BATCHES; b < CFG.writeBatches; b++) {
      const body = kind === 'vectors' ? vectorBatch('d', (b + WARM_BATCHES) * CFG.batch, CFG.batch) : textBatch('d', (b + WARM_BATCHES) * CFG.batch, CFG.batch);
      // Alternate which goes first, so neither always follows the other's work.
      const order = b % 2 === 0 ? (['c', 's'] as const) : (['s', 'c'] as const);
      for (const who of order) {
        const t0 = performance.now();
        if (who === 'c') last = (await api.expect<Ack>(202, 'PUT', `/v1/collections/${name}/documents`, body)).seq;
        else await standalone.expect(200, 'PUT', `/v1/collections/${name}/documents`, body);
        if (b >= 0) (who === 'c' ? cluster : alone).push(performance.now() - t0);
      }
    }
    const c = stats(cluster);
    const s = stats(alone);
    out[kind] = { cluster_202: c, standalone_200: s, ratio_p50: ratio(c.p50_ms, s.p50_ms), ratio_p99: ratio(c.p99_ms, s.p99_ms), last_seq: last };
    log(`write ${kind}: cluster 202 p50 ${c.p50_ms} p99 ${c.p99_ms} ms; standalone 200 p50 ${s.p50_ms} p99 ${s.p99_ms} ms`);
  }
  return out as ClusterResult['write'];
}

// ---------------------------------------------------------------- 2. replica lag

type LagLoad = { kind: 'saturating'; writers: number } | { kind: 'paced'; docsPerS: number };

/**
 * One lag measurement on collection `name` for --lag-seconds. Saturating: closed-loop writers plus
 * a probe writer; paced: one batch every batch/docsPerS seconds, sent without waiting for the
 * previous answer (open loop), every one of them probed.
 */
async function lagRun(api: Node, replicas: Node[], name: string, load: LagLoad): Promise<ClusterResult['lag'][number]> {
  const first = await api.expect<Ack>(202, 'PUT', `/v1/collections/${name}/documents`, vectorBatch('warm', 0, CFG.batch));
  for (const r of replicas) await applied(r, name, first.seq);
  let maxAcked = first.seq;
  const ackMs: number[] = [];
  const visibleMs: number[] = [];
  const behind: number[] = [];
  let documents = 0;
  let stop = false;
  const started = performance.now();
  const deadline = started + CFG.lagSeconds * 1000;
  // A probed write is read back on a replica (alternating) with min_seq; its writer does not wait
  // for that read. The reads have their own connections, so a held min_seq read never queues
  // behind another.
  const probePools = replicas.map((r) => new Pool(r.proc.url, { connections: 256, pipelining: 1 }));
  const checks: Promise<void>[] = [];
  const visible = async (id: string, b: number, seq: number, t202: number) => {
    const r = await probePools[b % probePools.length]!.request({ path: `/v1/collections/${name}/documents/${id}?min_seq=${seq}`, method: 'GET' });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`probe read on ${replicas[b % replicas.length]!.name}: ${r.statusCode} ${text.slice(0, 300)}`);
    visibleMs.push(performance.now() - t202);
  };
  const write = async (prefix: string, b: number, probed: boolean) => {
    const t0 = performance.now();
    const ack = await api.expect<Ack>(202, 'PUT', `/v1/collections/${name}/documents`, vectorBatch(prefix, b * CFG.batch, CFG.batch));
    const t202 = performance.now();
    ackMs.push(t202 - t0);
    maxAcked = Math.max(maxAcked, ack.seq);
    documents += CFG.batch;
    if (probed) checks.push(visible(`${prefix}${b * CFG.batch}`, b, ack.seq, t202));
  };
  const closedLoop = async (prefix: string, probed: boolean) => {
    for (let b = 0; performance.now() < deadline; b++) await write(prefix, b, probed);
  };
  const paced = async (docsPerS: number) => {
    const everyMs = (CFG.batch / docsPerS) * 1000;
    const sends: Promise<void>[] = [];
    for (let b = 0; started + b * everyMs < deadline; b++) {
      await sleep(Math.max(0, started + b * everyMs - performance.now()));
      sends.push(write('p', b, true));
    }
    await Promise.all(sends);
  };
  const sampler = async () => {
    while (!stop) {
      const head = maxAcked;
      for (const r of replicas) {
        const a = await appliedSeq(r, name);
        if (a !== undefined) behind.push(Math.max(0, head - a));
      }
      await sleep(200);
    }
  };
  const sampling = sampler();
  let loadSeconds = 0;
  let drainMs = 0;
  try {
    if (load.kind === 'paced') await paced(load.docsPerS);
    else await Promise.all([...Array.from({ length: load.writers }, (_, w) => closedLoop(`w${w}_`, false)), closedLoop('p', true)]);
    loadSeconds = (performance.now() - started) / 1000;
    const drainStart = performance.now();
    for (const r of replicas) await applied(r, name, maxAcked);
    drainMs = performance.now() - drainStart;
    await Promise.all(checks);
  } finally {
    stop = true;
    await sampling;
    await Promise.allSettled(checks);
    await Promise.all(probePools.map((p) => p.close()));
  }
  const result = {
    load: load.kind === 'paced' ? `paced at ${Math.round(load.docsPerS)} documents/s` : `${load.writers + 1} closed-loop writers`,
    seconds: +loadSeconds.toFixed(1),
    messages: maxAcked - first.seq,
    documents_per_s: Math.round(documents / loadSeconds),
    ack: stats(ackMs),
    behind_messages: { samples: behind.length, p50: percentile(behind, 50), p99: percentile(behind, 99), max: Math.max(0, ...behind) },
    visible_after_202: stats(visibleMs),
    drain_after_load_ms: Math.round(drainMs),
    applied_documents_per_s: Math.round(documents / (loadSeconds + drainMs / 1000)),
  };
  log(`lag, ${result.load}: ${result.documents_per_s} docs/s acked; behind p50 ${result.behind_messages.p50} p99 ${result.behind_messages.p99} max ${result.behind_messages.max} messages; visible after 202 p50 ${result.visible_after_202.p50_ms} p99 ${result.visible_after_202.p99_ms} ms; replicas applied ${result.applied_documents_per_s} docs/s`);
  return result;
}

/**
 * Saturating first (how fast the replicas apply when the log outruns them), then paced at
 * --lag-paced-share of that apply rate: the lag a reader sees when the replicas can keep up.
 */
async function replicaLag(api: Node, replicas: Node[]): Promise<ClusterResult['lag']> {
  const spec = (name: string) => JSON.stringify({ name, embedder: { provider: 'none' }, dimension: CFG.dim, metric: 'cosine' });
  await api.expect(201, 'POST', '/v1/collections', spec('lag_saturating'));
  const saturating = await lagRun(api, replicas, 'lag_saturating', { kind: 'saturating', writers: CFG.lagWriters });
  await api.expect(201, 'POST', '/v1/collections', spec('lag_paced'));
  const paced = await lagRun(api, replicas, 'lag_paced', { kind: 'paced', docsPerS: Math.max(1, saturating.applied_documents_per_s * CFG.lagPacedShare) });
  return [saturating, paced];
}

// ---------------------------------------------------------------- 3. query QPS

async function queryQps(api: Node, replicas: Node[], standalone: Node) {
  const name = 'q';
  const spec = JSON.stringify({ name, embedder: { provider: 'none' }, dimension: CFG.dim, metric: 'cosine' });
  await api.expect(201, 'POST', '/v1/collections', spec);
  await standalone.expect(201, 'POST', '/v1/collections', spec);
  const LOAD = 200;
  let last = 0;
  for (let s = 0; s < CFG.queryDocs; s += LOAD) {
    const body = vectorBatch('d', s, Math.min(LOAD, CFG.queryDocs - s));
    const [ack] = await Promise.all([api.expect<Ack>(202, 'PUT', `/v1/collections/${name}/documents`, body), standalone.expect(200, 'PUT', `/v1/collections/${name}/documents`, body)]);
    last = ack.seq;
  }
  for (const r of replicas) await applied(r, name, last);
  const bodies = vectorPool(QUERY_VECTORS, 9).map((v) => `{"vector":${v},"k":10,"include":[]}`);

  const setups: { setup: string; targets: Node[] }[] = [
    { setup: 'standalone', targets: [standalone] },
    { setup: '1 replica', targets: [replicas[0]!] },
    { setup: '2 replicas (round robin)', targets: replicas },
  ];
  // Unmeasured first: every body once to every target (connections, caches, the index's first pages).
  for (const target of [standalone, ...replicas]) {
    await Promise.all(Array.from({ length: CFG.concurrency }, async (_, c) => {
      for (let i = c; i < bodies.length; i += CFG.concurrency) await target.expect(200, 'POST', `/v1/collections/${name}/query`, bodies[i]);
    }));
  }
  const runs = new Map<string, { qps: number; lat: number[] }[]>(setups.map((s) => [s.setup, []]));
  for (let rep = 0; rep < CFG.queryReps; rep++) {
    // The order rotates per repetition, so no setup always runs first or last.
    for (let i = 0; i < setups.length; i++) {
      const { setup, targets } = setups[(i + rep) % setups.length]!;
      let next = 0;
      const lat: number[] = [];
      const started = performance.now();
      const deadline = started + CFG.querySeconds * 1000;
      const client = async () => {
        while (performance.now() < deadline) {
          const n = next++;
          const t0 = performance.now();
          const r = await targets[n % targets.length]!.send('POST', `/v1/collections/${name}/query`, bodies[n % bodies.length]);
          if (r.status !== 200) throw new Error(`query (${setup}): ${r.status} ${r.text.slice(0, 300)}`);
          lat.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: CFG.concurrency }, client));
      runs.get(setup)!.push({ qps: lat.length / ((performance.now() - started) / 1000), lat });
    }
  }
  const base = median(runs.get('standalone')!.map((r) => r.qps));
  const rows = setups.map(({ setup }) => {
    const rs = runs.get(setup)!;
    const qps = median(rs.map((r) => r.qps));
    return { setup, qps: Math.round(qps), qps_runs: rs.map((r) => Math.round(r.qps)), ...stats(rs.flatMap((r) => r.lat)), ratio_to_standalone: ratio(qps, base) };
  });
  for (const r of rows) log(`query ${r.setup}: ${r.qps} QPS (${r.ratio_to_standalone}× standalone), p50 ${r.p50_ms} p99 ${r.p99_ms} ms`);
  return { documents: CFG.queryDocs, concurrency: CFG.concurrency, seconds_per_run: CFG.querySeconds, reps: CFG.queryReps, rows };
}

// ---------------------------------------------------------------- 4. remote-bound ingest

/** Sends `n` text documents in batches from `writers` clients; resolves when every write was answered. */
async function sendTexts(target: Node, collection: string, status: number, n: number, writers: number): Promise<void> {
  let next = 0;
  const writer = async () => {
    for (;;) {
      const from = next;
      next += CFG.batch;
      if (from >= n) return;
      // Ids (and so texts) differ per collection: a worker's embedding cache must not answer a later row.
      await target.expect(status, 'PUT', `/v1/collections/${collection}/documents`, textBatch(`${collection}_`, from, Math.min(CFG.batch, n - from)));
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
}

/** Waits until every replica holds `n` vectors in the collection. */
async function allEmbedded(replicas: Node[], collection: string, n: number): Promise<void> {
  for (const r of replicas) {
    await waitFor(`${r.name} to hold ${n} embedded documents of ${collection}`, async () => {
      const got = await r.send('GET', `/v1/collections/${collection}`);
      if (got.status !== 200) return undefined;
      return (JSON.parse(got.text) as CollectionView).collection.vector_count >= n ? true : undefined;
    });
  }
}

/** Times `run` (after an untimed `prepare`, e.g. creating the collection) and counts the Bedrock calls it made. */
async function ingestRow(setup: string, fake: FakeBedrock, run: () => Promise<void>, prepare: () => Promise<unknown>): Promise<IngestRow> {
  let started = 0;
  try {
    await prepare();
    fake.reset();
    started = performance.now();
    await run();
  } catch (err) {
    log(`ingest ${setup}: not measured: ${(err as Error).message}`);
    return { setup, measured: false, reason: (err as Error).message.split('\n')[0]!.slice(0, 300) };
  }
  const seconds = (performance.now() - started) / 1000;
  const row = {
    setup,
    measured: true,
    docs_per_s: Math.round(CFG.ingestDocs / seconds),
    seconds: +seconds.toFixed(2),
    bedrock_calls_per_doc: +(fake.requests.length / CFG.ingestDocs).toFixed(2),
    bedrock_max_in_flight: fake.maxInFlight,
  };
  log(`ingest ${setup}: ${row.docs_per_s} docs/s (${row.seconds} s; ${row.bedrock_calls_per_doc} Bedrock calls a document, at most ${row.bedrock_max_in_flight} in flight)`);
  return row;
}

/** Starts ingest worker number `n`; returns why not when it cannot (this build may not have the role). */
async function startWorker(env: Record<string, string>, n: number): Promise<string | undefined> {
  try {
    // Ready (its /readyz 200) once it can pull from NATS.
    await startNode(`worker${n}`, { ...env, QUIVER_ROLE: 'worker' }, 1);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    const reason = /QUIVER_ROLE/.test(message) ? 'workers: not available in this build' : `worker ${n} did not start: ${message.slice(0, 300)}`;
    log(reason);
    return reason;
  }
}

async function ingest(api: Node, replicas: Node[], standalone: Node, fake: FakeBedrock, env: Record<string, string>) {
  const N = CFG.ingestDocs;
  const spec = (name: string) => JSON.stringify({ name, embedder: { provider: 'bedrock', model: TITAN, dimensions: TITAN_DIM } });
  const rows: IngestRow[] = [];
  rows.push(
    await ingestRow('standalone (PUT answers after embedding)', fake, () => sendTexts(standalone, 'i_alone', 200, N, CFG.ingestWriters), () => standalone.expect(201, 'POST', '/v1/collections', spec('i_alone'))),
  );
  const base = rows[0]!.docs_per_s;
  const BASELINE = 'cluster, replicas embed on apply (2 replicas)';
  const workerRow = (count: number) => `cluster, ${count} ingest worker${count > 1 ? 's' : ''} (2 replicas)`;
  const measureWorkers = (count: number) =>
    ingestRow(
      workerRow(count),
      fake,
      async () => {
        await sendTexts(api, `i_w${count}`, 202, N, CFG.ingestWriters);
        await allEmbedded(replicas, `i_w${count}`, N);
      },
      () => api.expect(201, 'POST', '/v1/collections', spec(`i_w${count}`)),
    );
  // Whether this build has ingest workers decides the rows: without them each replica embeds every
  // document itself when it applies the log; with them replicas never embed (a text batch waits
  // for a worker), so that baseline cannot be measured on such a build.
  const unavailable = await startWorker(env, 1);
  if (unavailable) {
    rows.push(
      await ingestRow(
        BASELINE,
        fake,
        async () => {
          await sendTexts(api, 'i_apply', 202, N, CFG.ingestWriters);
          await allEmbedded(replicas, 'i_apply', N);
        },
        () => api.expect(201, 'POST', '/v1/collections', spec('i_apply')),
      ),
    );
    for (const count of [1, 2]) rows.push({ setup: workerRow(count), measured: false, reason: unavailable });
  } else {
    rows.push({ setup: BASELINE, measured: false, reason: 'not in this build: replicas apply the vectors the workers publish and never embed' });
    // The first worker embeds the text batches written before it existed (the write-latency
    // phase's) first: wait for those, so that backlog is not timed as this row's work.
    await allEmbedded(replicas, 'w_text', (CFG.writeBatches + WARM_BATCHES) * CFG.batch);
    rows.push(await measureWorkers(1));
    const second = await startWorker(env, 2);
    rows.push(second ? { setup: workerRow(2), measured: false, reason: second } : await measureWorkers(2));
  }
  return {
    documents: N,
    batch: CFG.batch,
    writers: CFG.ingestWriters,
    model: TITAN,
    dimensions: TITAN_DIM,
    bedrock_latency_ms: CFG.bedrockMs,
    bedrock_concurrency_per_process: BEDROCK_CONCURRENCY,
    rows: rows.map((r) => ({ ...r, ratio_to_standalone: r.docs_per_s !== undefined && base !== undefined ? ratio(r.docs_per_s, base) : undefined })),
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (!args.out) throw new Error('--out file.json is required');
  const version = natsServerVersion();
  if (!version) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const watchdog = setTimeout(() => {
    log(`over the --budget-s of ${CFG.budgetS} s: stopping every process and giving up`);
    void cleanup().finally(() => process.exit(1));
  }, CFG.budgetS * 1000);
  watchdog.unref();
  const started = Date.now();
  const [lo, hi] = CFG.bedrockMs;
  const draw = rng(11);
  const fake = await FakeBedrock.start({ latencyMs: () => lo + draw() * (hi - lo) });
  cleanups.push(() => fake.close());
  const nats = await NatsCluster.start();
  cleanups.push(() => nats.stop());
  log(`${version}: 3 nodes up; starting the api node, two replicas and a standalone Quiver`);
  const bedrockEnv = {
    QUIVER_BEDROCK_ENDPOINT: fake.url,
    QUIVER_BEDROCK_REGION: 'us-east-1',
    QUIVER_BEDROCK_CONCURRENCY: String(BEDROCK_CONCURRENCY),
    AWS_ACCESS_KEY_ID: 'AKIDQUIVERBENCH',
    AWS_SECRET_ACCESS_KEY: 'quiver-bench-secret',
    AWS_CONFIG_FILE: '/nonexistent/quiver-bench/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/quiver-bench/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The SDK's notice that its 2027 releases need Node 22, once per process: noise in the bench's output.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const clusterEnv = { ...bedrockEnv, QUIVER_NATS_URL: nats.url, QUIVER_CLUSTER_MIN_SEQ_WAIT_MS: String(PATIENCE_MS) };
  const conns = Math.max(CFG.concurrency, CFG.lagWriters + 1, CFG.ingestWriters);
  // One at a time: four tsx start-ups at once on two busy cores take longer than in turn.
  const api = await startNode('api', { ...clusterEnv, QUIVER_ROLE: 'api' }, conns);
  const replicas = [await startNode('replica1', { ...clusterEnv, QUIVER_ROLE: 'replica' }, conns), await startNode('replica2', { ...clusterEnv, QUIVER_ROLE: 'replica' }, conns)];
  const standalone = await startNode('standalone', bedrockEnv, conns);

  const write = await writeLatency(api, standalone);
  const lag = await replicaLag(api, replicas);
  const query = await queryQps(api, replicas, standalone);
  const ing = await ingest(api, replicas, standalone, fake, clusterEnv);
  const result = {
    measured_at: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    nats_server: version,
    config: CFG,
    processes: '3 nats-server, 1 api Quiver, 2 replica Quivers, 1 standalone Quiver (and ingest workers when measured), the load generator and the fake Bedrock: all on this one machine',
    write,
    lag,
    query,
    ingest: ing,
    machine: machine(),
  } satisfies ClusterResult;
  fs.writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  clearTimeout(watchdog);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
