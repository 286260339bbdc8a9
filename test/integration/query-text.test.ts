// Keyword (FTS5 BM25), hybrid (RRF) and Chinese search with the built-in model, through HTTP;
// the FTS index following writes, deletes and restarts; offset, score_threshold, group_by; and
// RAG context packing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
});
afterAll(async () => {
  await s.stop();
});

const docs = [
  { id: 'reset', text: 'To reset your password, open Settings, choose Security and follow the reset link we email you.', metadata: { lang: 'en', topic: 'account' } },
  { id: 'billing', text: 'Invoices are sent monthly. Update your credit card under Billing to avoid a failed payment.', metadata: { lang: 'en', topic: 'billing' } },
  { id: 'errx42', text: 'Error code QX-4471 means the upload token expired; request a new token and retry the upload.', metadata: { lang: 'en', topic: 'errors' } },
  { id: 'garden', text: 'Tomatoes need full sun, rich soil and deep watering twice a week in summer.', metadata: { lang: 'en', topic: 'garden' } },
  { id: 'zh-reset', text: '重置您的密码的步骤：打开设置，选择安全，然后点击邮件中的链接。', metadata: { lang: 'zh', topic: 'account' } },
  { id: 'zh-bill', text: '发票每月发送一次。请在账单页面更新您的信用卡。', metadata: { lang: 'zh', topic: 'billing' } },
];

const query = (body: object, collection = 'help') => s.request('POST', `/v1/collections/${collection}/query`, body);
const ids = (r: { body: { hits: { id: string }[] } }) => r.body.hits.map((h) => h.id);

describe('keyword and hybrid search', () => {
  beforeAll(async () => {
    await s.request('POST', '/v1/collections', { name: 'help' });
    expect((await s.request('PUT', '/v1/collections/help/documents', { documents: docs })).status).toBe(200);
  });

  it('finds an exact identifier by keyword that the model does not know', async () => {
    const r = await query({ text: 'QX-4471', mode: 'keyword', k: 3 });
    expect(r.status).toBe(200);
    expect(r.body.mode).toBe('keyword');
    expect(ids(r)).toEqual(['errx42']);
    expect(r.body.hits[0]).toMatchObject({ document_id: 'errx42', chunk_index: 0 });
    expect(r.body.hits[0].score).toBeGreaterThan(0);
    // FTS5 query syntax in the text is matched as words, never parsed.
    for (const text of ['"*) OR NEAR(', 'token AND NOT upload', '!!!']) {
      const odd = await query({ text, mode: 'keyword' });
      expect(odd.status, text).toBe(200);
    }
    expect(ids(await query({ text: 'token AND NOT upload', mode: 'keyword' }))[0]).toBe('errx42'); // "and" is a word here, not an operator
  });

  it('defaults to hybrid for a collection with a model, reporting both component ranks', async () => {
    const d = await query({ text: 'how do I reset my password', k: 3 });
    expect(d.body.mode).toBe('hybrid');
    expect(d.body.hits[0]).toMatchObject({ id: 'reset', keyword_rank: 1 });
    expect(d.body.hits[0].vector_rank).toBeGreaterThanOrEqual(1);
    // Meaning without shared words: keyword alone finds nothing, hybrid still answers.
    expect(ids(await query({ text: 'vegetables sunlight', mode: 'keyword' }))).toEqual([]);
    expect(ids(await query({ text: 'vegetables sunlight', k: 1 }))).toEqual(['garden']);
    const r = await query({ text: 'how do I reset my password', k: 3, fusion: 'rrf' });
    expect(r.body.hits[0].id).toBe('reset');
    // RRF with k=60 and both ranks known: the score is the sum of both reciprocal ranks.
    const h = r.body.hits[0];
    expect(h.score).toBeCloseTo(1 / (60 + h.vector_rank) + 1 / (60 + h.keyword_rank), 10);
    for (const hit of r.body.hits) {
      expect(hit).toHaveProperty('vector_rank');
      expect(hit).toHaveProperty('keyword_rank');
    }
  });

  it('applies rrf_k and weights', async () => {
    const r = await query({ text: 'reset password', k: 1, fusion: 'rrf', rrf_k: 10, weights: { vector: 0, keyword: 2 } });
    const h = r.body.hits[0];
    expect(h.id).toBe('reset');
    expect(h.score).toBeCloseTo(2 / (10 + h.keyword_rank), 10);
  });

  it('finds Chinese by words: 如何重置密码 finds 重置您的密码的步骤', async () => {
    for (const mode of ['keyword', 'hybrid']) {
      const r = await query({ text: '如何重置密码', mode, k: 2 });
      expect(r.status).toBe(200);
      expect(ids(r)[0], mode).toBe('zh-reset');
    }
    const bill = await query({ text: '信用卡', mode: 'keyword' });
    expect(ids(bill)).toEqual(['zh-bill']);
  });

  it('filters keyword and hybrid results', async () => {
    const r = await query({ text: 'reset password 重置 密码', mode: 'hybrid', k: 10, filter: { lang: 'zh' } });
    expect(ids(r)[0]).toBe('zh-reset');
    for (const h of r.body.hits) expect(h.metadata.lang).toBe('zh');
  });

  it('pages with offset and cuts with score_threshold', async () => {
    const all = await query({ text: 'password card token soil', mode: 'keyword', k: 10, include: [] });
    expect(all.body.hits.length).toBeGreaterThanOrEqual(4);
    const page2 = await query({ text: 'password card token soil', mode: 'keyword', k: 2, offset: 2, include: [] });
    expect(ids(page2)).toEqual(ids(all).slice(2, 4));
    const cut = all.body.hits[1].score;
    const above = await query({ text: 'password card token soil', mode: 'keyword', k: 10, score_threshold: cut, include: [] });
    expect(above.body.hits.every((h: { score: number }) => h.score >= cut)).toBe(true);
    expect(above.body.hits.length).toBeLessThan(all.body.hits.length);
    const tooFar = await query({ text: 'x', k: 10, offset: 9995 });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.error.details.issues[0].field).toBe('offset');
  });

  it('refuses bad mode, weights and a vector in keyword mode with 400 naming the field', async () => {
    for (const [body, field] of [
      [{ text: 'a', mode: 'fuzzy' }, 'mode'],
      [{ text: 'a', weights: { vector: -1 } }, 'weights.vector'],
      [{ text: 'a', rrf_k: 'sixty' }, 'rrf_k'],
      [{ text: 'a', group_by: 'chunk' }, 'group_by'],
      [{ vector: new Array(100).fill(0.1), mode: 'keyword' }, 'text'],
    ] as const) {
      const r = await query(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.details.issues.map((i: { field: string }) => i.field), JSON.stringify(body)).toContain(field);
    }
  });

  it('keeps the keyword index in step with updates and deletes, and across a restart', async () => {
    await s.request('PUT', '/v1/collections/help/documents', { documents: [{ id: 'garden', text: 'Cucumbers climb trellises and like warm nights.' }] });
    expect(ids(await query({ text: 'tomatoes', mode: 'keyword' }))).toEqual([]);
    expect(ids(await query({ text: 'cucumbers', mode: 'keyword' }))).toEqual(['garden']);
    await s.request('DELETE', '/v1/collections/help/documents/billing');
    expect(ids(await query({ text: 'invoices', mode: 'keyword' }))).toEqual([]);
    await s.stop();
    s = await TestServer.start({ dataDir: s.dataDir });
    expect(ids(await query({ text: 'cucumbers', mode: 'keyword' }))).toEqual(['garden']);
    expect(ids(await query({ text: 'QX-4471', mode: 'keyword' }))).toEqual(['errx42']);
  });

  it('keyword search works on a collection without a model; vector stays its default', async () => {
    await s.request('POST', '/v1/collections', { name: 'raw', embedder: { provider: 'none' }, dimension: 2 });
    await s.request('PUT', '/v1/collections/raw/documents', {
      documents: [
        { id: 'a', vector: [1, 0], text: 'alpha particle' },
        { id: 'b', vector: [0, 1], text: 'beta decay' },
      ],
    });
    const v = await query({ vector: [0, 1], k: 1 }, 'raw');
    expect(v.body.mode).toBe('vector');
    expect(ids(v)).toEqual(['b']);
    expect(ids(await query({ text: 'alpha', mode: 'keyword' }, 'raw'))).toEqual(['a']);
    const h = await query({ text: 'alpha', vector: [0, 1], mode: 'hybrid', k: 2 }, 'raw');
    expect(h.body.hits.map((x: { id: string; vector_rank: number; keyword_rank: number }) => [x.id, x.vector_rank, x.keyword_rank])).toEqual([
      ['a', 2, 1],
      ['b', 1, null],
    ]);
  });
});

