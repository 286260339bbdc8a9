// The JobRunner (src/ingest/jobs.ts) against a real SqliteStore in a temp dir, wired as
// createQuiver wires it (store, embedders, collection registry, runner) but without HTTP. The
// collection's provider is "none" and documents carry their vectors, so no model is loaded.
// Pins: a job runs to done with its counts; a bad document fails alone; cancelling (queued, or
// with a batch in flight) writes nothing more; the 429 rule and its Retry-After; tasks store
// their result; stop() between batches and start() resume at the first pending item.
// Every wait polls a condition with a generous ceiling; nothing sleeps a fixed time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Collection } from '../../src/collection/index.js';
import { CollectionRegistry } from '../../src/collection/index.js';
import { loadConfig } from '../../src/config/index.js';
import { inThreadHost } from '../../src/index/index.js';
import type { DocumentInput, Job, JobStatus } from '../../src/domain/types.js';
import type { EmbeddingProvider } from '../../src/embedding/index.js';
import { Embedders, PROVIDERS } from '../../src/embedding/index.js';
import { createError } from '../../src/errors/index.js';
import { JobRunner } from '../../src/ingest/index.js';
import type { Store } from '../../src/storage/index.js';
import { DiskHealth, SqliteStore } from '../../src/storage/index.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface World {
  store: Store;
  collections: CollectionRegistry;
  runner: JobRunner;
  c: Collection;
}

/** A store, a registry with collection "docs" (cosine, 2 dimensions, provider none) and a runner that is not started yet. */
async function world(env: Record<string, string> = {}, providers: readonly EmbeddingProvider[] = PROVIDERS): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-jobs-'));
  const config = loadConfig({ QUIVER_DATA_DIR: dir, QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'normal', ...env });
  const store = SqliteStore.open({ file: path.join(dir, 'quiver.db'), sync: config.sync, embedCacheMax: config.embedCacheMax });
  const collections = new CollectionRegistry({
    store,
    embedders: new Embedders(config, providers),
    log,
    retry: { retries: 0, baseMs: 1 },
    efSearch: 64,
    indexDir: path.join(dir, 'indexes'),
    exactThreshold: config.exactSearchThreshold,
    hnsw: config.hnsw,
    indexHost: () => inThreadHost(),
  });
  await collections.openAll(undefined);
  const runner = new JobRunner({ jobs: store.jobs, disk: new DiskHealth(dir, log), collections, log, batch: config.ingest.batch, maxPending: config.ingest.maxPending });
  cleanups.push(async () => {
    await runner.stop();
    await collections.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const c = await collections.create({ name: 'docs', metric: 'cosine', embedder: { provider: 'none' }, dimension: 2 });
  return { store, collections, runner, c };
}

const doc = (i: number, prefix = 'd'): DocumentInput => ({ id: `${prefix}${i}`, vector: [Math.cos(i + 1), Math.sin(i + 1)], metadata: { i } });
const docs = (n: number, prefix = 'd') => Array.from({ length: n }, (_, i) => doc(i, prefix));

/** Polls the job until it has the status (ceiling 15 s); returns it. */
async function waitFor(store: Store, id: string, status: JobStatus): Promise<Job> {
  return vi.waitFor(
    () => {
      const job = store.jobs.get(id);
      expect(job?.status).toBe(status);
      return job!;
    },
    { timeout: 15_000, interval: 5 },
  );
}

const present = (c: Collection, ids: string[]) => ids.filter((id) => c.get(id) !== undefined);

describe('JobRunner: ingest jobs', () => {
  it('runs a submitted job to done, counting each document, and writes them to the store and the index', async () => {
    const { store, runner, c } = await world({ QUIVER_INGEST_BATCH: '2' });
    runner.start();
    const queued = await runner.submit('docs', docs(5), undefined);
    expect(queued).toMatchObject({ kind: 'ingest', status: 'queued', total: 5, done: 0, collection: 'docs', collectionId: c.info.id });
    const job = await waitFor(store, queued.id, 'done');
    expect(job).toMatchObject({ total: 5, done: 5, skipped: 0, failed: 0, error: null });
    expect(job.startedAt).not.toBeNull();
    expect(job.finishedAt).not.toBeNull();
    expect(present(c, docs(5).map((d) => d.id))).toHaveLength(5);
    expect(c.get('d3')?.metadata).toEqual({ i: 3 });
    expect((await c.stats()).size).toBe(5);
    expect(runner.finished).toEqual({ done: 5, skipped: 0, failed: 0 });
    expect(store.jobs.pendingDocuments()).toBe(0);
  });

  it('counts documents already stored unchanged as done and skipped', async () => {
    const { store, runner } = await world();
    runner.start();
    await waitFor(store, (await runner.submit('docs', docs(3), undefined)).id, 'done');
    const again = await waitFor(store, (await runner.submit('docs', [...docs(3), doc(9)], undefined)).id, 'done');
    expect(again).toMatchObject({ total: 4, done: 4, skipped: 3, failed: 0 });
  });

  it('refuses at submit, all or nothing, a batch with a vector of the wrong dimension', async () => {
    const { store, runner } = await world();
    const bad = [doc(0), { id: 'bad', vector: [1, 2, 3] }, doc(2)];
    await expect(runner.submit('docs', bad, undefined)).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
      status: 400,
      message: 'documents.1.vector: vector has 3 dimensions but the collection has 2',
    });
    expect(store.jobs.list({ limit: 10 })).toEqual([]);
  });

  it('fails a document whose vector has the wrong dimension alone, inside a job, and writes the others', async () => {
    const { store, runner, c } = await world({ QUIVER_INGEST_BATCH: '3' });
    // A job as stored (submit would have refused it): the runner must still isolate the culprit.
    const job = store.jobs.create(c.info.id, null, [doc(0), doc(1), { id: 'bad', vector: [1, 2, 3] }, doc(3), { id: 'zero', vector: [0, 0] }]);
    runner.start();
    const done = await waitFor(store, job.id, 'done');
    expect(done).toMatchObject({ total: 5, done: 3, skipped: 0, failed: 2, error: null });
    expect(store.jobs.errors(job.id, 10)).toEqual([
      { documentId: 'bad', message: expect.stringContaining('vector has 3 dimensions but the collection has 2') },
      { documentId: 'zero', message: expect.stringContaining('a zero vector has no direction') },
    ]);
    expect(present(c, ['d0', 'd1', 'bad', 'd3', 'zero'])).toEqual(['d0', 'd1', 'd3']);
    expect((await c.stats()).size).toBe(3);
  });
});

