// The typed client (src/client) driving real Quiver servers, route group by route group:
// collections, documents, the three query modes (against a server in its own process, as users
// run it), ingest with progress and a queue forced full (429 + Retry-After), jobs, the explore
// routes, admin backup and auth errors (in-process servers). Values are checked, not only the
// absence of a throw; waits are on conditions.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuiverApiError, QuiverClient, clusterResultOf } from '../../src/client/index.js';
import type { DocumentInput, IngestProgress } from '../../src/client/index.js';
import { TestServer, tempDir, waitFor } from '../helpers/server.js';

/** What a call threw, for expect(): fails the test when it did not throw. */
async function failure(p: Promise<unknown>): Promise<QuiverApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(QuiverApiError);
    return err as QuiverApiError;
  }
  throw new Error('expected the call to fail');
}

const DOCS: DocumentInput[] = [
  { id: 'cat', text: 'The cat sat on the mat and purred.', metadata: { kind: 'pet' } },
  { id: 'dog', text: 'The dog chased the ball across the park.', metadata: { kind: 'pet' } },
  { id: 'pasta', text: 'Boil the pasta for ten minutes and drain it.', metadata: { kind: 'food' } },
  { id: 'bread', text: 'Bread rises when yeast ferments the dough.', metadata: { kind: 'food' } },
  { id: 'rocket', text: 'Rockets launch satellites into orbit.', metadata: { kind: 'space', year: 1957 } },
];

