// Metadata filters through HTTP (query, list, delete-by-filter, errors) and the query planner's
// promise: filtered search keeps recall@10 ≥ 0.95 against exact search at every selectivity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';
import { randomVectors } from '../fixtures/vectors.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'normal', QUIVER_HNSW_EF_CONSTRUCTION: '100' } });
});
afterAll(async () => {
  await s.stop();
});

const none = (dimension: number) => ({ embedder: { provider: 'none' }, dimension });

describe('filters on query, list and delete', () => {
  const vectors = randomVectors(40, 4, 7);
  beforeAll(async () => {
    await s.request('POST', '/v1/collections', { name: 'shop', ...none(4) });
    const documents = vectors.map((vector, i) => ({
      id: `p${String(i).padStart(2, '0')}`,
      vector,
      text: i % 2 === 0 ? `red shoe number ${i}` : `blue hat number ${i}`,
      metadata: { colour: i % 2 === 0 ? 'red' : 'blue', price: i, tags: i % 5 === 0 ? ['sale', 'new'] : ['new'], ...(i < 10 ? { featured: true } : {}) },
    }));
    expect((await s.request('PUT', '/v1/collections/shop/documents', { documents })).status).toBe(200);
  });

  it('returns only matching documents from a vector query, nearest first', async () => {
    const r = await s.request('POST', '/v1/collections/shop/query', { vector: vectors[3], k: 5, filter: { colour: 'red', price: { $lt: 20 } } });
    expect(r.status).toBe(200);
    expect(r.body.hits).toHaveLength(5);
    for (const h of r.body.hits) expect(h.metadata).toMatchObject({ colour: 'red' });
    for (const h of r.body.hits) expect(h.metadata.price).toBeLessThan(20);
    const scores = r.body.hits.map((h: { score: number }) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(r.body.plan).toMatchObject({ vector: 'exact', filtered_chunks: 10 });
  });

  it('matches array metadata by membership and combines $or / $not', async () => {
    const r = await s.request('POST', '/v1/collections/shop/query', {
      vector: vectors[0],
      k: 40,
      include: ['metadata'],
      filter: { $or: [{ tags: 'sale' }, { featured: { $exists: true } }], $not: { price: { $in: [0, 1, 2] } } },
    });
    const ids = r.body.hits.map((h: { id: string }) => h.id).sort();
    expect(ids).toEqual(['p03', 'p04', 'p05', 'p06', 'p07', 'p08', 'p09', 'p10', 'p15', 'p20', 'p25', 'p30', 'p35']);
  });

  it('filters the document list, paging by cursor', async () => {
    const filter = encodeURIComponent(JSON.stringify({ colour: 'blue', price: { $gte: 20 } }));
    const first = await s.request('GET', `/v1/collections/shop/documents?limit=6&filter=${filter}`);
    expect(first.status).toBe(200);
    expect(first.body.documents.map((d: { id: string }) => d.id)).toEqual(['p21', 'p23', 'p25', 'p27', 'p29', 'p31']);
    const second = await s.request('GET', `/v1/collections/shop/documents?limit=6&filter=${filter}&cursor=${first.body.next_cursor}`);
    expect(second.body.documents.map((d: { id: string }) => d.id)).toEqual(['p33', 'p35', 'p37', 'p39']);
    expect(second.body.next_cursor).toBeNull();
  });

  it('refuses bad filters with 400 naming the field, on every endpoint', async () => {
    const q = await s.request('POST', '/v1/collections/shop/query', { vector: vectors[0], filter: { price: { $between: [1, 2] } } });
    expect(q.status).toBe(400);
    expect(q.body.error.details.issues[0].field).toBe('filter.price.$between');
    const wrongType = await s.request('POST', '/v1/collections/shop/query', { vector: vectors[0], filter: { price: { $gt: [1] } } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.message).toContain('filter.price.$gt');
    const list = await s.request('GET', `/v1/collections/shop/documents?filter=${encodeURIComponent('{"colour":')}`);
    expect(list.status).toBe(400);
    expect(list.body.error.details.issues[0].field).toBe('filter');
    const listOp = await s.request('GET', `/v1/collections/shop/documents?filter=${encodeURIComponent('{"$nor":[]}')}`);
    expect(listOp.body.error.details.issues[0].field).toBe('filter.$nor');
    for (const path of ['recommend', 'cluster', 'project']) {
      const body = path === 'recommend' ? { positive: ['p01'], filter: { a: { $x: 1 } } } : { filter: { a: { $x: 1 } } };
      const r = await s.request('POST', `/v1/collections/shop/${path}`, body);
      expect(r.status, path).toBe(400);
      expect(r.body.error.details.issues[0].field, path).toBe('filter.a.$x');
    }
    const del = await s.request('POST', '/v1/collections/shop/documents/delete', { filter: {} });
    expect(del.status).toBe(400);
    expect(del.body.error.details.issues[0].field).toBe('filter');
  });

  it('deletes by filter: gone from lists, vector and keyword search; the rest stays', async () => {
    const r = await s.request('POST', '/v1/collections/shop/documents/delete', { filter: { colour: 'blue', price: { $gte: 30 } } });
    expect(r.body).toEqual({ deleted: 5 });
    const left = await s.request('GET', '/v1/collections/shop/documents?limit=100');
    expect(left.body.documents).toHaveLength(35);
    const q = await s.request('POST', '/v1/collections/shop/query', { vector: vectors[31], k: 40, include: [] });
    expect(q.body.hits.map((h: { id: string }) => h.id)).not.toContain('p31');
    expect(q.body.hits).toHaveLength(35);
    const kw = await s.request('POST', '/v1/collections/shop/query', { text: 'blue hat', mode: 'keyword', k: 40, include: [] });
    expect(kw.body.hits).toHaveLength(15);
    expect((await s.request('POST', '/v1/collections/shop/documents/delete', { filter: { colour: 'green' } })).body).toEqual({ deleted: 0 });
  });
});

describe('filtered recall (planner)', () => {
  const N = 20_000;
  const DIM = 16;
  const vectors = randomVectors(N, DIM, 11);
  const queries = randomVectors(20, DIM, 12);

  beforeAll(async () => {
    await s.request('POST', '/v1/collections', { name: 'big', ...none(DIM) });
    for (let i = 0; i < N; i += 1000) {
      const documents = vectors.slice(i, i + 1000).map((vector, j) => ({ id: `d${i + j}`, vector, metadata: { bucket: (i + j) % 1000 } }));
      const r = await s.request('PUT', '/v1/collections/big/documents', { documents });
      expect(r.status).toBe(200);
    }
  }, 300_000);

  function exactTop(q: number[], pass: (i: number) => boolean, k: number): string[] {
    const scored: [number, number][] = [];
    const qn = Math.hypot(...q);
    vectors.forEach((v, i) => {
      if (!pass(i)) return;
      let dot = 0;
      for (let j = 0; j < DIM; j++) dot += v[j]! * q[j]!;
      scored.push([i, dot / (qn * Math.hypot(...v))]);
    });
    return scored
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([i]) => `d${i}`);
  }

  it.each([
    ['0.1%', 1, 'exact'],
    ['1%', 10, 'exact'],
    ['10%', 100, 'exact'],
    ['50%', 500, 'hnsw_filtered'],
  ])('recall@10 ≥ 0.95 at %s selectivity', async (label, below, strategy) => {
    let found = 0;
    let total = 0;
    for (const q of queries) {
      const r = await s.request('POST', '/v1/collections/big/query', { vector: q, k: 10, include: ['metadata'], filter: { bucket: { $lt: below } } });
      expect(r.status).toBe(200);
      expect(r.body.plan).toEqual({ vector: strategy, filtered_chunks: (N / 1000) * below });
      for (const h of r.body.hits) expect(h.metadata.bucket).toBeLessThan(below);
      const truth = exactTop(q, (i) => i % 1000 < below, 10);
      const got = new Set(r.body.hits.map((h: { id: string }) => h.id));
      found += truth.filter((id) => got.has(id)).length;
      total += truth.length;
    }
    const recall = found / total;
    console.info(`filtered recall@10 at ${label}: ${recall.toFixed(3)} (${strategy})`);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });
});
