// Quiver serving Chroma's v2 API (src/api/chroma), driven by the real chromadb client (3.x) in
// the shape of Chroma's JS quick start: a collection made with no embedding function gets one
// from Quiver (@chroma-core/openai pointed at Quiver's own /v1/embeddings), so add and query with
// texts work end to end with no network; explicit embeddings in each space with distances checked
// against a computation here; where, whereDocument, include, get, peek, count, update, upsert,
// delete; one set of collections across /v1 and /api/v2; UUIDs kept over a restart; the 401/403
// matrix with x-chroma-token and scoped keys; random bodies never get a 5xx.
import { ChromaClient, ChromaNotFoundError, ChromaUniqueError } from 'chromadb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';

const MODEL = 'quiver-glove-sif-100d';
const DB = '/api/v2/tenants/default_tenant/databases/default_database';

let s: TestServer;
let port: number;
beforeAll(async () => {
  // The embedding function Quiver hands back reads its key from QUIVER_API_KEY (any value when auth is off).
  process.env.QUIVER_API_KEY = 'any-value-works-without-keys';
  s = await TestServer.start();
  port = Number(new URL(s.url).port);
});
afterAll(async () => {
  await s?.stop();
});

const chroma = (headers?: Record<string, string>) => new ChromaClient({ host: '127.0.0.1', port, headers });

const sq = (a: number[], b: number[]) => a.reduce((t, x, i) => t + (x - b[i]!) ** 2, 0);
const dot = (a: number[], b: number[]) => a.reduce((t, x, i) => t + x * b[i]!, 0);
const cos = (a: number[], b: number[]) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
const expectedDistance = (space: string, q: number[], v: number[]) => (space === 'l2' ? sq(q, v) : space === 'cosine' ? 1 - cos(q, v) : 1 - dot(q, v));

async function embed(texts: string[]): Promise<number[][]> {
  const r = await s.request('POST', '/v1/embeddings', { model: MODEL, input: texts, encoding_format: 'float' });
  expect(r.status).toBe(200);
  return (r.body.data as { embedding: number[] }[]).map((d) => d.embedding);
}

