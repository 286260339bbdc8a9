// Asynchronous ingest through HTTP: submit, poll, list, cancel, the queue bound, chunking (CJK
// included), unchanged documents skipped, and a job that survives kill -9 mid-way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, type Json, PATIENCE_MS } from '../helpers/server.js';

const FINAL = new Set(['done', 'failed', 'cancelled']);

async function waitFor(s: TestServer, jobId: string, until: (job: Json) => boolean, timeoutMs = PATIENCE_MS): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await s.request('GET', `/v1/jobs/${jobId}`);
    expect(r.status).toBe(200);
    if (until(r.body.job)) return r.body.job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not get there in time: ${JSON.stringify(r.body.job)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
const finished = (s: TestServer, jobId: string) => waitFor(s, jobId, (j) => FINAL.has(j.status));

/** English prose the built-in model knows: n sentences, each naming the document. */
function prose(id: string, sentences: number): string {
  const topics = ['rivers carry water to the sea', 'the market opened with strong trading', 'the team won the final match', 'bread needs flour and time'];
  return Array.from({ length: sentences }, (_, i) => `Part ${i} of ${id}: ${topics[i % topics.length]}.`).join(' ');
}

describe('ingest jobs', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await TestServer.start({ env: { QUIVER_INGEST_MAX_PENDING: '100', QUIVER_INGEST_MAX_DOCUMENTS: '120' } });
    expect((await s.request('POST', '/v1/collections', { name: 'news' })).status).toBe(201);
    expect((await s.request('POST', '/v1/collections', { name: 'other' })).status).toBe(201);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers 202 with a queued job, then the documents are searchable', async () => {
    const documents = [
      { id: 'rain', text: 'Heavy rain flooded the river valley overnight.', metadata: { kind: 'weather' } },
      { id: 'stocks', text: 'Stock markets rallied after the central bank decision.', metadata: { kind: 'finance' } },
      { id: 'goal', text: 'The striker scored twice in the cup final.', metadata: { kind: 'sport' } },
    ];
    const r = await s.request('POST', '/v1/collections/news/ingest', { documents });
    expect(r.status).toBe(202);
    expect(r.body.job).toMatchObject({ collection: 'news', status: 'queued', total: 3, done: 0, failed: 0 });
    expect(r.body.job.id).toMatch(/^job_[0-9a-f]{24}$/);
    const job = await finished(s, r.body.job.id);
    expect(job).toMatchObject({ status: 'done', total: 3, done: 3, skipped: 0, failed: 0, errors: [], error: null });
    expect(Date.parse(job.finished_at)).toBeGreaterThanOrEqual(Date.parse(job.started_at));
    const q = await s.request('POST', '/v1/collections/news/query', { text: 'flood water in the valley', k: 1, mode: 'vector' });
    expect(q.body.hits[0].id).toBe('rain');
    expect((await s.request('GET', '/v1/collections/news/documents/goal')).body.document.metadata).toEqual({ kind: 'sport' });
  });

  it('skips documents whose content is unchanged and rewrites the changed ones', async () => {
    const documents = [
      { id: 'rain', text: 'Heavy rain flooded the river valley overnight.', metadata: { kind: 'weather' } },
      { id: 'stocks', text: 'Bond yields fell after the central bank decision.', metadata: { kind: 'finance' } },
    ];
    const r = await s.request('POST', '/v1/collections/news/ingest', { documents });
    const job = await finished(s, r.body.job.id);
    expect(job).toMatchObject({ status: 'done', done: 2, skipped: 1, failed: 0 });
    expect((await s.request('GET', '/v1/collections/news/documents/stocks')).body.document.text).toMatch(/^Bond yields/);
    expect((await s.request('GET', '/v1/collections/news')).body.collection.document_count).toBe(3);
  });

  it('lists jobs newest first, by collection and status, a page at a time', async () => {
    const r = await s.request('POST', '/v1/collections/other/ingest', { documents: [{ id: 'x', text: 'A quiet day at the harbour.' }] });
    await finished(s, r.body.job.id);
    const all = await s.request('GET', '/v1/jobs');
    expect(all.status).toBe(200);
    expect(all.body.jobs[0].id).toBe(r.body.job.id);
    const news = await s.request('GET', '/v1/jobs?collection=news&status=done');
    expect(news.body.jobs.length).toBeGreaterThanOrEqual(2);
    expect(news.body.jobs.every((j: Json) => j.collection === 'news' && j.status === 'done')).toBe(true);
    const page1 = await s.request('GET', '/v1/jobs?limit=1');
    expect(page1.body.jobs).toHaveLength(1);
    const page2 = await s.request('GET', `/v1/jobs?limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body.jobs[0].id).not.toBe(page1.body.jobs[0].id);
    expect(page2.body.jobs[0].created_at <= page1.body.jobs[0].created_at).toBe(true);
    expect((await s.request('GET', '/v1/jobs?status=finished')).status).toBe(400);
    expect((await s.request('GET', '/v1/jobs?collection=nope')).status).toBe(404);
    expect((await s.request('GET', '/v1/jobs/job_000000000000000000000000')).body.error.code).toBe('JOB_NOT_FOUND');
  });

  it('refuses bad input before queueing anything, naming the field', async () => {
    const before = (await s.request('GET', '/v1/jobs')).body.jobs.length;
    const bad = await s.request('POST', '/v1/collections/news/ingest', { documents: [{ id: 'a', text: 'fine' }, { id: 'b', text: '   ' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('documents.1.text');
    const dup = await s.request('POST', '/v1/collections/news/ingest', { documents: [{ id: 'a', text: 'one' }, { id: 'a', text: 'two' }] });
    expect(dup.status).toBe(400);
    expect(dup.body.error.message).toContain('documents.1.id');
    const dims = await s.request('POST', '/v1/collections/news/ingest', { documents: [{ id: 'v', vector: [1, 2, 3] }] });
    expect(dims.status).toBe(400);
    expect(dims.body.error.message).toContain('documents.0.vector');
    const chunking = await s.request('POST', '/v1/collections/news/ingest', { documents: [{ id: 'c', text: 'x' }], chunking: { strategy: 'sentence', max_chars: 100, overlap: 200 } });
    expect(chunking.status).toBe(400);
    expect(chunking.body.error.message).toContain('chunking.overlap');
    const many = await s.request('POST', '/v1/collections/news/ingest', { documents: Array.from({ length: 121 }, (_, i) => ({ id: `m${i}`, text: 'word' })) });
    expect(many.status).toBe(400);
    expect(many.body.error.message).toContain('QUIVER_INGEST_MAX_DOCUMENTS');
    expect((await s.request('POST', '/v1/collections/nope/ingest', { documents: [{ id: 'a', text: 'x' }] })).status).toBe(404);
    expect((await s.request('GET', '/v1/jobs')).body.jobs.length).toBe(before);
  });

  it('answers 429 with Retry-After while the queue is over its bound, and accepts again once it drains', async () => {
    // One batch of 80 long documents holds the queue at 80 until it commits.
    const big = Array.from({ length: 80 }, (_, i) => ({ id: `big${i}`, text: prose(`big${i}`, 120) }));
    const first = await s.request('POST', '/v1/collections/other/ingest', { documents: big, chunking: { strategy: 'sentence', max_tokens: 8 } });
    expect(first.status).toBe(202);
    const r = await fetch(`${s.url}/v1/collections/other/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ documents: Array.from({ length: 30 }, (_, i) => ({ id: `more${i}`, text: 'one more' })) }),
    });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await r.json()) as Json;
    expect(body.error.code).toBe('QUEUE_FULL');
    expect(body.error.message).toContain('QUIVER_INGEST_MAX_PENDING');
    await finished(s, first.body.job.id);
    const again = await s.request('POST', '/v1/collections/other/ingest', { documents: [{ id: 'more0', text: 'one more' }] });
    expect(again.status).toBe(202);
    await finished(s, again.body.job.id);
  });

  it('splits a 5,000-character Chinese document at sentence ends', async () => {
    const sentences = ['向量数据库把文本变成向量。', '相似的意思就是相近的点！', '你想找到相关的文档吗？', '我们按句子切分中文文本，每一块都不会太长。'];
    let text = '';
    for (let i = 0; text.length < 5000; i++) text += `第${i}段：${sentences[i % sentences.length]}`;
    const r = await s.request('POST', '/v1/collections/news/ingest', { documents: [{ id: 'zh', text }], chunking: { strategy: 'sentence', max_chars: 200 } });
    await finished(s, r.body.job.id);
    const d = await s.request('GET', '/v1/collections/news/documents/zh?include=chunks');
    const chunks: Json[] = d.body.document.chunks;
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(text.length / 200));
    // Every chunk ends at a sentence end, none is longer than asked, and together they are the text.
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(200);
      expect(c.text.trimEnd()).toMatch(/[。！？]$/);
      expect(c.text).toBe(text.slice(c.start, c.end));
    }
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    expect(chunks.map((c: Json) => c.text).join('')).toBe(text);
    // Chinese keyword search reaches a chunk in the middle of the document.
    const q = await s.request('POST', '/v1/collections/news/query', { text: '第100段', mode: 'keyword', k: 1, group_by: 'none' });
    expect(q.body.hits[0]).toMatchObject({ document_id: 'zh' });
    expect(q.body.hits[0].text).toContain('第100段');
  });

  it('re-ingesting a document replaces all its chunks', async () => {
    const long = prose('swap', 40);
    const r1 = await s.request('POST', '/v1/collections/news/ingest', { documents: [{ id: 'swap', text: long }], chunking: { strategy: 'sentence', max_tokens: 16 } });
    await finished(s, r1.body.job.id);
    const before = (await s.request('GET', '/v1/collections/news/documents/swap?include=chunks')).body.document.chunks.length;
    expect(before).toBeGreaterThan(5);
    const r2 = await s.request('POST', '/v1/collections/news/ingest', { documents: [{ id: 'swap', text: 'Now it is one short sentence about tea.' }] });
    await finished(s, r2.body.job.id);
    const after = (await s.request('GET', '/v1/collections/news/documents/swap?include=chunks')).body.document.chunks;
    expect(after).toHaveLength(1);
    const hits = (await s.request('POST', '/v1/collections/news/query', { text: 'rivers carry water to the sea', k: 50, mode: 'keyword', group_by: 'none' })).body.hits;
    expect(hits.filter((h: Json) => h.document_id === 'swap')).toEqual([]);
  });

});