describe('JobRunner: cancelling', () => {
  it('cancels a queued job: it never runs, and the jobs after it do', async () => {
    const { store, runner, c } = await world();
    const first = await runner.submit('docs', docs(4, 'a'), undefined);
    const cancelled = runner.cancel(first.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', done: 0 });
    expect(cancelled.finishedAt).not.toBeNull();
    expect(store.jobs.pendingDocuments()).toBe(0);
    runner.start();
    // Jobs run oldest first: once the second is done, the first was passed over.
    const second = await runner.submit('docs', docs(2, 'b'), undefined);
    await waitFor(store, second.id, 'done');
    expect(store.jobs.get(first.id)).toMatchObject({ status: 'cancelled', done: 0, failed: 0 });
    expect(present(c, docs(4, 'a').map((d) => d.id))).toEqual([]);
    expect(present(c, ['b0', 'b1'])).toEqual(['b0', 'b1']);
  });

  it('drops the batch in flight when the job is cancelled before it commits, keeping the batches committed before', async () => {
    const { store, runner, c } = await world({ QUIVER_INGEST_BATCH: '2' });
    // The runner starts only once the job is queued and the spy is in place.
    const job = await runner.submit('docs', docs(6), undefined);
    // warm() is called for the next batch right before each batch is written: cancelling there
    // lands after the runner checked the job's status, so only the write's proceed() can see it.
    let batches = 0;
    vi.spyOn(c, 'warm').mockImplementation(() => {
      if (++batches === 2) runner.cancel(job.id);
      return Promise.resolve();
    });
    runner.start();
    const end = await waitFor(store, job.id, 'cancelled');
    expect(batches).toBe(2);
    expect(end).toMatchObject({ done: 2, failed: 0 });
    expect(present(c, docs(6).map((d) => d.id))).toEqual(['d0', 'd1']);
    expect((await c.stats()).size).toBe(2);
  });

  it('answers JOB_NOT_FOUND for an unknown job, and leaves a finished job as it was', async () => {
    const { store, runner } = await world();
    expect(() => runner.cancel('job_nope')).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND', status: 404 }));
    runner.start();
    const job = await waitFor(store, (await runner.submit('docs', docs(1), undefined)).id, 'done');
    expect(runner.cancel(job.id)).toMatchObject({ status: 'done', done: 1 });
  });
});

describe('JobRunner: backpressure (429 QUEUE_FULL)', () => {
  it('accepts up to QUIVER_INGEST_MAX_PENDING pending documents, then refuses with Retry-After 1 before any batch was timed', async () => {
    const { store, runner } = await world({ QUIVER_INGEST_MAX_PENDING: '10' });
    await runner.submit('docs', docs(6, 'a'), undefined);
    await runner.submit('docs', docs(4, 'b'), undefined); // exactly at the bound
    expect(store.jobs.pendingDocuments()).toBe(10);
    const refused = runner.submit('docs', docs(1, 'c'), undefined);
    await expect(refused).rejects.toMatchObject({ code: 'QUEUE_FULL', status: 429, details: { pending: 10, max: 10, requested: 1, retryAfter: 1 } });
    await expect(refused).rejects.toThrow(/holds 10 documents and 1 more would pass its bound of 10 \(QUIVER_INGEST_MAX_PENDING\); retry after 1 s/);
    expect(store.jobs.list({ limit: 10 })).toHaveLength(2);
  });

  it('derives Retry-After from the measured rate once batches ran: the excess over the rate, between 1 and 60 s', async () => {
    const { store, runner } = await world({ QUIVER_INGEST_MAX_PENDING: '10', QUIVER_INGEST_BATCH: '2' });
    runner.start();
    await waitFor(store, (await runner.submit('docs', docs(10, 'a'), undefined)).id, 'done');
    const rate = runner.progress.docsPerSecond;
    expect(rate).toBeGreaterThan(0);
    await runner.stop();
    await runner.submit('docs', docs(10, 'b'), undefined);
    const requested = 3000;
    const excess = 10 + requested - 10;
    await expect(runner.submit('docs', docs(requested, 'c'), undefined)).rejects.toMatchObject({
      code: 'QUEUE_FULL',
      details: { pending: 10, requested, retryAfter: Math.min(60, Math.max(1, Math.ceil(excess / rate))) },
    });
    // Cancelled jobs no longer count: the queue has room again.
    for (const j of store.jobs.list({ status: 'queued', limit: 10 })) runner.cancel(j.id);
    await expect(runner.submit('docs', docs(10, 'c'), undefined)).resolves.toMatchObject({ status: 'queued' });
  });
});

describe('JobRunner: tasks (jobs without items)', () => {
  it('runs a registered task with its collection and params, and stores its result on the job', async () => {
    const { store, runner } = await world();
    const seen: unknown[] = [];
    runner.registerTask('cluster', (c, params) => {
      seen.push(params);
      return Promise.resolve({ collection: c.name, documents: c.documentCount(), echo: params });
    });
    runner.start();
    await waitFor(store, (await runner.submit('docs', docs(3), undefined)).id, 'done');
    const task = runner.submitTask('docs', 'cluster', { k: 2 });
    expect(task).toMatchObject({ kind: 'cluster', status: 'queued', total: 1, params: { k: 2 }, result: null });
    const done = await waitFor(store, task.id, 'done');
    expect(done).toMatchObject({ kind: 'cluster', done: 1, total: 1, result: { collection: 'docs', documents: 3, echo: { k: 2 } } });
    expect(seen).toEqual([{ k: 2 }]);
  });

  it('fails a task whose handler throws: a catalogued error keeps its message, anything else stays in the log', async () => {
    const { store, runner } = await world();
    runner.registerTask('cluster', (_c, params) =>
      Promise.reject((params as { k: number }).k > 10 ? createError('VALIDATION_FAILED', { issues: [{ field: 'k', message: 'is larger than the collection' }] }) : new Error('SQLITE_BUSY: database is locked')),
    );
    runner.start();
    const failed = await waitFor(store, runner.submitTask('docs', 'cluster', { k: 99 }).id, 'failed');
    expect(failed).toMatchObject({ error: 'k: is larger than the collection', result: null });
    const hidden = await waitFor(store, runner.submitTask('docs', 'cluster', { k: 2 }).id, 'failed');
    expect(hidden).toMatchObject({ error: 'internal error (see the server log)', result: null });
  });

  it('refuses a task kind no handler was registered for (NOT_READY), and an unknown collection', async () => {
    const { runner } = await world();
    expect(() => runner.submitTask('docs', 'cluster', {})).toThrow(expect.objectContaining({ code: 'NOT_READY', status: 503 }));
    runner.registerTask('cluster', () => Promise.resolve(null));
    expect(() => runner.submitTask('nope', 'cluster', {})).toThrow(expect.objectContaining({ code: 'COLLECTION_NOT_FOUND' }));
  });
});

describe('JobRunner: stop and start', () => {
  it('stops between batches and resumes the job at its first pending item, writing nothing twice', async () => {
    const { store, runner, c } = await world({ QUIVER_INGEST_BATCH: '2' });
    const jobs = store.jobs;
    const record = jobs.recordOutcomes.bind(jobs);
    let stopping: Promise<void> | undefined;
    // Ask the runner to stop while the first batch is being committed: it finishes that batch.
    const spy = vi.spyOn(jobs, 'recordOutcomes').mockImplementation((id, outcomes) => {
      record(id, outcomes);
      stopping ??= runner.stop();
    });
    const job = await runner.submit('docs', docs(7), undefined);
    runner.start();
    await vi.waitFor(() => expect(stopping).toBeDefined(), { timeout: 15_000, interval: 5 });
    await stopping;
    expect(spy).toHaveBeenCalledTimes(1);
    expect(jobs.get(job.id)).toMatchObject({ status: 'running', done: 2, failed: 0 });
    expect(jobs.pendingItems(job.id, 100).map((i) => i.position)).toEqual([2, 3, 4, 5, 6]);
    expect(present(c, docs(7).map((d) => d.id))).toEqual(['d0', 'd1']);

    spy.mockRestore();
    runner.start();
    const done = await waitFor(store, job.id, 'done');
    // Had it started over, d0 and d1 would have been counted again, as skipped.
    expect(done).toMatchObject({ total: 7, done: 7, skipped: 0, failed: 0 });
    expect(present(c, docs(7).map((d) => d.id))).toHaveLength(7);
    expect((await c.stats()).size).toBe(7);
  });
});

describe('JobRunner: stop and start while a task runs', () => {
  // Pins a bug found here: stop() does not wait for task loops (a task is abandoned and rerun
  // after a restart), and an abandoned loop used to come back to life when start() followed in
  // the same process: the same job computed twice, and two loops serving the kind from then on.
  // Loops now belong to a generation, and a computation still in flight is adopted.
  it('runs a task once, and tasks one at a time, across stop() and start()', async () => {
    const { runner } = await world();
    const started: unknown[] = [];
    const gates: (() => void)[] = [];
    runner.registerTask('cluster', (_c, params) => {
      started.push(params);
      return new Promise((resolve) => gates.push(() => resolve(params)));
    });
    runner.start();
    runner.submitTask('docs', 'cluster', { n: 1 });
    await vi.waitFor(() => expect(started).toHaveLength(1), { timeout: 15_000, interval: 5 });
    await runner.stop();
    try {
      runner.start(); // the new task loop reaches the handler synchronously if it picks a job
      expect(started).toEqual([{ n: 1 }]);
    } finally {
      for (const open of gates.splice(0)) open();
    }
  });
});

describe('JobRunner: embedding cost', () => {
  /** A provider whose model records every text it is asked to embed. */
  function countingProvider(seen: string[]): EmbeddingProvider {
    return {
      name: 'counting',
      hasModel: true,
      schema: z.strictObject({ provider: z.literal('counting') }),
      normalize: () => ({ provider: 'counting' }),
      dimensions: () => Promise.resolve(2),
      create: () =>
        Promise.resolve({
          id: 'counting:v1',
          dimensions: 2,
          maxBatch: 64,
          embed: (texts: string[]) => {
            seen.push(...texts);
            return Promise.resolve(texts.map((t) => Float32Array.of(t.length, 1)));
          },
          close: () => Promise.resolve(),
        }),
      key: () => 'counting',
    };
  }
  const textDocs = (n: number): DocumentInput[] => Array.from({ length: n }, (_, i) => ({ id: `t${i}`, text: `text number ${i}` }));

  it('embeds each text of a job once (the next batch is warmed into the embedding cache)', async () => {
    const seen: string[] = [];
    const { store, runner, collections } = await world({ QUIVER_INGEST_BATCH: '2' }, [...PROVIDERS, countingProvider(seen)]);
    await collections.create({ name: 'texts', metric: 'cosine', embedder: { provider: 'counting' } });
    runner.start();
    await waitFor(store, (await runner.submit('texts', textDocs(6), undefined)).id, 'done');
    expect(seen.sort()).toEqual(textDocs(6).map((d) => d.text).sort());
  });

  // A bug this pins (fixed): with the embedding cache turned off (QUIVER_EMBED_CACHE_MAX=0, documented as "0 turns
  // the cache off"), the runner still warms the next batch while the current one is written:
  // Collection.warm embeds the texts into a cache that keeps nothing, and the batch then embeds
  // them again, so every text after the first batch reaches the model twice (twice the model
  // time, twice the Bedrock bill). Warming is now skipped when the cache is off.
  it('embeds each text of a job once when the embedding cache is off', async () => {
    const seen: string[] = [];
    const { store, runner, collections } = await world({ QUIVER_INGEST_BATCH: '2', QUIVER_EMBED_CACHE_MAX: '0' }, [...PROVIDERS, countingProvider(seen)]);
    await collections.create({ name: 'texts', metric: 'cosine', embedder: { provider: 'counting' } });
    runner.start();
    await waitFor(store, (await runner.submit('texts', textDocs(6), undefined)).id, 'done');
    // Today: t0, t1 once; t2..t5 twice.
    expect(seen.sort()).toEqual(textDocs(6).map((d) => d.text).sort());
  });
});