describe('collections, documents and queries, against a server in its own process', () => {
  let s: TestServer;
  let q: QuiverClient;
  beforeAll(async () => {
    s = await TestServer.start({ process: true });
    q = new QuiverClient({ url: s.url });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('creates, lists, gets and deletes collections; a taken name is 409 COLLECTION_EXISTS', async () => {
    expect(await q.health()).toEqual({ status: 'ok' });
    expect(await q.ready()).toBe(true);
    const notes = await q.collections.create({ name: 'notes' });
    expect(notes).toMatchObject({ name: 'notes', metric: 'cosine', document_count: 0, embedder: { provider: 'local' } });
    expect(notes.dimension).toBeGreaterThan(0);
    const vecs = await q.collections.create({ name: 'vecs', embedder: { provider: 'none' }, dimension: 3, metric: 'l2' });
    expect(vecs).toMatchObject({ name: 'vecs', dimension: 3, metric: 'l2', embedder: { provider: 'none' } });

    const taken = await failure(q.collections.create({ name: 'notes' }));
    expect(taken).toMatchObject({ status: 409, code: 'COLLECTION_EXISTS', message: 'collection "notes" already exists' });
    expect(taken.requestId).toMatch(/\S/);

    expect((await q.collections.list()).map((c) => c.name).sort()).toEqual(['notes', 'vecs']);
    expect((await q.collections.get('vecs')).metric).toBe('l2');
    await q.collections.delete('vecs');
    const gone = await failure(q.collections.get('vecs'));
    expect(gone).toMatchObject({ status: 404, code: 'COLLECTION_NOT_FOUND' });
    expect((await q.collections.list()).map((c) => c.name)).toEqual(['notes']);
  });

  it('upserts, gets, pages through, deletes and deletes by filter', async () => {
    const notes = q.collection('notes');
    expect(await notes.upsert(DOCS)).toMatchObject({ created: 5, updated: 0, unchanged: 0, embedded: 5 });
    expect(await notes.upsert(DOCS)).toMatchObject({ created: 0, unchanged: 5, embedded: 0 });
    expect((await notes.info()).document_count).toBe(5);

    const cat = await notes.get('cat', { include: ['vector', 'chunks'] });
    expect(cat).toMatchObject({ id: 'cat', text: DOCS[0]!.text, metadata: { kind: 'pet' } });
    expect(cat.vector).toHaveLength((await notes.info()).dimension);
    expect(cat.chunks?.[0]).toMatchObject({ index: 0, start: 0, embedded: true });
    expect((await notes.get('dog')).vector).toBeUndefined();

    // Pages of 2 in id order, following next_cursor; iterate() does the same.
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await notes.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      pages++;
      seen.push(...page.documents.map((d) => d.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['bread', 'cat', 'dog', 'pasta', 'rocket']);
    const all: string[] = [];
    for await (const d of notes.iterate({ limit: 2 })) all.push(d.id);
    expect(all).toEqual(seen);
    expect((await notes.list({ filter: { kind: 'pet' } })).documents.map((d) => d.id)).toEqual(['cat', 'dog']);

    const bad = await failure(notes.upsert([{ id: 'blank', text: '   ' }]));
    expect(bad).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(bad.details).toEqual({ issues: [{ field: 'documents.0.text', message: expect.stringContaining('must not be blank') }] });

    await notes.delete('bread');
    expect(await failure(notes.get('bread'))).toMatchObject({ status: 404, code: 'DOCUMENT_NOT_FOUND' });
    expect(await notes.deleteWhere({ kind: 'space' })).toBe(1);
    expect((await notes.list()).documents.map((d) => d.id)).toEqual(['cat', 'dog', 'pasta']);
    await notes.upsert(DOCS.filter((d) => d.id === 'bread' || d.id === 'rocket'));
  });

  it('queries in vector, keyword and hybrid mode, with a filter', async () => {
    const notes = q.collection('notes');
    const vector = await notes.query({ text: 'a kitten resting on a rug', k: 2, mode: 'vector' });
    expect(vector.mode).toBe('vector');
    expect(vector.hits[0]).toMatchObject({ id: 'cat', document_id: 'cat', chunk_index: 0, text: DOCS[0]!.text, metadata: { kind: 'pet' } });
    expect(vector.hits[0]!.score).toBeGreaterThan(vector.hits[1]!.score);

    const keyword = await notes.query({ text: 'yeast dough', mode: 'keyword', k: 3 });
    expect(keyword.mode).toBe('keyword');
    expect(keyword.hits.map((h) => h.id)).toEqual(['bread']);

    const hybrid = await notes.query({ text: 'an animal playing', mode: 'hybrid', k: 5, filter: { kind: 'pet' }, include: ['metadata'] });
    expect(hybrid.mode).toBe('hybrid');
    expect(hybrid.hits.map((h) => h.id).sort()).toEqual(['cat', 'dog']);
    for (const h of hybrid.hits) {
      expect(h.metadata).toEqual({ kind: 'pet' });
      expect(h.text).toBeUndefined();
      expect(h).toHaveProperty('vector_rank');
    }
    expect(hybrid.plan.filtered_chunks).toBe(2);

    const op = await failure(notes.query({ text: 'x', filter: { kind: { $between: [1, 2] } } }));
    expect(op).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: expect.stringContaining('filter.kind.$between: unknown operator') });
  });
});

const KEYS = { admin: 'admin-key-0123456789abcdef', read: 'read-key-0123456789abcdef', write: 'write-key-0123456789abcdef' };

describe('explore, jobs, backup and auth, against an in-process server with API keys', () => {
  let s: TestServer;
  let admin: QuiverClient;
  const backups = tempDir('quiver-client-backups-');
  // Two clear groups in 3-d: a* near the x axis, b* near the y axis.
  const groups: DocumentInput[] = [
    ...[0, 1, 2, 3].map((i) => ({ id: `a${i}`, vector: [1, 0.05 * i, 0.01], metadata: { group: 'a' } })),
    ...[0, 1, 2, 3].map((i) => ({ id: `b${i}`, vector: [0.05 * i, 1, 0.01], metadata: { group: 'b' } })),
  ];
  beforeAll(async () => {
    s = await TestServer.start({
      env: { QUIVER_BACKUP_DIR: backups, QUIVER_API_KEYS: [`${KEYS.admin}:admin`, `${KEYS.read}:read`, `${KEYS.write}:write`].join(',') },
    });
    admin = new QuiverClient({ url: s.url, apiKey: KEYS.admin });
    await admin.collections.create({ name: 'vecs', embedder: { provider: 'none' }, dimension: 3 });
    await admin.collection('vecs').upsert(groups);
    await admin.collections.create({ name: 'kb' });
    await admin.collection('kb').upsert(DOCS);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers 401 and 403 as QuiverApiError with the server\'s code', async () => {
    const none = await failure(new QuiverClient({ url: s.url }).collections.list());
    expect(none).toMatchObject({ status: 401, code: 'UNAUTHORIZED', message: expect.stringContaining('Authorization: Bearer') });
    const wrong = await failure(new QuiverClient({ url: s.url, apiKey: 'not-a-key-0123456789abcdef' }).collections.list());
    expect(wrong).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(wrong.message).not.toContain('not-a-key');
    const reader = new QuiverClient({ url: s.url, apiKey: KEYS.read });
    expect((await reader.collections.list()).map((c) => c.name).sort()).toEqual(['kb', 'vecs']);
    expect(await failure(reader.collections.create({ name: 'nope' }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await failure(reader.collection('kb').upsert([{ id: 'x', text: 'hello' }]))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await failure(new QuiverClient({ url: s.url, apiKey: KEYS.write }).admin.backup())).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });

  it('recommends, finds similar documents, clusters, projects and builds RAG context', async () => {
    const vecs = admin.collection('vecs');
    const rec = await vecs.recommend({ positive: ['a0'], negative: ['b0'], k: 3 });
    expect(rec.hits.map((h) => h.id).sort()).toEqual(['a1', 'a2', 'a3']);
    const similar = await vecs.similar('b1', { k: 3 });
    expect(similar.hits.map((h) => h.id).sort()).toEqual(['b0', 'b2', 'b3']);
    // Among the a* only, those leaning most towards b1 (the y axis).
    const filtered = await vecs.similar('b1', { k: 3, filter: { group: 'a' } });
    expect(filtered.hits.map((h) => h.id)).toEqual(['a3', 'a2', 'a1']);
    expect(await failure(vecs.similar('zzz'))).toMatchObject({ status: 404, code: 'DOCUMENT_NOT_FOUND' });

    const clusters = await vecs.cluster({ k: 2, include_members: true });
    expect(clusters).toMatchObject({ k: 2, documents: 8, total: 8 });
    expect(clusters.clusters.map((c) => [...(c.members ?? [])].sort().join(',')).sort()).toEqual(['a0,a1,a2,a3', 'b0,b1,b2,b3']);
    expect(clusters.silhouette).toBeGreaterThan(0.5);

    const projection = await vecs.project({ dimensions: 2 });
    expect(projection.points.map((p) => p.id).sort()).toEqual(groups.map((g) => g.id).sort());
    expect(projection.explained_variance).toHaveLength(2);
    expect(projection.explained_variance[0]).toBeGreaterThan(0.5);

    const ctx = await admin.collection('kb').context({ text: 'how long do I boil pasta', max_tokens: 200 });
    expect(ctx.chunks[0]).toMatchObject({ document_id: 'pasta', chunk_index: 0, text: DOCS[2]!.text });
    expect(ctx.context.startsWith('[1] (pasta#0)\n')).toBe(true);
    expect(ctx.tokens).toBeLessThanOrEqual(200);
  });

  it('runs a cluster job to its result; gets, lists, waits for and cancels jobs', async () => {
    const vecs = admin.collection('vecs');
    const queued = await vecs.clusterJob({ k: 2 });
    expect(queued).toMatchObject({ kind: 'cluster', collection: 'vecs' });
    const seen: string[] = [];
    const done = await admin.jobs.wait(queued.id, { onProgress: (j) => seen.push(j.status) });
    expect(done.status).toBe('done');
    expect(seen.at(-1)).toBe('done');
    expect(clusterResultOf(done)?.clusters).toHaveLength(2);
    expect((await admin.jobs.get(queued.id)).result).toEqual(done.result);
    expect((await admin.jobs.list({ collection: 'vecs', kind: 'cluster' })).jobs.map((j) => j.id)).toContain(queued.id);
    expect(await failure(admin.jobs.get('job_nope'))).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });

    // Jobs run one at a time: one submitted behind a large job is still queued when cancelled.
    const kb = admin.collection('kb');
    const big = await kb.submitIngest(Array.from({ length: 4000 }, (_, i) => ({ id: `big${i}`, text: `Document number ${i} is about rivers, mountains and the sea.` })));
    const behind = await kb.submitIngest([{ id: 'late', text: 'A late arrival.' }]);
    const cancelled = await admin.jobs.cancel(behind.id);
    expect(cancelled).toMatchObject({ id: behind.id, status: 'cancelled', done: 0 });
    expect((await admin.jobs.wait(behind.id)).status).toBe('cancelled');
    expect((await admin.jobs.wait(big.id)).status).toBe('done');
    expect(await failure(kb.get('late'))).toMatchObject({ code: 'DOCUMENT_NOT_FOUND' });
  });

  it('ingests an array and an async iterable in batches, reporting progress', async () => {
    const kb = admin.collection('kb');
    const docs = Array.from({ length: 5 }, (_, i) => ({ id: `arr${i}`, text: `Array document ${i} about gardens.` }));
    const progress: IngestProgress[] = [];
    const r = await kb.ingest(docs, { batchSize: 2, onProgress: (p) => progress.push(p) });
    expect(r).toMatchObject({ submitted: 5, done: 5, skipped: 0, failed: 0, errors: [], retries: 0 });
    expect(r.jobs.map((j) => [j.total, j.status])).toEqual([
      [2, 'done'],
      [2, 'done'],
      [1, 'done'],
    ]);
    expect(progress.at(-1)).toMatchObject({ total: 5, submitted: 5, done: 5, jobs: 3 });
    // Counts only grow.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);

    // An asynchronous source, as a database cursor or a file reader would be.
    async function* stream() {
      for (let i = 0; i < 10; i++) {
        await Promise.resolve();
        yield { id: `it${i}`, text: `Streamed document ${i} about deserts.`, metadata: { n: i } };
      }
    }
    const streamed: IngestProgress[] = [];
    const r2 = await kb.ingest(stream(), { batchSize: 4, chunking: { strategy: 'none' }, onProgress: (p) => streamed.push(p) });
    expect(r2).toMatchObject({ submitted: 10, done: 10, failed: 0 });
    expect(r2.jobs.map((j) => j.total)).toEqual([4, 4, 2]);
    expect(streamed.at(-1)).toMatchObject({ total: undefined, submitted: 10, done: 10 });
    expect((await kb.get('it7')).metadata).toEqual({ n: 7 });
    // Ingesting the same documents with the same chunking again skips them all.
    expect(await kb.ingest(stream(), { batchSize: 4, chunking: { strategy: 'none' } })).toMatchObject({ done: 10, skipped: 10 });
  });

  it('writes an online backup (admin)', async () => {
    const b = await admin.admin.backup({ path: 'from-client' });
    expect(b.path).toBe(path.join(backups, 'from-client'));
    expect(b.collections).toBe(2);
    expect(b.documents).toBeGreaterThanOrEqual(groups.length + DOCS.length);
    expect(b.bytes).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(b.path, 'backup.json'))).toBe(true);
    expect(await failure(admin.admin.backup({ path: 'from-client' }))).toMatchObject({ status: 409, code: 'BACKUP_TARGET_EXISTS' });
  });
});

