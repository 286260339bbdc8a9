// Ingest with the default local model, end to end, against the bare embedder, in one run:
//  1. bare embedder: LocalEmbedder (DEFAULT_LOCAL_MODEL, the default pool of one worker per core)
//     in this process, embedding N short English documents the way a job batch sends them
//     (slices of QUIVER_INGEST_BATCH texts, each split into concurrent calls of 64): texts/s;
//  2. the real server (`node --import tsx src/main.ts`, QUIVER_PORT=0, a temp data dir):
//     POST /v1/collections/{name}/ingest with N documents, timed from the POST to the job's status
//     "done" (GET /v1/jobs/{id} polled every 15 ms), and PUT .../documents in batches of 100,
//     each against QUIVER_SYNC=full (the default) and QUIVER_SYNC=normal; repetitions are
//     interleaved with the bare-embedder runs, so every ratio compares figures of the same minutes;
//  3. responsiveness: GET /healthz and a text query (mode vector, k 10) against a separate
//     collection, sampled one request at a time while a large job (BIG documents) runs, and for
//     the same length of time on the idle server just before it; at QUIVER_INGEST_BATCH 256 (the
//     default) and 64.
// Every repetition uses texts of its own seed, so the server's embedding cache never answers.
//   node --import tsx benchmarks/ingest.ts --out file.json [--quick] [--docs N] [--reps R] [--big N] [--big-reps R]
//   [--profile DIR]   also writes the servers' CPU profiles (--cpu-prof) of the responsiveness runs into DIR
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_MODELS_DIR, DEFAULT_LOCAL_MODEL, loadConfig } from '../src/config/index.js';
import { LocalEmbedder } from '../src/embedding/index.js';
import type { Embedder } from '../src/embedding/index.js';
import { embedInBatches } from '../src/embedding/embedder.js';
import { HttpLoad } from './lib/http.js';
import { startServer } from './lib/server.js';
import type { RunningServer } from './lib/server.js';
import { englishDocuments, englishQueries } from './lib/text.js';
import { summarize } from './lib/cpuprofile.js';
import { log, median, percentile, sleep } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    docs: { type: 'string' },
    reps: { type: 'string' },
    big: { type: 'string' },
    'big-reps': { type: 'string' },
    batches: { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string' },
  },
});

const quick = args.quick;
const N = Number(args.docs ?? 1000);
const REPS = Number(args.reps ?? (quick ? 2 : 5));
const BIG = Number(args.big ?? (quick ? 4000 : 20_000));
const BIG_REPS = Number(args['big-reps'] ?? (quick ? 1 : 2));
const BATCHES = (args.batches ?? '256,64').split(',').map(Number);
const PROBE_DOCS = quick ? 500 : 2000;
const SYNC_BATCH = 100;
const POLL_MS = 15;
/** Pause of the latency sampler between two requests (it sends one at a time). */
const SAMPLE_PAUSE_MS = 2;
const K = 10;

const defaults = loadConfig({});
const POOL = defaults.ingest.embedWorkers;
const DEFAULT_BATCH = defaults.ingest.batch;

