// Concurrent writers against one collection, through the real server (`node --import tsx
// src/main.ts`, QUIVER_SYNC=full by default, a temp data folder): loads --docs documents
// (client vectors, provider "none"), then runs --writers closed-loop clients for --seconds, each
// sending its next request as soon as the previous answer is read: PUT .../documents with --batch
// documents over random ids (half existing, half new), or with probability --delete-share a
// DELETE of a random existing id. Reports documents/s (upserted documents acknowledged per
// second), upsert and delete p50/p99, and the group commits the server made (quiver_write_groups_*
// in /metrics, when the server has them).
//   node --import tsx benchmarks/writers.ts --out file.json [--docs 20000] [--writers 50] [--seconds 20]
//     [--batch 10] [--dim 384] [--delete-share 0] [--sync full] [--root DIR] [--label NAME] [--profile DIR]
// --root starts the server from another checkout (e.g. a worktree of an older commit) to compare;
// --profile writes the server's CPU profile (--cpu-prof) into DIR.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startServer } from './lib/server.js';
import { ROOT, gaussian, log, machine, percentile, rng } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    docs: { type: 'string', default: '20000' },
    writers: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    batch: { type: 'string', default: '10' },
    dim: { type: 'string', default: '384' },
    'delete-share': { type: 'string', default: '0' },
    sync: { type: 'string', default: 'full' },
    root: { type: 'string' },
    label: { type: 'string' },
    profile: { type: 'string' },
  },
});

const DOCS = Number(args.docs);
const WRITERS = Number(args.writers);
const SECONDS = Number(args.seconds);
const BATCH = Number(args.batch);
const DIM = Number(args.dim);
const DELETE_SHARE = Number(args['delete-share']);
const ROOT_DIR = path.resolve(args.root ?? ROOT);
const LOAD_BATCH = 500;
/** Distinct vectors the requests draw from: their JSON is made once, so the clients spend little CPU. */
const VECTOR_POOL = 4096;

/** Random unit vectors as JSON arrays. */
function vectorPool(seed: number): string[] {
  const g = gaussian(rng(seed));
  return Array.from({ length: VECTOR_POOL }, () => {
    const v = Array.from({ length: DIM }, g);
    const norm = Math.hypot(...v) || 1;
    return `[${v.map((x) => Math.fround(x / norm)).join(',')}]`;
  });
}

function body(docs: { id: string; vector: string }[]): string {
  return `{"documents":[${docs.map((d) => `{"id":"${d.id}","vector":${d.vector}}`).join(',')}]}`;
}

/** A prometheus sample's value, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function main(): Promise<void> {
  if (!args.out) throw new Error('--out file.json is required');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-writers-'));
  const nodeArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`] : [];
  const server = await startServer(dataDir, { QUIVER_SYNC: args.sync }, nodeArgs, ROOT_DIR);
  const pool = new Pool(server.url, { connections: WRITERS, pipelining: 1 });
  /** Sends a prepared JSON body; returns the status and the answer's text. */
  const send = async (method: 'PUT' | 'POST' | 'DELETE' | 'GET', p: string, text?: string): Promise<{ status: number; text: string }> => {
    const r = await pool.request({ path: p, method, headers: { 'content-type': 'application/json' }, body: text });
    return { status: r.statusCode, text: await r.body.text() };
  };
  try {
    log(`server from ${ROOT_DIR} ready in ${server.openMs.toFixed(0)} ms; loading ${DOCS} documents of ${DIM} dimensions`);
    const created = await send('POST', '/v1/collections', JSON.stringify({ name: 'w', embedder: { provider: 'none' }, dimension: DIM, metric: 'cosine' }));
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`);
    const vectors = vectorPool(42);
    const rand = rng(7);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    for (let s = 0; s < DOCS; s += LOAD_BATCH) {
      const docs = Array.from({ length: Math.min(LOAD_BATCH, DOCS - s) }, (_, i) => ({ id: `d${s + i}`, vector: pick(vectors) }));
      const put = await send('PUT', '/v1/collections/w/documents', body(docs));
      if (put.status !== 200) throw new Error(`load: ${put.status} ${put.text.slice(0, 300)}`);
    }
    log(`loaded; ${WRITERS} writers of ${BATCH}-document batches for ${SECONDS} s (delete share ${DELETE_SHARE}, QUIVER_SYNC=${args.sync})`);
    const metricsBefore = (await send('GET', '/metrics')).text;

    let nextId = DOCS;
    const upsertMs: number[] = [];
    const deleteMs: number[] = [];
    const statuses: Record<string, number> = {};
    let documents = 0;
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    const writer = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        if (rand() < DELETE_SHARE) {
          const r = await send('DELETE', `/v1/collections/w/documents/d${Math.floor(rand() * nextId)}`);
          deleteMs.push(performance.now() - t0);
          statuses[`DELETE ${r.status}`] = (statuses[`DELETE ${r.status}`] ?? 0) + 1;
          continue;
        }
        // Half existing ids (updates), half new ones; distinct within the request.
        const ids = new Set<string>();
        while (ids.size < BATCH) ids.add(rand() < 0.5 ? `d${Math.floor(rand() * nextId)}` : `d${nextId++}`);
        const text = body([...ids].map((id) => ({ id, vector: pick(vectors) })));
        const r = await send('PUT', '/v1/collections/w/documents', text);
        upsertMs.push(performance.now() - t0);
        statuses[`PUT ${r.status}`] = (statuses[`PUT ${r.status}`] ?? 0) + 1;
        if (r.status === 200) documents += BATCH;
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    const seconds = (performance.now() - started) / 1000;
    const metrics = (await send('GET', '/metrics')).text;
    // The run's groups alone: the load's are taken off.
    const delta = (name: string) => {
      const now = sample(metrics, name);
      return now === undefined ? undefined : now - (sample(metricsBefore, name) ?? 0);
    };
    const groups = delta('quiver_write_groups_total');
    const groupedRequests = delta('quiver_write_group_requests_sum');
    const result = {
      label: args.label ?? path.basename(ROOT_DIR),
      root: ROOT_DIR,
      config: { docs: DOCS, writers: WRITERS, seconds: SECONDS, batch: BATCH, dim: DIM, deleteShare: DELETE_SHARE, sync: args.sync },
      measuredSeconds: +seconds.toFixed(2),
      documentsPerSecond: +(documents / seconds).toFixed(1),
      requestsPerSecond: +((upsertMs.length + deleteMs.length) / seconds).toFixed(1),
      upsert: { count: upsertMs.length, p50Ms: +percentile(upsertMs, 50).toFixed(1), p99Ms: +percentile(upsertMs, 99).toFixed(1) },
      delete: deleteMs.length === 0 ? null : { count: deleteMs.length, p50Ms: +percentile(deleteMs, 50).toFixed(1), p99Ms: +percentile(deleteMs, 99).toFixed(1) },
      statuses,
      // Absent on a server without group commit.
      groups: groups === undefined ? null : { total: groups, meanRequests: groupedRequests === undefined ? null : +(groupedRequests / groups).toFixed(2) },
      peakRssMb: Math.round((server.peakRss() ?? 0) / 1024 / 1024),
      machine: machine(),
    };
    log(JSON.stringify({ ...result, machine: undefined }));
    fs.writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await pool.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
