// The Qdrant surface's 401/403 matrix (Qdrant's api-key header, read/write/admin keys, a key
// scoped to one collection, no key, a wrong key) and a fuzz of its routes: random bodies built
// from the shapes of Qdrant's requests never get a 5xx, and every error is in Qdrant's shape.
import fc from 'fast-check';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';

const KEYS = {
  admin: 'q-admin-key-0123456789abcdef',
  write: 'q-write-key-0123456789abcdef',
  read: 'q-read-key-0123456789abcdef',
  scoped: 'q-scoped-write-key-0123456789',
  wrong: 'q-not-a-key-0123456789abcdef',
};
type Who = 'none' | keyof typeof KEYS;
const header = (who: Who): Record<string, string> => (who === 'none' ? {} : { 'api-key': KEYS[who] });

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({
    env: {
      QUIVER_EMBEDDER: 'none',
      QUIVER_API_KEYS: [`${KEYS.admin}:admin`, `${KEYS.write}:write`, `${KEYS.read}:read`, `${KEYS.scoped}:write:mine`].join(','),
    },
  });
  for (const name of ['mine', 'theirs']) {
    expect((await s.request('PUT', `/collections/${name}`, { vectors: { size: 2, distance: 'Cosine' } }, header('admin'))).status).toBe(200);
    expect((await s.request('PUT', `/collections/${name}/points`, { points: [{ id: 1, vector: [1, 0], payload: { a: 1 } }] }, header('admin'))).status).toBe(200);
  }
});
afterAll(async () => {
  await s.stop();
});

const WHO: Who[] = ['none', 'wrong', 'read', 'write', 'admin', 'scoped'];
const read = (c: string) => ({ none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: c === 'mine' ? 200 : 403 });
const write = (c: string) => ({ none: 401, wrong: 401, read: 403, write: 200, admin: 200, scoped: c === 'mine' ? 200 : 403 });

interface Case {
  method: string;
  path: (c: string) => string;
  body?: unknown;
  expect: (c: string) => Record<Who, number>;
}

const cases: Case[] = [
  { method: 'GET', path: () => '/', expect: () => ({ none: 200, wrong: 200, read: 200, write: 200, admin: 200, scoped: 200 }) },
  { method: 'GET', path: () => '/collections', expect: () => read('mine') }, // filtered to the key's collections
  { method: 'GET', path: (c) => `/collections/${c}`, expect: read },
  { method: 'GET', path: (c) => `/collections/${c}/exists`, expect: read },
  { method: 'PUT', path: (c) => `/collections/${c}/points`, body: { points: [{ id: 2, vector: [0, 1] }] }, expect: write },
  { method: 'POST', path: (c) => `/collections/${c}/points`, body: { ids: [1] }, expect: read },
  { method: 'GET', path: (c) => `/collections/${c}/points/1`, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/scroll`, body: {}, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/count`, body: {}, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/query`, body: { query: [1, 0] }, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/query/batch`, body: { searches: [{ query: [1, 0] }] }, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/search`, body: { vector: [1, 0], limit: 1 }, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/search/batch`, body: { searches: [{ vector: [1, 0], limit: 1 }] }, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/recommend`, body: { positive: [1], limit: 1 }, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/recommend/batch`, body: { searches: [{ positive: [1], limit: 1 }] }, expect: read },
  { method: 'POST', path: (c) => `/collections/${c}/points/delete`, body: { points: [99] }, expect: write },
  {
    method: 'PUT',
    path: (c) => `/collections/${c}/index`,
    body: { field_name: 'a', field_schema: 'integer' },
    // A scoped key is a write key: payload indexes are the admin's.
    expect: () => ({ none: 401, wrong: 401, read: 403, write: 403, admin: 200, scoped: 403 }),
  },
  { method: 'DELETE', path: (c) => `/collections/${c}/index/a`, expect: () => ({ none: 401, wrong: 401, read: 403, write: 403, admin: 200, scoped: 403 }) },
];

describe('Qdrant routes: the 401/403 matrix with the api-key header', () => {
  for (const c of cases) {
    for (const coll of ['mine', 'theirs']) {
      it(`${c.method} ${c.path(coll)}`, async () => {
        for (const who of WHO) {
          const r = await s.request(c.method, c.path(coll), c.body, header(who));
          expect(r.status, `${who}: ${JSON.stringify(r.body)}`).toBe(c.expect(coll)[who]);
          if (r.status >= 400) expect(typeof r.body.status.error, who).toBe('string');
        }
      });
    }
  }

  it('creating and deleting collections needs admin; a scoped admin-less key may not', async () => {
    const body = { vectors: { size: 2, distance: 'Dot' } };
    for (const who of ['read', 'write', 'scoped'] as const) expect((await s.request('PUT', '/collections/mine2', body, header(who))).status).toBe(403);
    expect((await s.request('PUT', '/collections/made', body, header('admin'))).status).toBe(200);
    for (const who of ['read', 'write', 'scoped'] as const) expect((await s.request('DELETE', '/collections/made', undefined, header(who))).status).toBe(403);
    expect((await s.request('DELETE', '/collections/made', undefined, header('admin'))).body.result).toBe(true);
  });

  it('a scoped key lists only its collections, through the real client', async () => {
    const client = new QdrantClient({ url: s.url, apiKey: KEYS.scoped, checkCompatibility: false });
    expect((await client.getCollections()).collections.map((c) => c.name)).toEqual(['mine']);
    await expect(new QdrantClient({ url: s.url, apiKey: KEYS.wrong, checkCompatibility: false }).getCollections()).rejects.toMatchObject({ status: 401 });
  });
});