describe('ingest against a full queue (QUIVER_INGEST_MAX_PENDING=4)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await TestServer.start({ env: { QUIVER_INGEST_MAX_PENDING: '4' } });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('waits out 429 QUEUE_FULL as Retry-After says and then succeeds', async () => {
    const calls: { method: string; path: string; status: number; at: number }[] = [];
    const q = new QuiverClient({
      url: s.url,
      // The injected fetch records every attempt the client makes.
      fetch: async (req) => {
        const res = await fetch(req);
        calls.push({ method: req.method, path: new URL(req.url).pathname, status: res.status, at: Date.now() });
        return res;
      },
    });
    await q.collections.create({ name: 'q' });

    // Another client's NDJSON stream, left open with its 4 documents recorded: they count as
    // pending until it ends, so the queue (at most 4) is full.
    const hog = http.request(`${s.url}/v1/collections/q/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } });
    const hogAnswer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      hog.on('response', (res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      hog.on('error', reject);
    });
    hog.write([0, 1, 2, 3].map((i) => JSON.stringify({ id: `hog${i}`, text: `Hog document ${i}.` })).join('\n') + '\n');
    // Blank lines are passed over, but each gives the server a moment to record what it holds.
    await waitFor('the open stream to fill the queue', async () => {
      hog.write('\n');
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      return /^quiver_ingest_pending_documents 4$/m.test(metrics) ? true : undefined;
    });

    const progress: IngestProgress[] = [];
    const started = Date.now();
    const ingesting = q.collection('q').ingest(
      [
        { id: 'mine1', text: 'My first document.' },
        { id: 'mine2', text: 'My second document.' },
      ],
      { onProgress: (p) => progress.push(p) },
    );
    await waitFor('the client to be refused with 429', () => (calls.some((c) => c.status === 429) ? true : undefined));
    hog.end();
    expect((await hogAnswer).status).toBe(202);

    const r = await ingesting;
    expect(r).toMatchObject({ submitted: 2, done: 2, failed: 0 });
    expect(r.retries).toBeGreaterThanOrEqual(1);
    const posts = calls.filter((c) => c.method === 'POST' && c.path === '/v1/collections/q/ingest');
    expect(posts.at(-1)!.status).toBe(202);
    expect(posts.slice(0, -1).every((c) => c.status === 429)).toBe(true);
    // Retry-After (1 s before the server has measured its rate) was waited before the next attempt.
    for (let i = 1; i < posts.length; i++) expect(posts[i]!.at - posts[i - 1]!.at).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(progress.find((p) => p.waiting)?.waiting).toMatchObject({ status: 429, code: 'QUEUE_FULL', delayMs: 1000 });
    expect((await q.collections.get('q')).document_count).toBe(6);
  });

  it('hands a 429 on a streamed (one-shot) submission to the caller, with Retry-After', async () => {
    const q = new QuiverClient({ url: s.url });
    const hog = http.request(`${s.url}/v1/collections/q/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } });
    const hogDone = new Promise<void>((resolve) => hog.on('response', (res) => res.resume().on('end', () => resolve())));
    hog.write([0, 1, 2, 3].map((i) => JSON.stringify({ id: `hog2-${i}`, text: `Second hog document ${i}.` })).join('\n') + '\n');
    await waitFor('the open stream to fill the queue', async () => {
      hog.write('\n');
      return /^quiver_ingest_pending_documents 4$/m.test(await (await fetch(`${s.url}/metrics`)).text()) ? true : undefined;
    });
    async function* one() {
      await Promise.resolve();
      yield { id: 'streamed', text: 'A streamed document.' };
    }
    const full = await failure(q.collection('q').submitIngest(one()));
    expect(full).toMatchObject({ status: 429, code: 'QUEUE_FULL', retryAfterMs: 1000 });
    expect(full.details).toMatchObject({ max: 4, requested: 1 });
    hog.end();
    await hogDone;
  });
});