describe('jobs in small batches', () => {
  // Small batches and many chunks per document make a job long enough to stop in the middle.
  const env = { QUIVER_INGEST_BATCH: '10' };
  let s: TestServer;
  afterAll(async () => {
    await s.stop();
  });

  it('resumes after kill -9 and stores each of 500 documents exactly once', async () => {
    s = await TestServer.start({ process: true, env });
    expect((await s.request('POST', '/v1/collections', { name: 'bulk', chunking: { strategy: 'sentence', max_tokens: 12 } })).status).toBe(201);
    const documents = Array.from({ length: 500 }, (_, i) => ({ id: `doc-${i}`, text: prose(`doc-${i}`, 30), metadata: { n: i } }));
    const r = await s.request('POST', '/v1/collections/bulk/ingest', { documents });
    expect(r.status).toBe(202);
    const jobId: string = r.body.job.id;
    const atKill = await waitFor(s, jobId, (j) => j.done >= 50);
    expect(await s.stop('SIGKILL')).toBe('SIGKILL');
    expect(atKill.done).toBeLessThan(500);

    s = await TestServer.start({ process: true, dataDir: s.dataDir, env });
    const job = await finished(s, jobId);
    expect(job).toMatchObject({ status: 'done', total: 500, done: 500, failed: 0 });
    const ids: string[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page = await s.request('GET', `/v1/collections/bulk/documents?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...page.body.documents.map((d: Json) => d.id));
      cursor = page.body.next_cursor;
    }
    expect(ids).toHaveLength(500);
    expect(new Set(ids)).toEqual(new Set(documents.map((d) => d.id)));
    // Every chunk in the index once: as many vectors as the documents have chunks.
    const chunksPerDoc = (await s.request('GET', '/v1/collections/bulk/documents/doc-7?include=chunks')).body.document.chunks.length;
    expect(chunksPerDoc).toBeGreaterThan(3);
    const c = (await s.request('GET', '/v1/collections/bulk')).body.collection;
    expect(c.document_count).toBe(500);
    expect(c.vector_count).toBe(500 * chunksPerDoc);
    // The restarted process embedded only what had not been stored (plus at most the batch in
    // flight, whose vectors the cache usually kept): never the documents committed before the kill.
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const embeddedAfter = Number(/^quiver_embed_batch_size_sum\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    expect(embeddedAfter).toBeGreaterThan(0);
    expect(embeddedAfter).toBeLessThanOrEqual((500 - atKill.done) * chunksPerDoc);
    const hit = await s.request('POST', '/v1/collections/bulk/query', { text: 'Part 3 of doc-123', mode: 'keyword', k: 1 });
    expect(hit.body.hits[0].id).toBe('doc-123');
  });

  it('cancels a running job: it stops between batches and keeps what it committed', async () => {
    const documents = Array.from({ length: 100 }, (_, i) => ({ id: `c${i}`, text: prose(`c${i}`, 60) }));
    const r = await s.request('POST', '/v1/collections/bulk/ingest', { documents, chunking: { strategy: 'sentence', max_tokens: 8 } });
    expect(r.status).toBe(202);
    await waitFor(s, r.body.job.id, (j) => j.done >= 10);
    const c = await s.request('POST', `/v1/jobs/${r.body.job.id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body.job.status).toBe('cancelled');
    const job = await finished(s, r.body.job.id);
    expect(job.status).toBe('cancelled');
    expect(job.done).toBeGreaterThanOrEqual(10);
    expect(job.done).toBeLessThan(100);
    // Cancelling twice is harmless and changes nothing.
    expect((await s.request('POST', `/v1/jobs/${r.body.job.id}/cancel`)).body.job.status).toBe('cancelled');
    // The runner takes jobs one at a time, oldest first: once a job queued after the cancel is
    // done, the cancelled job's batch in flight has been dropped or committed.
    const next = await s.request('POST', '/v1/collections/bulk/ingest', { documents: [{ id: 'after-cancel', text: prose('after-cancel', 5) }] });
    expect((await finished(s, next.body.job.id)).status).toBe('done');
    const later = (await s.request('GET', `/v1/jobs/${r.body.job.id}`)).body.job;
    expect(later.done).toBe(job.done);
    const listed = (await s.request('GET', '/v1/collections/bulk/documents?limit=1000')).body.documents.filter((d: Json) => /^c\d+$/.test(d.id));
    expect(listed).toHaveLength(job.done);
  });

  it('a graceful stop mid-job exits 0 and the job finishes after the restart', async () => {
    const documents = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, text: prose(`t${i}`, 30) }));
    const r = await s.request('POST', '/v1/collections/bulk/ingest', { documents });
    const at = await waitFor(s, r.body.job.id, (j) => j.done >= 10);
    expect(at.status).toBe('running');
    expect(await s.stop('SIGTERM')).toBe(0);
    s = await TestServer.start({ process: true, dataDir: s.dataDir, env });
    const job = await finished(s, r.body.job.id);
    expect(job).toMatchObject({ status: 'done', done: 200, failed: 0 });
  });
});