describe('text the model cannot embed', () => {
  it('is found by keyword and hybrid search, though never by vector search', async () => {
    await s.request('POST', '/v1/collections', { name: 'codes' });
    await s.request('PUT', '/v1/collections/codes/documents', { documents: [{ id: 'junk', text: 'qwzxv bnmkj' }, { id: 'cat', text: 'the cat sat' }] });
    expect(ids(await query({ text: 'qwzxv', mode: 'vector' }, 'codes'))).toEqual([]);
    expect(ids(await query({ text: 'qwzxv', mode: 'keyword' }, 'codes'))).toEqual(['junk']);
    const h = await query({ text: 'qwzxv' }, 'codes');
    expect(ids(h)).toEqual(['junk']);
    expect(h.body.warning).toContain('no words the model knows');
  });
});

describe('RAG context', () => {
  it('packs the best chunks under max_tokens, in rank order, with citations', async () => {
    const r = await s.request('POST', '/v1/collections/help/context', { text: 'reset my password', max_tokens: 80 });
    expect(r.status).toBe(200);
    expect(r.body.chunks.length).toBeGreaterThanOrEqual(1);
    expect(r.body.chunks[0]).toMatchObject({ document_id: 'reset', chunk_index: 0, metadata: { topic: 'account' } });
    expect(r.body.tokens).toBeLessThanOrEqual(80);
    expect(r.body.tokens).toBe(r.body.chunks.reduce((n: number, c: { tokens: number }) => n + c.tokens, 0));
    expect(r.body.context.startsWith('[1] (reset#0)\nTo reset your password')).toBe(true);
    const scores = r.body.chunks.map((c: { score: number }) => c.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('leaves out duplicates and respects a tiny budget', async () => {
    await s.request('PUT', '/v1/collections/help/documents', { documents: [{ id: 'reset-copy', text: docs[0]!.text }] });
    const r = await s.request('POST', '/v1/collections/help/context', { text: 'reset password settings', max_tokens: 500 });
    const texts = r.body.chunks.map((c: { text: string }) => c.text);
    expect(new Set(texts).size).toBe(texts.length);
    const none = await s.request('POST', '/v1/collections/help/context', { text: 'reset password', max_tokens: 3 });
    expect(none.body).toMatchObject({ chunks: [], context: '', tokens: 0 });
    const bad = await s.request('POST', '/v1/collections/help/context', { text: '  ', max_tokens: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['max_tokens', 'text']);
  });
});
