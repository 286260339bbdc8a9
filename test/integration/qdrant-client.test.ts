// The Qdrant surface driven by the real @qdrant/js-client-rest against a real Quiver: the
// client's README flow with checked values (create, upsert with integer and UUID ids and nested
// payloads, query with a filter, recommend, search, scroll in pages, count, retrieve, delete by
// id and by filter, collection info/exists/list/delete), server-side {text, model} embedding, the
// warning for a filter key no point has, and errors in Qdrant's shape.
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';

let s: TestServer;
let client: QdrantClient;
const U1 = '5c56c793-69f3-4fbf-87e6-c4bf54c28c26';
const U2 = 'F0E1D2C3-B4A5-4697-8899-AABBCCDDEEFF'; // upper case: stored and returned canonical

beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none' } });
  client = new QdrantClient({ url: s.url, checkCompatibility: false });
});
afterAll(async () => {
  await s.stop();
});

describe('the Qdrant client README flow', () => {
  const name = 'readme';
  it('creates a collection and shows it in Qdrant shape', async () => {
    expect(await client.createCollection(name, { vectors: { size: 4, distance: 'Dot' }, hnsw_config: { m: 8, ef_construct: 64 } })).toBe(true);
    expect((await client.collectionExists(name)).exists).toBe(true);
    expect((await client.collectionExists('nope')).exists).toBe(false);
    expect((await client.getCollections()).collections.map((c) => c.name)).toContain(name);
    const info = await client.getCollection(name);
    expect(info.status).toBe('green');
    expect(info.points_count).toBe(0);
    expect(info.config.params.vectors).toEqual({ size: 4, distance: 'Dot' });
    expect(info.config.hnsw_config).toMatchObject({ m: 8, ef_construct: 64 });
  });

  it('upserts points with integer and UUID ids and nested payloads', async () => {
    const r = await client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [0.05, 0.61, 0.76, 0.74], payload: { city: 'Berlin', n: 1, meta: { source: 'a.txt', tags: ['x', 'y'] } } },
        { id: 2, vector: [0.19, 0.81, 0.75, 0.11], payload: { city: 'London', n: 2, meta: { source: 'b.txt' }, gone: null } },
        { id: 3, vector: [0.36, 0.55, 0.47, 0.94], payload: { city: 'Moscow', n: 3, meta: { source: 'a.txt' } } },
        { id: 4, vector: [0.18, 0.01, 0.85, 0.8], payload: { city: 'New York', n: 4, empty: {} } },
        { id: U1, vector: [0.24, 0.18, 0.22, 0.44], payload: { city: 'Beijing', n: 5 } },
        { id: U2, vector: [0.35, 0.08, 0.11, 0.44], payload: { city: 'Mumbai', n: 6 } },
      ],
    });
    expect(r.status).toBe('completed');
    expect((await client.count(name)).count).toBe(6);
    const got = await client.retrieve(name, { ids: [2, U1, U2.toLowerCase(), 99], with_vector: true });
    expect(got.map((p) => p.id)).toEqual([2, U1, U2.toLowerCase()]);
    expect(got[0]!.payload).toEqual({ city: 'London', n: 2, meta: { source: 'b.txt' }, gone: null });
    expect(got[0]!.vector).toEqual([0.19, 0.81, 0.75, 0.11].map(Math.fround));
  });

  it('queries with a filter on a nested key, scores as Dot products', async () => {
    const r = await client.query(name, {
      query: [0.2, 0.1, 0.9, 0.7],
      filter: { must: [{ key: 'meta.source', match: { value: 'a.txt' } }] },
      with_payload: true,
      limit: 3,
    });
    expect(r.points.map((p) => p.id)).toEqual([1, 3]);
    expect(r.points[0]!.score).toBeCloseTo(0.2 * 0.05 + 0.1 * 0.61 + 0.9 * 0.76 + 0.7 * 0.74, 5);
    expect(r.points[0]!.payload).toEqual({ city: 'Berlin', n: 1, meta: { source: 'a.txt', tags: ['x', 'y'] } });
    const search = await client.search(name, { vector: [0.2, 0.1, 0.9, 0.7], limit: 3, with_payload: ['city'] });
    expect(search.map((p) => p.id)).toEqual([4, 1, 3]);
    expect(search[0]!.payload).toEqual({ city: 'New York' });
  });

  it('filters: should, must_not, range, match any/except, has_id, is_null, is_empty, min_should', async () => {
    const ids = async (filter: Json) => (await client.scroll(name, { filter, limit: 100, with_payload: false })).points.map((p) => p.id).sort();
    expect(await ids({ should: [{ key: 'city', match: { value: 'Berlin' } }, { key: 'n', range: { gte: 5 } }] })).toEqual([1, U1, U2.toLowerCase()].sort());
    expect(await ids({ must_not: [{ key: 'n', range: { lt: 5 } }] })).toEqual([U1, U2.toLowerCase()].sort());
    expect(await ids({ must: [{ key: 'city', match: { any: ['London', 'Moscow'] } }] })).toEqual([2, 3]);
    expect(await ids({ must: [{ key: 'meta.source', match: { except: ['a.txt'] } }, { key: 'n', range: { lte: 2 } }] })).toEqual([2]);
    expect(await ids({ must: [{ has_id: [1, U1] }] })).toEqual([1, U1].sort());
    expect(await ids({ must: [{ is_null: { key: 'gone' } }] })).toEqual([2]);
    expect(await ids({ must: [{ is_empty: { key: 'meta.source' } }] })).toEqual([4, U1, U2.toLowerCase()].sort());
    expect(await ids({ must: [{ key: 'meta.tags', match: { value: 'y' } }] })).toEqual([1]);
    expect(await ids({ min_should: { min_count: 2, conditions: [{ key: 'n', range: { gte: 2 } }, { key: 'meta.source', match: { value: 'a.txt' } }, { key: 'n', range: { lte: 3 } }] } })).toEqual([1, 2, 3]);
  });

  it('recommends from point ids and vectors, with both strategies', async () => {
    const avg = await client.recommend(name, { positive: [1], negative: [4], limit: 2 });
    expect(avg.map((p) => p.id)).not.toContain(1);
    expect(avg.map((p) => p.id)).not.toContain(4);
    expect(avg).toHaveLength(2);
    const best = await client.query(name, { query: { recommend: { positive: [1, [0.3, 0.6, 0.5, 0.9]], strategy: 'best_score' } }, limit: 3 });
    expect(best.points).toHaveLength(3);
    expect(best.points.map((p) => p.id)).not.toContain(1);
    // By id: the point itself is left out.
    const byId = await client.query(name, { query: 3, limit: 10 });
    expect(byId.points.map((p) => p.id)).not.toContain(3);
    expect(byId.points).toHaveLength(5);
  });

  it('scrolls in pages with next_page_offset', async () => {
    const seen: Json[] = [];
    let offset: Json = undefined;
    for (let i = 0; i < 10; i++) {
      const page = await client.scroll(name, { limit: 4, offset, with_payload: true });
      seen.push(...page.points.map((p) => p.id));
      if (page.next_page_offset === null || page.next_page_offset === undefined) break;
      offset = page.next_page_offset;
    }
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it('deletes by id and by filter', async () => {
    await client.delete(name, { wait: true, points: [U2.toLowerCase(), 77] });
    expect((await client.count(name)).count).toBe(5);
    await client.delete(name, { wait: true, filter: { must: [{ key: 'meta.source', match: { value: 'a.txt' } }] } });
    expect((await client.count(name, { exact: true })).count).toBe(3);
    expect((await client.retrieve(name, { ids: [1, 3] })).length).toBe(0);
  });

  it('warns about a filter key no point has, and still answers', async () => {
    const r = await s.request('POST', `/collections/${name}/points/count`, { filter: { must: [{ key: 'meta.sorce', match: { value: 'a.txt' } }] } });
    expect(r.status).toBe(200);
    expect(r.body.result).toEqual({ count: 0 });
    expect(r.body.status).toBe('ok');
    expect(r.body.warnings[0].message).toContain('"meta.sorce"');
    const fine = await s.request('POST', `/collections/${name}/points/count`, { filter: { must: [{ key: 'meta', match: { value: 'x' } }] } });
    expect(fine.body.warnings).toBeUndefined(); // "meta" has keys below it
  });

  it('answers errors in Qdrant shape, which the client raises', async () => {
    const r = await s.request('PUT', `/collections/${name}/points`, { points: [{ id: 'not-a-uuid', vector: [1, 2, 3, 4] }] });
    expect(r.status).toBe(400);
    expect(r.body.status.error).toContain('points.0.id');
    const dims = await s.request('PUT', `/collections/${name}/points`, { points: [{ id: 9, vector: [1, 2] }] });
    expect(dims.status).toBe(400);
    expect(dims.body.status.error).toMatch(/points\.0\.vector.*2.*4/);
    await expect(client.getCollection('missing')).rejects.toMatchObject({ status: 404 });
    await expect(client.createCollection('manhattan', { vectors: { size: 2, distance: 'Manhattan' } })).rejects.toMatchObject({ status: 400 });
    await expect(client.createCollection('named', { vectors: { a: { size: 2, distance: 'Cosine' } } })).rejects.toMatchObject({ status: 400 });
    const dotted = await s.request('PUT', `/collections/${name}/points`, { points: [{ id: 9, vector: [1, 2, 3, 4], payload: { 'a.b': 1 } }] });
    expect(dotted.body.status.error).toContain('points.0.payload.a.b');
    const objs = await s.request('PUT', `/collections/${name}/points`, { points: [{ id: 9, vector: [1, 2, 3, 4], payload: { a: [{ b: 1 }] } }] });
    expect(objs.body.status.error).toContain('arrays of objects');
  });

  it('gives the version and deletes the collection', async () => {
    const v = await client.versionInfo();
    expect(v.title).toContain('quiver');
    expect(v.version).toBe('1.18.0');
    expect(await client.deleteCollection(name)).toBe(true);
    expect(await client.deleteCollection(name)).toBe(false);
    expect((await client.collectionExists(name)).exists).toBe(false);
  });
});