describe('the quick start (chromadb client, no embeddings given)', () => {
  it('heartbeat, version, getOrCreateCollection, add documents, query texts: embedded through Quiver /v1/embeddings', async () => {
    const client = chroma();
    expect(await client.heartbeat()).toBeGreaterThan(0);
    expect(typeof (await client.version())).toBe('string');
    const collection = await client.getOrCreateCollection({ name: 'my_collection' });
    expect(collection.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(collection.embeddingFunction?.name).toBe('openai');
    const ef = collection.configuration.embeddingFunction ?? (collection.configuration as Json).embedding_function;
    expect(ef).toMatchObject({ type: 'known', name: 'openai', config: { model_name: MODEL, api_base: `${s.url}/v1`, api_key_env_var: 'QUIVER_API_KEY' } });

    const documents = ['This is a document about pineapple', 'This is a document about oranges'];
    await collection.add({ ids: ['id1', 'id2'], documents });
    expect(await collection.count()).toBe(2);

    const query = 'This is a query document about hawaii';
    const results = await collection.query({ queryTexts: [query], nResults: 2 });
    expect([...results.ids[0]!].sort()).toEqual(['id1', 'id2']);
    // The default space is l2: squared distances between Quiver's own vectors for the texts.
    const [q, ...vs] = await embed([query, ...documents]);
    const want = results.ids[0]!.map((id) => expectedDistance('l2', q!, vs[id === 'id1' ? 0 : 1]!));
    results.distances[0]!.forEach((d, i) => expect(d).toBeCloseTo(want[i]!, 4));
    expect(results.distances[0]![0]!).toBeLessThanOrEqual(results.distances[0]![1]!);
    expect(results.documents[0]!.map(String).sort()).toEqual([...documents].sort());

    // The collection is a Quiver collection now: 100 dimensions, fixed by the first add, l2.
    const v1 = await s.request('GET', '/v1/collections/my_collection');
    expect(v1.status).toBe(200);
    expect(v1.body.collection).toMatchObject({ dimension: 100, metric: 'l2', document_count: 2 });

    // getOrCreate again: the same collection, the same id, an embedding function again.
    const again = await client.getOrCreateCollection({ name: 'my_collection' });
    expect(again.id).toBe(collection.id);
    expect(again.embeddingFunction?.name).toBe('openai');
    const byName = await client.getCollection({ name: 'my_collection' });
    expect(byName.id).toBe(collection.id);
    await client.deleteCollection({ name: 'my_collection' });
    await expect(client.getCollection({ name: 'my_collection' })).rejects.toBeInstanceOf(ChromaNotFoundError);
    expect((await s.request('GET', '/v1/collections/my_collection')).status).toBe(404);
  });
});

describe('explicit embeddings, each space', () => {
  const vectors = [
    [1, 0, 0],
    [0.8, 0.6, 0],
    [0, 1, 0],
    [0.2, 0.2, 0.9],
  ];
  const queries = [
    [0.9, 0.1, 0],
    [0, 0.5, 0.5],
  ];
  for (const space of ['l2', 'cosine', 'ip'] as const) {
    it(`${space}: distances as Chroma computes them, best first, several queries at once`, async () => {
      const client = chroma();
      const c = await client.createCollection({ name: `space_${space}`, configuration: { hnsw: { space } }, embeddingFunction: null });
      await c.add({ ids: vectors.map((_, i) => `v${i}`), embeddings: vectors });
      const r = await c.query({ queryEmbeddings: queries, nResults: 3, include: ['distances', 'embeddings'] });
      expect(r.ids).toHaveLength(2);
      queries.forEach((q, qi) => {
        const want = vectors
          .map((v, i) => ({ id: `v${i}`, d: expectedDistance(space, q, v) }))
          .sort((a, b) => a.d - b.d)
          .slice(0, 3);
        expect(r.ids[qi]).toEqual(want.map((w) => w.id));
        r.distances[qi]!.forEach((d, i) => expect(d).toBeCloseTo(want[i]!.d, 5));
        r.embeddings[qi]!.forEach((e, i) => e!.forEach((x, j) => expect(x).toBeCloseTo(vectors[Number(want[i]!.id.slice(1))]![j]!, 6)));
      });
      expect((await s.request('GET', `/v1/collections/space_${space}`)).body.collection).toMatchObject({ metric: space, dimension: 3 });
    });
  }
  it('a wrong dimension is a ChromaClientError naming the embedding', async () => {
    const c = await chroma().getCollection({ name: 'space_l2' });
    await expect(c.add({ ids: ['bad'], embeddings: [[1, 2]] })).rejects.toThrow(/embeddings\.0: vector has 2 dimensions but the collection has 3/);
  });
});

describe('records: get, where, whereDocument, include, peek, update, upsert, delete', () => {
  let c: Awaited<ReturnType<ChromaClient['createCollection']>>;
  beforeAll(async () => {
    c = await chroma().createCollection({ name: 'records', metadata: { 'hnsw:space': 'cosine', owner: 'tests' }, embeddingFunction: null });
    await c.add({
      ids: ['a', 'b', 'c'],
      embeddings: [
        [1, 0],
        [0.9, 0.1],
        [0, 1],
      ],
      documents: ['The cat sat on the mat', 'A concatenated string', 'Dogs bark loudly'],
      metadatas: [{ kind: 'pet', n: 1, tags: ['x', 'y'] }, { kind: 'text', n: 2 }, { kind: 'pet', n: 3, tags: ['y'] }],
    });
    // A record without metadata (the client refuses an empty object).
    await c.add({ ids: ['d'], embeddings: [[-1, 0.2]], documents: ['Nothing here'] });
  });

  it('keeps the collection metadata and its space', async () => {
    const got = await chroma().getCollection({ name: 'records' });
    expect(got.metadata).toMatchObject({ owner: 'tests', 'hnsw:space': 'cosine' });
    expect((await s.request('GET', '/v1/collections/records')).body.collection.metric).toBe('cosine');
  });

  it('get by ids, where, limit and offset, in the order the records were added', async () => {
    const all = await c.get();
    expect(all.ids).toEqual(['a', 'b', 'c', 'd']);
    expect(all.metadatas[3]).toBeNull();
    expect(all.documents[2]).toBe('Dogs bark loudly');
    expect((await c.get({ ids: ['c', 'a'] })).ids.sort()).toEqual(['a', 'c']);
    expect((await c.get({ where: { kind: 'pet' } })).ids).toEqual(['a', 'c']);
    expect((await c.get({ where: { n: { $gte: 2 } } })).ids).toEqual(['b', 'c']);
    expect((await c.get({ where: { $or: [{ n: 1 }, { n: 3 }] } })).ids).toEqual(['a', 'c']);
    expect((await c.get({ where: { tags: { $contains: 'x' } } })).ids).toEqual(['a']);
    expect((await c.get({ where: { tags: { $not_contains: 'x' } } })).ids).toEqual(['b', 'c', 'd']);
    expect((await c.get({ limit: 2, offset: 1 })).ids).toEqual(['b', 'c']);
    expect((await c.peek({ limit: 3 })).ids).toEqual(['a', 'b', 'c']);
  });

  it('whereDocument: an exact substring test, also inside words, case-sensitive', async () => {
    expect((await c.get({ whereDocument: { $contains: 'cat' } })).ids).toEqual(['a', 'b']);
    expect((await c.get({ whereDocument: { $contains: 'Cat' } })).ids).toEqual([]);
    expect((await c.get({ whereDocument: { $not_contains: 'cat' } })).ids).toEqual(['c', 'd']);
    expect((await c.get({ whereDocument: { $or: [{ $contains: 'Dogs' }, { $contains: 'mat' }] } })).ids).toEqual(['a', 'c']);
    expect((await c.get({ where: { kind: 'text' }, whereDocument: { $contains: 'cat' } })).ids).toEqual(['b']);
    await expect(c.get({ whereDocument: { $regex: 'c.t' } })).rejects.toThrow(/where_document\.\$regex: not supported/);
  });

  it('include chooses the fields; query with where, whereDocument and ids', async () => {
    const g = await c.get({ ids: ['a'], include: ['embeddings'] });
    expect(g.embeddings[0]).toEqual([1, 0]);
    expect(g.documents).toEqual([]);
    const q = await c.query({ queryEmbeddings: [[1, 0]], nResults: 10, where: { kind: 'pet' }, include: ['metadatas', 'distances'] });
    expect(q.ids[0]).toEqual(['a', 'c']);
    expect(q.distances[0]![0]).toBeCloseTo(0, 6);
    expect(q.distances[0]![1]).toBeCloseTo(1, 6);
    expect(q.metadatas[0]![1]).toMatchObject({ kind: 'pet', n: 3 });
    const qd = await c.query({ queryEmbeddings: [[1, 0]], nResults: 10, whereDocument: { $contains: 'cat' } });
    expect(qd.ids[0]).toEqual(['a', 'b']);
    const qi = await c.query({ queryEmbeddings: [[1, 0]], nResults: 10, ids: ['c', 'd'] });
    expect(qi.ids[0]).toEqual(['c', 'd']);
  });

  it('add ignores existing ids; update changes only what it is given and merges metadata; upsert creates or updates', async () => {
    await c.add({ ids: ['a'], embeddings: [[0, 1]], documents: ['replaced?'] });
    expect((await c.get({ ids: ['a'] })).documents[0]).toBe('The cat sat on the mat');

    await c.update({ ids: ['a', 'zz'], metadatas: [{ n: 10, extra: 'yes' }, { n: 0 }] });
    const a = await c.get({ ids: ['a'], include: ['metadatas', 'documents', 'embeddings'] });
    expect(a.metadatas[0]).toEqual({ kind: 'pet', n: 10, tags: ['x', 'y'], extra: 'yes' });
    expect(a.documents[0]).toBe('The cat sat on the mat');
    expect(a.embeddings[0]).toEqual([1, 0]);
    expect((await c.get({ ids: ['zz'] })).ids).toEqual([]);

    await c.update({ ids: ['b'], embeddings: [[0, -1]], documents: ['New text'] });
    const b = await c.get({ ids: ['b'], include: ['metadatas', 'documents', 'embeddings'] });
    expect(b).toMatchObject({ documents: ['New text'], embeddings: [[0, -1]], metadatas: [{ kind: 'text', n: 2 }] });

    await c.upsert({ ids: ['b', 'e'], embeddings: [[0, -1], [0.5, 0.5]], metadatas: [{ m: 1 }, { kind: 'new' }], documents: ['B', 'E'] });
    const be = await c.get({ ids: ['b', 'e'] });
    expect(be.ids).toEqual(['b', 'e']);
    expect(be.metadatas).toEqual([{ kind: 'text', n: 2, m: 1 }, { kind: 'new' }]);
    // A null value deletes the key (the client drops nulls before sending; raw HTTP can send them).
    const raw = await s.request('POST', `${DB}/collections/${c.id}/update`, { ids: ['b'], metadatas: [{ m: null }] });
    expect(raw.status).toBe(200);
    expect((await c.get({ ids: ['b'] })).metadatas).toEqual([{ kind: 'text', n: 2 }]);
    expect(be.documents).toEqual(['B', 'E']);
    expect(await c.count()).toBe(5);
  });

  it('delete by ids and by where answers how many were deleted', async () => {
    expect(await c.delete({ ids: ['e', 'nope'] })).toEqual({ deleted: 1 });
    expect(await c.delete({ where: { kind: 'pet' } })).toEqual({ deleted: 2 });
    expect((await c.get()).ids).toEqual(['b', 'd']);
    expect(await c.count()).toBe(2);
  });
});

describe('one set of collections for /v1 and /api/v2', () => {
  it('lists Quiver collections in Chroma and serves their records; a Chroma collection is usable from /v1', async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'native', embedder: { provider: 'none' }, dimension: 2, metric: 'ip' })).status).toBe(201);
    expect((await s.request('PUT', '/v1/collections/native/documents', { documents: [{ id: 'n1', vector: [1, 1], text: 'native text', metadata: { k: 1 } }] })).status).toBe(200);
    const client = chroma();
    const names = (await client.listCollections()).map((c) => c.name);
    expect(names).toContain('native');
    expect(await client.countCollections()).toBe(names.length);
    const native = await client.getCollection({ name: 'native' });
    const got = await native.get({ include: ['documents', 'metadatas'] });
    expect(got).toMatchObject({ ids: ['n1'], documents: ['native text'], metadatas: [{ k: 1 }] });
    const q = await native.query({ queryEmbeddings: [[1, 0]], nResults: 1 });
    expect(q.distances[0]![0]).toBeCloseTo(0, 6); // ip: 1 - dot

    const made = await client.createCollection({ name: 'from_chroma', embeddingFunction: null });
    await made.add({ ids: ['x'], embeddings: [[3, 4]], documents: ['hello world'] });
    const v1 = await s.request('POST', '/v1/collections/from_chroma/query', { vector: [3, 4], k: 1 });
    expect(v1.status).toBe(200);
    expect(v1.body.hits[0]).toMatchObject({ id: 'x', text: 'hello world' });
  });

  it('refuses name clashes both ways: a pending Chroma collection against /v1, a /v1 one against Chroma', async () => {
    const client = chroma();
    await client.createCollection({ name: 'pending_one', embeddingFunction: null });
    const clash = await s.request('POST', '/v1/collections', { name: 'pending_one', embedder: { provider: 'none' }, dimension: 2 });
    expect(clash.status).toBe(409);
    await expect(client.createCollection({ name: 'native', embeddingFunction: null })).rejects.toBeInstanceOf(ChromaUniqueError);
    const existing = await client.getOrCreateCollection({ name: 'native', embeddingFunction: null });
    expect(existing.name).toBe('native');
    // A pending collection reads as empty and deletes cleanly.
    const pending = await client.getCollection({ name: 'pending_one' });
    expect(await pending.count()).toBe(0);
    expect((await pending.query({ queryEmbeddings: [[1, 2]] })).ids).toEqual([[]]);
    await client.deleteCollection({ name: 'pending_one' });
    expect((await s.request('POST', '/v1/collections', { name: 'pending_one', embedder: { provider: 'none' }, dimension: 2 })).status).toBe(201);
  });

  it('answers in Chroma error shape; other tenants and databases are a 404 that says Quiver has one', async () => {
    const r = await s.request('GET', `${DB}/collections/does-not-exist`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'NotFoundError', message: 'collection "does-not-exist" does not exist' });
    const t = await s.request('GET', '/api/v2/tenants/other/databases/default_database/collections');
    expect(t.status).toBe(404);
    expect(t.body.message).toMatch(/Quiver serves one tenant, "default_tenant"/);
    await expect(new ChromaClient({ host: '127.0.0.1', port, tenant: 'acme' }).listCollections()).rejects.toBeInstanceOf(ChromaNotFoundError);
    const bad = await s.request('POST', `${DB}/collections`, { name: 'has.dot' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'InvalidArgumentError' } });
    expect(bad.body.message).toMatch(/^name: /);
    const checks = await s.request('GET', '/api/v2/pre-flight-checks');
    expect(checks.body).toEqual({ max_batch_size: 1000, supports_base64_encoding: false });
  });
});