interface JobView {
  id: string;
  status: string;
  total: number;
  done: number;
  skipped: number;
  failed: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const round = (x: number, d = 1) => +x.toFixed(d);

// ---------------------------------------------------------------- 1. bare embedder

/** texts/s, and the cores this process (main thread, embedding workers and their ONNX threads) used meanwhile. */
async function bareRun(embedder: Embedder, texts: string[]): Promise<{ texts_per_s: number; cores: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // As a job does: one slice of QUIVER_INGEST_BATCH documents at a time, each slice split by
  // embedInBatches into calls of maxBatch (64) that are all in flight together.
  for (let i = 0; i < texts.length; i += DEFAULT_BATCH) {
    const v = await embedInBatches(embedder, texts.slice(i, i + DEFAULT_BATCH));
    if (v.some((x) => x === null)) throw new Error('the model gave no vector for a benchmark text');
  }
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { texts_per_s: round(texts.length / seconds), cores: round((c.user + c.system) / 1e6 / seconds, 2) };
}

// ---------------------------------------------------------------- 2. HTTP ingest

/**
 * CPU seconds used so far by a process and by its main thread (Linux /proc, in USER_HZ = 1/100 s),
 * or undefined elsewhere. Over a job, their growth per wall second is the cores each used.
 */
function cpuOf(pid: number): { process: number; main: number } | undefined {
  const ticks = (f: string) => {
    // Fields after the command name "(…)": utime and stime are the 12th and 13th.
    const rest = fs.readFileSync(f, 'utf8').split(') ').pop()!.split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  };
  try {
    return { process: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return undefined;
  }
}

/** Cores used between two cpuOf readings over `seconds` of wall time. */
function coresUsed(a: ReturnType<typeof cpuOf>, b: ReturnType<typeof cpuOf>, seconds: number): { process: number; main_thread: number; other_threads: number } | undefined {
  if (!a || !b) return undefined;
  const p = (b.process - a.process) / seconds;
  const m = (b.main - a.main) / seconds;
  return { process: round(p, 2), main_thread: round(m, 2), other_threads: round(p - m, 2) };
}

async function waitJob(ctl: HttpLoad, id: string, pollMs: number): Promise<JobView> {
  for (;;) {
    const r = await ctl.request('GET', `/v1/jobs/${id}`);
    if (r.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
    const job = (r.json as { job: JobView }).job;
    if (job.status === 'done' || job.status === 'failed' || job.status === 'cancelled') return job;
    await sleep(pollMs);
  }
}

async function createCollection(ctl: HttpLoad, name: string): Promise<void> {
  const r = await ctl.request('POST', '/v1/collections', { name });
  if (r.status !== 201) throw new Error(`creating ${name} answered ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
}

/** POST /ingest → status "done", client-side; and the server's own created_at → finished_at. */
async function jobRun(srv: RunningServer, ctl: HttpLoad, collection: string, texts: string[]) {
  await createCollection(ctl, collection);
  const body = { documents: texts.map((text, i) => ({ id: `d${i}`, text })) };
  const cpu0 = cpuOf(srv.pid);
  const t0 = performance.now();
  const post = await ctl.request('POST', `/v1/collections/${collection}/ingest`, body);
  const postMs = performance.now() - t0;
  if (post.status !== 202) throw new Error(`POST /ingest answered ${post.status}: ${JSON.stringify(post.json).slice(0, 300)}`);
  const job = await waitJob(ctl, (post.json as { job: JobView }).job.id, POLL_MS);
  const seconds = (performance.now() - t0) / 1000;
  const cores = coresUsed(cpu0, cpuOf(srv.pid), seconds);
  if (job.status !== 'done' || job.done !== texts.length) throw new Error(`job ended ${job.status} with ${job.done}/${job.total} done, ${job.failed} failed: ${job.error ?? ''}`);
  const serverSeconds = (Date.parse(job.finished_at!) - Date.parse(job.created_at)) / 1000;
  return { docs_per_s: round(texts.length / seconds), seconds: round(seconds, 3), server_seconds: round(serverSeconds, 3), post_ms: round(postMs), cores };
}

/** PUT /documents in batches of 100, one request at a time, each answered once durable. */
async function syncRun(srv: RunningServer, ctl: HttpLoad, collection: string, texts: string[]) {
  await createCollection(ctl, collection);
  const cpu0 = cpuOf(srv.pid);
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += SYNC_BATCH) {
    const r = await ctl.request('PUT', `/v1/collections/${collection}/documents`, { documents: texts.slice(i, i + SYNC_BATCH).map((text, j) => ({ id: `d${i + j}`, text })) });
    if (r.status !== 200) throw new Error(`PUT /documents answered ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { docs_per_s: round(texts.length / seconds), seconds: round(seconds, 3), cores: coresUsed(cpu0, cpuOf(srv.pid), seconds) };
}

// ---------------------------------------------------------------- 3. responsiveness

interface Latencies {
  n: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

const stats = (xs: number[]): Latencies => ({ n: xs.length, p50_ms: round(percentile(xs, 50), 2), p99_ms: round(percentile(xs, 99), 2), max_ms: round(Math.max(...xs), 1) });

/** The probes: GET /healthz (event loop only), a text query (+ the embedding workers), a vector query (no embedding). */
type ProbeKind = 'healthz' | 'query' | 'vector_query';
const KINDS: ProbeKind[] = ['healthz', 'query', 'vector_query'];

interface Probes {
  texts: string[];
  vectors: number[][];
}

/**
 * Each probe in its own loop on its own connection, one request at a time with a 2 ms pause,
 * until stop() says so. When idle, one more connection polls a finished job every 15 ms, as the
 * client waiting for the busy job does, so idle and busy samples see the same client traffic.
 */
async function sample(srv: RunningServer, probes: Probes, jobId: string | undefined, stop: () => boolean): Promise<{ lat: Record<ProbeKind, number[]>; timeline: [number, string, number][] }> {
  const lat: Record<ProbeKind, number[]> = { healthz: [], query: [], vector_query: [] };
  // (ms since start, probe, latency ms) of the slow ones, to see when they happen.
  const timeline: [number, string, number][] = [];
  const started = performance.now();
  const ctl = new HttpLoad(srv.url, 1);
  let polling = jobId !== undefined;
  const poller = (async () => {
    while (polling) {
      await ctl.request('GET', `/v1/jobs/${jobId}`);
      await sleep(POLL_MS);
    }
  })();
  const loop = async (kind: ProbeKind) => {
    const one = new HttpLoad(srv.url, 1);
    try {
      for (let i = 0; !stop(); i++) {
        const q = i % probes.texts.length;
        const t0 = performance.now();
        const r =
          kind === 'healthz'
            ? await one.request('GET', '/healthz')
            : await one.request('POST', '/v1/collections/probe/query', kind === 'query' ? { text: probes.texts[q], k: K, mode: 'vector' } : { vector: probes.vectors[q], k: K, mode: 'vector' });
        const ms = performance.now() - t0;
        if (r.status !== 200) throw new Error(`${kind} probe answered ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`);
        lat[kind].push(ms);
        if (ms > 20) timeline.push([Math.round(t0 - started), kind, round(ms)]);
        await sleep(SAMPLE_PAUSE_MS);
      }
    } finally {
      await one.close();
    }
  };
  try {
    await Promise.all(KINDS.map(loop));
  } finally {
    polling = false;
    await poller;
    await ctl.close();
  }
  timeline.sort((x, y) => x[0] - y[0]);
  return { lat, timeline };
}

interface RespRep {
  idle: { seconds: number } & Record<ProbeKind, Latencies>;
  during: { seconds: number; slow: { over_20ms: number; over_50ms: number; slowest: [number, string, number][] } } & Record<ProbeKind, Latencies>;
  job: { docs_per_s: number; seconds: number; post_ms: number; cores?: ReturnType<typeof coresUsed> };
  /** Every busy and idle sample, to pool the repetitions (not written to the results). */
  raw?: { idle: Record<ProbeKind, number[]>; during: Record<ProbeKind, number[]> };
  /** When the job was seen done (performance.now()), to cut the CPU profile. */
  endedAt?: number;
}

async function responsivenessRep(srv: RunningServer, ctl: HttpLoad, rep: number, batch: number, probes: Probes, finishedJob: string): Promise<RespRep> {
  const texts = englishDocuments(BIG, 5000 + batch * 10 + rep);
  const body = { documents: texts.map((text, i) => ({ id: `d${i}`, text })) };
  const collection = `big_${batch}_${rep}`;
  await createCollection(ctl, collection);
  // Idle: as long as the job is expected to take (its rate from the throughput runs), ≥ 2 s.
  const idleSeconds = Math.max(2, Math.min(15, BIG / expectedRate));
  let t0 = performance.now();
  const idle = await sample(srv, probes, finishedJob, () => performance.now() - t0 > idleSeconds * 1000);
  const idleTook = (performance.now() - t0) / 1000;

  // Busy: the sampler starts with the POST (whose parsing, validation and durable recording of
  // BIG documents are part of what the server does for the job) and stops when the job is done.
  let finished = false;
  const cpu0 = cpuOf(srv.pid);
  t0 = performance.now();
  const postP = ctl.request('POST', `/v1/collections/${collection}/ingest`, body);
  const busyP = sample(srv, probes, undefined, () => finished);
  const post = await postP;
  const postMs = performance.now() - t0;
  if (post.status !== 202) {
    finished = true;
    await busyP;
    throw new Error(`POST /ingest answered ${post.status}: ${JSON.stringify(post.json).slice(0, 300)}`);
  }
  const job = await waitJob(ctl, (post.json as { job: JobView }).job.id, POLL_MS);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = coresUsed(cpu0, cpuOf(srv.pid), seconds);
  finished = true;
  const busy = await busyP;
  if (job.status !== 'done' || job.done !== texts.length) throw new Error(`big job ended ${job.status} with ${job.done}/${job.total} done: ${job.error ?? ''}`);
  const r: RespRep = {
    idle: { seconds: round(idleTook, 2), healthz: stats(idle.lat.healthz), query: stats(idle.lat.query), vector_query: stats(idle.lat.vector_query) },
    during: { seconds: round(seconds, 2), healthz: stats(busy.lat.healthz), query: stats(busy.lat.query), vector_query: stats(busy.lat.vector_query), slow: slowOf(busy.timeline) },
    job: { docs_per_s: round(texts.length / seconds), seconds: round(seconds, 2), post_ms: round(postMs), cores: cpu },
    raw: { idle: idle.lat, during: busy.lat },
    endedAt: performance.now(),
  };
  log(
    `batch ${batch} rep ${rep}: ${BIG} docs in ${seconds.toFixed(1)} s (${r.job.docs_per_s} docs/s, POST ${r.job.post_ms} ms, cores ${JSON.stringify(cpu)}); ` +
      `healthz p50/p99 idle ${r.idle.healthz.p50_ms}/${r.idle.healthz.p99_ms} vs ${r.during.healthz.p50_ms}/${r.during.healthz.p99_ms} ms; ` +
      `text query ${r.idle.query.p50_ms}/${r.idle.query.p99_ms} vs ${r.during.query.p50_ms}/${r.during.query.p99_ms} ms; ` +
      `vector query ${r.idle.vector_query.p50_ms}/${r.idle.vector_query.p99_ms} vs ${r.during.vector_query.p50_ms}/${r.during.vector_query.p99_ms} ms`,
  );
  return r;
}

/** How many samples took over 20 and 50 ms, and the 8 slowest as [ms after the POST, probe, ms]. */
function slowOf(timeline: [number, string, number][]) {
  return {
    over_20ms: timeline.length,
    over_50ms: timeline.filter((x) => x[2] > 50).length,
    slowest: [...timeline].sort((a, b) => b[2] - a[2]).slice(0, 8),
  };
}

/** Documents/s of the default server's jobs, to size the idle sampling window. */
let expectedRate = 2000;

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  // LocalEmbedder's workers are unref'd: something must hold the event loop open in this process.
  const keepAlive = setInterval(() => undefined, 1000);
  const started = performance.now();
  const out: Record<string, unknown> = {
    measured: true,
    measured_at: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    load_average_at_start: os.loadavg().map((x) => round(x, 2)),
    model: DEFAULT_LOCAL_MODEL,
    pool_size: POOL,
    ingest_batch_default: DEFAULT_BATCH,
    documents: N,
    reps: REPS,
  };
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  const clients: HttpLoad[] = [];
  let loaded: Embedder | undefined;
  try {
    const corpus = (rep: number, kind: number) => englishDocuments(N, 1000 * kind + rep);
    const sample0 = corpus(0, 1);
    out.avg_chars = Math.round(sample0.reduce((s, t) => s + t.length, 0) / N);
    out.example = sample0[0];

    // ---- 1 + 2, interleaved per repetition
    const embedder = (loaded = await LocalEmbedder.load({ modelId: DEFAULT_LOCAL_MODEL, searchDirs: [BUILTIN_MODELS_DIR], allowDownload: false, poolSize: POOL }));
    const startOne = async (env: Record<string, string>, nodeArgs: string[] = []) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-ingest-'));
      dirs.push(dir);
      const srv = await startServer(dir, { QUIVER_EMBEDDER: 'local', ...env }, nodeArgs);
      servers.push(srv);
      const ctl = new HttpLoad(srv.url, 2);
      clients.push(ctl);
      return { srv, ctl };
    };
    const syncModes = ['full', 'normal'] as const;
    const srvs = { full: await startOne({ QUIVER_SYNC: 'full' }), normal: await startOne({ QUIVER_SYNC: 'normal' }) };
    // Warm-up (model load in the workers, JIT, SQLite caches): one small job and one PUT each, and the bare embedder.
    await bareRun(embedder, englishDocuments(512, 9001));
    for (const m of syncModes) {
      await jobRun(srvs[m].srv, srvs[m].ctl, 'warm_job', englishDocuments(512, 9002));
      await syncRun(srvs[m].srv, srvs[m].ctl, 'warm_put', englishDocuments(300, 9003));
    }
    const bare: number[] = [];
    const bareCores: number[] = [];
    const runs: Record<(typeof syncModes)[number], { job: Awaited<ReturnType<typeof jobRun>>[]; put: Awaited<ReturnType<typeof syncRun>>[] }> = {
      full: { job: [], put: [] },
      normal: { job: [], put: [] },
    };
    for (let rep = 0; rep < REPS; rep++) {
      // The order of the paths alternates between repetitions, so a drift in the machine's load
      // does not always favour the same one.
      const steps: (() => Promise<void>)[] = [
        async () => {
          const b = await bareRun(embedder, corpus(rep, 1));
          bare.push(b.texts_per_s);
          bareCores.push(b.cores);
        },
        ...syncModes.flatMap((m) => [
          async () => void runs[m].job.push(await jobRun(srvs[m].srv, srvs[m].ctl, `job_${rep}`, corpus(rep, m === 'full' ? 2 : 3))),
          async () => void runs[m].put.push(await syncRun(srvs[m].srv, srvs[m].ctl, `put_${rep}`, corpus(rep, m === 'full' ? 4 : 5))),
        ]),
      ];
      if (rep % 2 === 1) steps.reverse();
      for (const s of steps) await s();
      log(
        `rep ${rep}: bare ${bare[rep]} texts/s; job ${runs.full.job[rep]!.docs_per_s} (normal ${runs.normal.job[rep]!.docs_per_s}) docs/s; ` +
          `PUT ${runs.full.put[rep]!.docs_per_s} (normal ${runs.normal.put[rep]!.docs_per_s}) docs/s`,
      );
    }
    // The probe queries' vectors, from the same model, for the vector-query probe.
    const queries = englishQueries(500, 77);
    const probes: Probes = { texts: queries, vectors: (await embedInBatches(embedder, queries)).map((v) => Array.from(v!)) };
    await embedder.close();
    loaded = undefined;
    const ratios = (xs: { docs_per_s: number }[]) => xs.map((x, i) => round(x.docs_per_s / bare[i]!, 3));
    const coresSummary = (xs: { cores?: ReturnType<typeof coresUsed> }[]) =>
      xs.every((x) => x.cores) ? { process: round(median(xs.map((x) => x.cores!.process)), 2), main_thread: round(median(xs.map((x) => x.cores!.main_thread)), 2) } : undefined;
    const summary = (xs: { docs_per_s: number }[]) => ({ docs_per_s: round(median(xs.map((x) => x.docs_per_s))), ratio_to_bare: round(median(ratios(xs)), 3), ratios: ratios(xs) });
    out.bare = { texts_per_s: round(median(bare)), runs: bare, cores: round(median(bareCores), 2), how: `LocalEmbedder in the benchmark process, pool of ${POOL}; slices of ${DEFAULT_BATCH} texts, each as concurrent calls of ${embedder.maxBatch}` };
    out.http = Object.fromEntries(
      syncModes.map((m) => [
        m,
        {
          job: { ...summary(runs[m].job), cores: coresSummary(runs[m].job), runs: runs[m].job },
          sync_put: { batch: SYNC_BATCH, ...summary(runs[m].put), cores: coresSummary(runs[m].put), runs: runs[m].put },
        },
      ]),
    );
    expectedRate = median(runs.full.job.map((x) => x.docs_per_s));
    for (const m of syncModes) await srvs[m].srv.stop();
    log(`throughput done in ${((performance.now() - started) / 1000).toFixed(0)} s`);

    // ---- 3. responsiveness under a large job, per QUIVER_INGEST_BATCH
    const settings: Record<string, unknown>[] = [];
    const perBatch: { batch: number; srv: RunningServer; ctl: HttpLoad; finishedJob: string; reps: RespRep[] }[] = [];
    for (const batch of BATCHES) {
      const nodeArgs: string[] = [];
      if (args.profile) {
        fs.mkdirSync(path.join(args.profile, `batch-${batch}`), { recursive: true });
        nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile, `batch-${batch}`)}`);
      }
      const { srv, ctl } = await startOne({ QUIVER_INGEST_BATCH: String(batch) }, nodeArgs);
      await createCollection(ctl, 'probe');
      const probeTexts = englishDocuments(PROBE_DOCS, 4242);
      for (let i = 0; i < probeTexts.length; i += 500) {
        const r = await ctl.request('PUT', '/v1/collections/probe/documents', { documents: probeTexts.slice(i, i + 500).map((text, j) => ({ id: `p${i + j}`, text })) });
        if (r.status !== 200) throw new Error(`probe PUT answered ${r.status}`);
      }
      // A finished job to poll while idle (and a warm-up of the job path at this batch size).
      await createCollection(ctl, 'warm');
      const post = await ctl.request('POST', '/v1/collections/warm/ingest', { documents: englishDocuments(1000, 9100 + batch).map((text, i) => ({ id: `w${i}`, text })) });
      if (post.status !== 202) throw new Error(`warm-up job answered ${post.status}`);
      const finishedJob = (post.json as { job: JobView }).job.id;
      await waitJob(ctl, finishedJob, POLL_MS);
      perBatch.push({ batch, srv, ctl, finishedJob, reps: [] });
    }
    // Interleaved: batch 256 rep 0, batch 64 rep 0, batch 256 rep 1, …
    for (let rep = 0; rep < BIG_REPS; rep++) for (const b of perBatch) b.reps.push(await responsivenessRep(b.srv, b.ctl, rep, b.batch, probes, b.finishedJob));
    const kinds = KINDS;
    for (const b of perBatch) {
      const med = (f: (r: RespRep) => number) => round(median(b.reps.map(f)), 2);
      const pooled = (phase: 'idle' | 'during', k: ProbeKind) => stats(b.reps.flatMap((r) => r.raw![phase][k]));
      const last = b.reps[b.reps.length - 1]!;
      await b.srv.stop();
      const tail = (performance.now() - last.endedAt!) / 1000;
      let profile: Record<string, unknown> | undefined;
      if (args.profile) {
        // The main thread's profile (thread 0) over the last job, which ended `tail` s before the process.
        const dir = path.resolve(args.profile, `batch-${b.batch}`);
        const file = fs.readdirSync(dir).find((f) => new RegExp(`^CPU\\.\\d+\\.\\d+\\.${b.srv.pid}\\.0\\.`).test(f));
        if (file) {
          const sum = summarize(path.join(dir, file), { last: last.job.seconds, skipEnd: tail, top: 20, match: /runBatch|commitBatch|apply|\badd |pendingItems|embedTexts|planDocuments|chunkText|validateDocuments|getMany|putMany|write |submit|create |jsonParser|safeParse|postMessage|garbage/ });
          profile = { file: path.join(dir, file), window: { last_s: last.job.seconds, skip_end_s: round(tail, 2) }, ...sum };
          log(`batch ${b.batch} main thread over the last job: busy ${(sum.busy_share * 100).toFixed(0)}%, stretches of 10 ms or more ${JSON.stringify(sum.long_stretches)}`);
        }
      }
      settings.push({
        batch: b.batch,
        default: b.batch === DEFAULT_BATCH,
        docs_per_s: med((r) => r.job.docs_per_s),
        post_ms: med((r) => r.job.post_ms),
        // Server CPU over the job (the load probes included): cores used by the whole process and by its main thread.
        cores: b.reps[0]?.job.cores ? { process: med((r) => r.job.cores!.process), main_thread: med((r) => r.job.cores!.main_thread), other_threads: med((r) => r.job.cores!.other_threads) } : undefined,
        // Medians over the repetitions of each repetition's percentiles.
        idle: Object.fromEntries(kinds.flatMap((k) => [[`${k}_p50_ms`, med((r) => r.idle[k].p50_ms)], [`${k}_p99_ms`, med((r) => r.idle[k].p99_ms)]])),
        during: Object.fromEntries(kinds.flatMap((k) => [[`${k}_p50_ms`, med((r) => r.during[k].p50_ms)], [`${k}_p99_ms`, med((r) => r.during[k].p99_ms)], [`${k}_max_ms`, med((r) => r.during[k].max_ms)]])),
        // Per repetition, busy over the idle figure measured just before it; then the median.
        ratios: Object.fromEntries(kinds.flatMap((k) => [[`${k}_p50`, med((r) => r.during[k].p50_ms / r.idle[k].p50_ms)], [`${k}_p99`, med((r) => r.during[k].p99_ms / r.idle[k].p99_ms)]])),
        // Every repetition's samples together (more samples behind each p99).
        pooled: { idle: Object.fromEntries(kinds.map((k) => [k, pooled('idle', k)])), during: Object.fromEntries(kinds.map((k) => [k, pooled('during', k)])) },
        reps: b.reps.map(({ raw: _raw, endedAt: _end, ...rest }) => rest),
        ...(profile ? { profile } : {}),
      });
    }
    out.responsiveness = {
      big_documents: BIG,
      reps: BIG_REPS,
      probe_documents: PROBE_DOCS,
      how: `three probes, each in its own loop on its own connection, one request at a time with ${SAMPLE_PAUSE_MS} ms pauses: GET /healthz, a text query and a vector query (POST /v1/collections/probe/query, k ${K}, mode "vector", ${probes.texts.length} distinct short queries) against a separate ${PROBE_DOCS.toLocaleString('en-US')}-document collection; the idle window comes just before each job and lasts as long as the job is expected to take`,
      settings,
    };
    out.seconds = Math.round((performance.now() - started) / 1000);
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const s of servers) await s.stop().catch(() => undefined);
    await loaded?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    clearInterval(keepAlive);
  }
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(out, null, 2));
  else console.log(JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