describe('Quiver collections seen through the Qdrant API', () => {
  it('shows a /v1 collection with its size and distance, and its documents as points', async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'native', embedder: { provider: 'none' }, dimension: 2, metric: 'l2' })).status).toBe(201);
    await s.request('PUT', '/v1/collections/native/documents', { documents: [{ id: 'cat', vector: [0, 0], metadata: { kind: 'pet' } }, { id: '7', vector: [3, 4] }] });
    const info = await client.getCollection('native');
    expect(info.config.params.vectors).toEqual({ size: 2, distance: 'Euclid' });
    const r = await client.query('native', { query: [0, 0], with_payload: true });
    // Euclid: the distance, smallest first.
    expect(r.points.map((p) => [p.id, p.score])).toEqual([
      ['cat', 0],
      [7, 5],
    ]);
    expect(r.points[0]!.payload).toEqual({ kind: 'pet' });
    const near = await client.search('native', { vector: [0, 0], score_threshold: 1 });
    expect(near.map((p) => p.id)).toEqual(['cat']);
  });
});

describe('server-side embedding of {text, model} documents', () => {
  it('embeds points and queries with a local model, and refuses a size mismatch naming both sizes', async () => {
    const model = 'quiver-glove-sif-100d';
    await client.createCollection('docs', { vectors: { size: 100, distance: 'Cosine' } });
    await client.upsert('docs', {
      points: [
        { id: 1, vector: { text: 'The cat sat on the mat and purred.', model }, payload: { text: 'cat' } },
        { id: 2, vector: { text: 'Boil the pasta for ten minutes and drain it.', model }, payload: { text: 'pasta' } },
      ],
    });
    const r = await client.query('docs', { query: { text: 'how long to cook spaghetti', model }, limit: 1, with_payload: true });
    expect(r.points[0]!.id).toBe(2);
    expect(r.points[0]!.score).toBeGreaterThan(0);
    const nearest = await client.query('docs', { query: { nearest: { text: 'kitten', model } }, limit: 1 });
    expect(nearest.points[0]!.id).toBe(1);
    await client.createCollection('small', { vectors: { size: 8, distance: 'Cosine' } });
    const bad = await s.request('PUT', '/collections/small/points', { points: [{ id: 1, vector: { text: 'hello', model } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.status.error).toMatch(/100-dimension.*has 8/);
    const unknown = await s.request('POST', '/collections/docs/points/query', { query: { text: 'hello', model: 'no-such-model' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.status.error).toContain('query.model');
  });

  it('re-ranks with MMR', async () => {
    await client.createCollection('mmr', { vectors: { size: 2, distance: 'Cosine' } });
    await client.upsert('mmr', {
      points: [
        { id: 1, vector: [1, 0] },
        { id: 2, vector: [1, 0.01] },
        { id: 3, vector: [0.7, 0.7] },
      ],
    });
    const plain = await client.query('mmr', { query: [1, 0], limit: 2 });
    expect(plain.points.map((p) => p.id)).toEqual([1, 2]);
    const diverse = await client.query('mmr', { query: { nearest: [1, 0], mmr: { diversity: 0.9, candidates_limit: 3 } }, limit: 2 });
    expect(diverse.points.map((p) => p.id)).toEqual([1, 3]);
  });
});