describe('restart', () => {
  it('keeps every collection id, pending or stored', async () => {
    const dataDir = tempDir('quiver-chroma-restart-');
    let server = await TestServer.start({ dataDir, env: { QUIVER_EMBEDDER: 'none' } });
    const client1 = new ChromaClient({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    const pending = await client1.createCollection({ name: 'later', embeddingFunction: null });
    const stored = await client1.createCollection({ name: 'now', embeddingFunction: null, metadata: { m: 'kept' } });
    await stored.add({ ids: ['1'], embeddings: [[1, 2, 3]] });
    await server.stop();
    server = await TestServer.start({ dataDir, env: { QUIVER_EMBEDDER: 'none' } });
    try {
      const client2 = new ChromaClient({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
      expect((await client2.getCollection({ name: 'later' })).id).toBe(pending.id);
      const now = await client2.getCollection({ name: 'now' });
      expect(now.id).toBe(stored.id);
      expect(now.metadata).toEqual({ m: 'kept' });
      expect(await now.count()).toBe(1);
      // No model on this server: no embedding function to hand back.
      expect(now.embeddingFunction).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});

describe('auth: x-chroma-token, roles and collection scopes', () => {
  const KEYS = { admin: 'chroma-admin-0123456789', write: 'chroma-write-0123456789', read: 'chroma-read-0123456789', scoped: 'chroma-scoped-0123456789', wrong: 'chroma-wrong-0123456789' };
  type Who = 'none' | keyof typeof KEYS;
  let a: TestServer;
  const ids: Record<string, string> = {};
  const token = (who: Who): Record<string, string> => (who === 'none' ? {} : { 'x-chroma-token': KEYS[who] });
  beforeAll(async () => {
    a = await TestServer.start({
      env: { QUIVER_EMBEDDER: 'none', QUIVER_API_KEYS: `${KEYS.admin}:admin,${KEYS.write}:write,${KEYS.read}:read,${KEYS.scoped}:write:a` },
    });
    const client = new ChromaClient({ host: '127.0.0.1', port: Number(new URL(a.url).port), headers: token('admin') });
    for (const name of ['a', 'b']) {
      const c = await client.createCollection({ name, embeddingFunction: null });
      await c.add({ ids: ['r'], embeddings: [[1, 0]] });
      ids[name] = c.id;
    }
  });
  afterAll(async () => {
    await a?.stop();
  });

  const cases: { what: string; method: string; path: () => string; body?: unknown; expect: Record<Who, number> }[] = [
    { what: 'heartbeat', method: 'GET', path: () => '/api/v2/heartbeat', expect: { none: 200, wrong: 200, read: 200, write: 200, admin: 200, scoped: 200 } },
    { what: 'identity', method: 'GET', path: () => '/api/v2/auth/identity', expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200 } },
    { what: 'list', method: 'GET', path: () => `${DB}/collections`, expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200 } },
    { what: 'create', method: 'POST', path: () => `${DB}/collections`, body: { name: 'a', get_or_create: true }, expect: { none: 401, wrong: 401, read: 403, write: 403, admin: 200, scoped: 403 } },
    { what: 'get own by name', method: 'GET', path: () => `${DB}/collections/a`, expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200 } },
    { what: 'get other by name', method: 'GET', path: () => `${DB}/collections/b`, expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 403 } },
    { what: 'count own by uuid', method: 'GET', path: () => `${DB}/collections/${ids.a}/count`, expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200 } },
    { what: 'get other by uuid', method: 'POST', path: () => `${DB}/collections/${ids.b}/get`, body: {}, expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 403 } },
    { what: 'query other by uuid', method: 'POST', path: () => `${DB}/collections/${ids.b}/query`, body: { query_embeddings: [[1, 0]] }, expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 403 } },
    { what: 'add own', method: 'POST', path: () => `${DB}/collections/${ids.a}/add`, body: { ids: ['n'], embeddings: [[0, 1]] }, expect: { none: 401, wrong: 401, read: 403, write: 201, admin: 201, scoped: 201 } },
    { what: 'upsert other', method: 'POST', path: () => `${DB}/collections/${ids.b}/upsert`, body: { ids: ['n'], embeddings: [[0, 1]] }, expect: { none: 401, wrong: 401, read: 403, write: 200, admin: 200, scoped: 403 } },
    { what: 'delete records other', method: 'POST', path: () => `${DB}/collections/${ids.b}/delete`, body: { ids: ['zz'] }, expect: { none: 401, wrong: 401, read: 403, write: 200, admin: 200, scoped: 403 } },
    { what: 'modify', method: 'PUT', path: () => `${DB}/collections/${ids.a}`, body: { new_metadata: { x: 1 } }, expect: { none: 401, wrong: 401, read: 403, write: 403, admin: 200, scoped: 403 } },
    { what: 'unknown uuid', method: 'POST', path: () => `${DB}/collections/00000000-0000-4000-8000-000000000000/get`, body: {}, expect: { none: 401, wrong: 401, read: 404, write: 404, admin: 404, scoped: 403 } },
  ];
  for (const c of cases) {
    it(`${c.method} ${c.what}`, async () => {
      for (const who of Object.keys(c.expect) as Who[]) {
        const r = await a.request(c.method, c.path(), c.body, token(who));
        expect({ who, status: r.status }).toEqual({ who, status: c.expect[who] });
        if (r.status >= 400) expect(typeof r.body.error).toBe('string');
      }
    });
  }

  it('a scoped key lists only its collections; the client works with x-chroma-token', async () => {
    const scoped = new ChromaClient({ host: '127.0.0.1', port: Number(new URL(a.url).port), headers: token('scoped') });
    expect((await scoped.listCollections()).map((c) => c.name)).toEqual(['a']);
    const own = await scoped.getCollection({ name: 'a' });
    expect(await own.count()).toBeGreaterThanOrEqual(1);
    const r = await a.request('GET', `${DB}/collections/${ids.b}`, undefined, { authorization: `Bearer ${KEYS.scoped}` });
    expect(r.status).toBe(403);
  });
});