describe('Qdrant routes: fuzz', () => {
  it('random bodies never get a 5xx, and errors are in Qdrant shape', async () => {
    const id = fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.uuid(), fc.string(), fc.constant(null));
    const vector = fc.oneof(fc.array(fc.double(), { maxLength: 3 }), fc.array(fc.integer(), { minLength: 2, maxLength: 2 }), fc.record({ text: fc.string(), model: fc.string() }), fc.anything());
    const cond = fc.oneof(
      fc.record({ key: fc.oneof(fc.constantFrom('a', 'a.b', 'metadata.source', '', '$x', 'a[].b'), fc.string()), match: fc.oneof(fc.record({ value: fc.anything() }), fc.record({ any: fc.array(fc.anything()) }), fc.record({ except: fc.anything() }), fc.record({ text: fc.string() })) }),
      fc.record({ key: fc.string(), range: fc.dictionary(fc.constantFrom('gt', 'gte', 'lt', 'lte', 'eq'), fc.oneof(fc.double(), fc.string())) }),
      fc.record({ has_id: fc.array(id, { maxLength: 3 }) }),
      fc.record({ is_empty: fc.record({ key: fc.anything() }) }),
      fc.record({ is_null: fc.anything() }),
      fc.anything(),
    );
    const filter = fc.oneof(fc.record({ must: fc.array(cond, { maxLength: 3 }), should: fc.oneof(cond, fc.array(cond, { maxLength: 2 })), must_not: fc.array(cond, { maxLength: 2 }) }, { requiredKeys: [] }), fc.record({ min_should: fc.record({ conditions: fc.array(cond, { maxLength: 8 }), min_count: fc.integer({ min: -1, max: 9 }) }) }), fc.anything());
    const common = { filter, limit: fc.oneof(fc.nat(20), fc.integer(), fc.anything()), offset: fc.oneof(fc.nat(5), id, fc.anything()), with_payload: fc.oneof(fc.boolean(), fc.array(fc.string()), fc.record({ exclude: fc.array(fc.string()) }), fc.anything()), with_vector: fc.oneof(fc.boolean(), fc.anything()), score_threshold: fc.oneof(fc.double(), fc.anything()) };
    const requests = fc.oneof(
      fc.record({ method: fc.constant('PUT'), path: fc.constant('/collections/mine/points'), body: fc.oneof(fc.record({ points: fc.array(fc.record({ id, vector, payload: fc.oneof(fc.object(), fc.anything()) }, { requiredKeys: ['id'] }), { maxLength: 3 }) }), fc.record({ batch: fc.record({ ids: fc.array(id, { maxLength: 3 }), vectors: fc.anything(), payloads: fc.anything() }) }), fc.anything()) }),
      fc.record({ method: fc.constant('POST'), path: fc.constant('/collections/mine/points/query'), body: fc.record({ query: fc.oneof(vector, id, fc.record({ nearest: vector, mmr: fc.anything() }), fc.record({ recommend: fc.record({ positive: fc.array(fc.oneof(id, vector), { maxLength: 2 }), negative: fc.anything(), strategy: fc.anything() }) }), fc.record({ fusion: fc.string() })), prefetch: fc.anything(), using: fc.anything(), ...common }, { requiredKeys: [] }) }),
      fc.record({ method: fc.constant('POST'), path: fc.constant('/collections/mine/points/search'), body: fc.record({ vector, ...common }, { requiredKeys: [] }) }),
      fc.record({ method: fc.constant('POST'), path: fc.constant('/collections/mine/points/recommend'), body: fc.record({ positive: fc.anything(), negative: fc.anything(), strategy: fc.anything(), ...common }, { requiredKeys: [] }) }),
      fc.record({ method: fc.constantFrom('POST'), path: fc.constantFrom('/collections/mine/points/scroll', '/collections/mine/points/count', '/collections/mine/points', '/collections/theirs/points/delete'), body: fc.record({ ids: fc.anything(), points: fc.anything(), order_by: fc.anything(), exact: fc.anything(), ...common }, { requiredKeys: [] }) }),
      fc.record({ method: fc.constant('PUT'), path: fc.constantFrom('/collections/fz', '/collections/bad%20name', '/collections/mine'), body: fc.record({ vectors: fc.oneof(fc.record({ size: fc.integer(), distance: fc.string() }), fc.anything()), hnsw_config: fc.anything(), sparse_vectors: fc.anything() }, { requiredKeys: [] }) }),
      fc.record({ method: fc.constantFrom('GET', 'DELETE'), path: fc.oneof(fc.constantFrom('/collections/fz', '/collections/mine/points/1', '/collections/mine/points/x', '/collections/%ZZ'), fc.string().map((x) => `/collections/mine/points/${encodeURIComponent(x)}`)), body: fc.constant(undefined) }),
    );
    await fc.assert(
      fc.asyncProperty(requests, async ({ method, path, body }) => {
        const r = await s.request(method, path, body, header('admin'));
        expect(r.status, `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
        if (r.status >= 400) expect(typeof r.body?.status?.error).toBe('string');
      }),
      { numRuns: 400 },
    );
  });
});