describe('jobs and collection-scoped keys', () => {
  let s: TestServer;
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  beforeAll(async () => {
    s = await TestServer.start({ env: { QUIVER_API_KEYS: 'admin-key-0123456789:admin,mine-key-0123456789:write:mine' } });
    for (const name of ['mine', 'theirs']) expect((await s.request('POST', '/v1/collections', { name }, auth('admin-key-0123456789'))).status).toBe(201);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('sees and cancels only the jobs of its collections', async () => {
    const theirs = await s.request('POST', '/v1/collections/theirs/ingest', { documents: [{ id: 'a', text: 'their text' }] }, auth('admin-key-0123456789'));
    expect(theirs.status).toBe(202);
    expect((await s.request('POST', '/v1/collections/theirs/ingest', { documents: [{ id: 'a', text: 'x' }] }, auth('mine-key-0123456789'))).status).toBe(403);
    const mine = await s.request('POST', '/v1/collections/mine/ingest', { documents: [{ id: 'a', text: 'my text' }] }, auth('mine-key-0123456789'));
    expect(mine.status).toBe(202);
    expect((await s.request('GET', `/v1/jobs/${mine.body.job.id}`, undefined, auth('mine-key-0123456789'))).status).toBe(200);
    const hidden = await s.request('GET', `/v1/jobs/${theirs.body.job.id}`, undefined, auth('mine-key-0123456789'));
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('JOB_NOT_FOUND');
    expect((await s.request('POST', `/v1/jobs/${theirs.body.job.id}/cancel`, undefined, auth('mine-key-0123456789'))).status).toBe(404);
    const listed = await s.request('GET', '/v1/jobs', undefined, auth('mine-key-0123456789'));
    expect(listed.body.jobs.map((j: Json) => j.collection)).toEqual(['mine']);
    expect((await s.request('GET', '/v1/jobs?collection=theirs', undefined, auth('mine-key-0123456789'))).status).toBe(404);
    expect((await s.request('GET', '/v1/jobs', undefined, auth('admin-key-0123456789'))).body.jobs).toHaveLength(2);
    expect((await s.request('GET', '/v1/jobs')).status).toBe(401);
  });
});