describe('fuzz: random bodies never get a 5xx', () => {
  it('for every Chroma route that takes a body', async () => {
    const c = await chroma().createCollection({ name: 'fuzz', embeddingFunction: null });
    await c.add({ ids: ['f'], embeddings: [[1, 2]] });
    const routes = ['add', 'upsert', 'update', 'get', 'query', 'delete'].map((r) => `${DB}/collections/${c.id}/${r}`);
    routes.push(`${DB}/collections`, `${DB}/collections/fuzz`);
    const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('$and', '$or', '$contains', '$not_contains', '$eq', '$in', 'k', '$regex'), tie('v'), { maxKeys: 2 })),
    })).v;
    const body = fc.record(
      {
        ids: fc.oneof(fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }), value),
        embeddings: fc.oneof(fc.array(fc.array(fc.double(), { maxLength: 3 }), { maxLength: 3 }), value),
        documents: fc.oneof(fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null)), { maxLength: 3 }), value),
        metadatas: fc.oneof(fc.array(fc.dictionary(fc.string({ maxLength: 3 }), scalar, { maxKeys: 2 }), { maxLength: 3 }), value),
        where: value,
        where_document: value,
        query_embeddings: fc.oneof(fc.array(fc.array(fc.double(), { maxLength: 3 }), { maxLength: 2 }), value),
        n_results: fc.oneof(fc.integer({ min: -2, max: 20 }), value),
        include: fc.oneof(fc.array(fc.constantFrom('documents', 'embeddings', 'metadatas', 'distances', 'uris', 'x')), value),
        limit: value,
        offset: value,
        name: fc.oneof(fc.constantFrom('fuzz', 'fz', 'a b'), value),
        get_or_create: fc.boolean(),
        new_metadata: value,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async (path, b) => {
        const method = path.endsWith('/fuzz') ? 'PUT' : 'POST';
        const r = await s.request(method, path, b);
        expect(r.status, JSON.stringify({ path, b, r: r.body })).toBeLessThan(500);
        if (r.status >= 400) expect(typeof r.body.message).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});
