// The HTTP contract with client-supplied vectors: collections, documents, pagination, scores
// per metric, and the error catalogue (every bad input is a 4xx naming the field).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';
import { randomVectors } from '../fixtures/vectors.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_MAX_BODY: '64kb', QUIVER_MAX_DOCUMENTS_PER_REQUEST: '50' } });
});
afterAll(async () => {
  await s.stop();
});

const none = (dimension: number, extra: object = {}) => ({ embedder: { provider: 'none' }, dimension, ...extra });

describe('collections', () => {
  it('creates, lists, shows and deletes a collection', async () => {
    const created = await s.request('POST', '/v1/collections', { name: 'books_1', ...none(4), metric: 'l2' });
    expect(created.status).toBe(201);
    expect(created.body.collection).toMatchObject({ name: 'books_1', metric: 'l2', dimension: 4, embedder: { provider: 'none' }, document_count: 0 });
    const list = await s.request('GET', '/v1/collections');
    expect(list.body.collections.map((c: { name: string }) => c.name)).toContain('books_1');
    expect((await s.request('GET', '/v1/collections/books_1')).body.collection.dimension).toBe(4);
    expect((await s.request('DELETE', '/v1/collections/books_1')).status).toBe(204);
    expect((await s.request('GET', '/v1/collections/books_1')).body.error.code).toBe('COLLECTION_NOT_FOUND');
    expect((await s.request('DELETE', '/v1/collections/books_1')).status).toBe(404);
  });

  it('refuses a duplicate name with 409', async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'dup', ...none(3) })).status).toBe(201);
    const again = await s.request('POST', '/v1/collections', { name: 'dup', ...none(3) });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'COLLECTION_EXISTS', message: 'collection "dup" already exists' });
  });

  it.each([
    [{ name: 'bad name', ...none(3) }, 'name'],
    [{ name: '../etc', ...none(3) }, 'name'],
    [{ name: 'x'.repeat(65), ...none(3) }, 'name'],
    [{ name: 'ok', ...none(3), metric: 'manhattan' }, 'metric'],
    [{ name: 'ok', embedder: { provider: 'none' } }, 'dimension'],
    [{ name: 'ok', ...none(0) }, 'dimension'],
    [{ name: 'ok', ...none(3), colour: 'red' }, 'body'],
    [{ name: 'ok', embedder: { provider: 'cohere' }, dimension: 3 }, 'embedder.provider'],
    [{ name: 'ok', embedder: { provider: 'openai' }, dimension: 3 }, 'embedder.model'],
    [{ name: 'ok', embedder: { provider: 'local', model: '../../etc/passwd' } }, 'embedder.model'],
    [[1, 2], 'body'],
  ])('rejects %j with 400 naming %s', async (body, field) => {
    const r = await s.request('POST', '/v1/collections', body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.message).toContain(field === 'body' ? '' : `${field}:`);
    if (field !== 'body') expect(r.body.error.details.issues.map((i: { field: string }) => i.field)).toContain(field);
  });

  it('answers malformed JSON, wrong content type and oversized bodies with 400, 415 and 413', async () => {
    const bad = await s.request('POST', '/v1/collections', '{"name": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_JSON');
    const text = await s.request('POST', '/v1/collections', 'name=x', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const big = await s.request('POST', '/v1/collections', { name: 'big', ...none(3), pad: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.message).toContain(String(64 * 1024));
    // The same without a declared length (chunked): counted as it arrives.
    const pieces = ['{"name": "big", "pad": "', 'x'.repeat(40_000), 'x'.repeat(40_000), '"}'];
    const chunked = await fetch(`${s.url}/v1/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        pull(c) {
          const piece = pieces.shift();
          if (piece === undefined) c.close();
          else c.enqueue(new TextEncoder().encode(piece));
        },
      }),
      duplex: 'half',
    });
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    // A JSON content type with parameters is JSON; an empty body (Content-Length: 0) reads as {}, which the schema refuses.
    expect((await s.request('POST', '/v1/collections', { name: 'typed', ...none(3) }, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
    expect((await fetch(`${s.url}/v1/collections`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status).toBe(400);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await s.request('GET', '/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('documents', () => {
  beforeAll(async () => {
    await s.request('POST', '/v1/collections', { name: 'docs', ...none(3) });
  });

  it('upserts, reads, updates metadata only, and deletes', async () => {
    const put = await s.request('PUT', '/v1/collections/docs/documents', {
      documents: [
        { id: 'a', vector: [1, 0, 0], text: 'alpha', metadata: { tag: 'x', n: 1, ok: true, tags: ['p', 'q'] } },
        { id: 'b', vector: [0, 1, 0] },
      ],
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
    const got = await s.request('GET', '/v1/collections/docs/documents/a?include=vector');
    expect(got.body.document).toMatchObject({ id: 'a', text: 'alpha', metadata: { tag: 'x', n: 1, ok: true, tags: ['p', 'q'] }, vector: [1, 0, 0] });

    const same = await s.request('PUT', '/v1/collections/docs/documents', { documents: [{ id: 'b', vector: [0, 1, 0] }] });
    expect(same.body).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    const meta = await s.request('PUT', '/v1/collections/docs/documents', { documents: [{ id: 'b', vector: [0, 1, 0], metadata: { v: 2 } }] });
    expect(meta.body).toMatchObject({ updated: 1 });
    expect((await s.request('GET', '/v1/collections/docs/documents/b')).body.document.metadata).toEqual({ v: 2 });

    const moved = await s.request('PUT', '/v1/collections/docs/documents', { documents: [{ id: 'b', vector: [0, 0, 1] }] });
    expect(moved.body).toMatchObject({ updated: 1 });
    const q = await s.request('POST', '/v1/collections/docs/query', { vector: [0, 0, 1], k: 1 });
    expect(q.body.hits[0].id).toBe('b');

    expect((await s.request('DELETE', '/v1/collections/docs/documents/a')).status).toBe(204);
    expect((await s.request('GET', '/v1/collections/docs/documents/a')).body.error.code).toBe('DOCUMENT_NOT_FOUND');
    expect((await s.request('DELETE', '/v1/collections/docs/documents/a')).status).toBe(404);
    const after = await s.request('POST', '/v1/collections/docs/query', { vector: [1, 0, 0], k: 10 });
    expect(after.body.hits.map((h: { id: string }) => h.id)).toEqual(['b']);
  });

  it('names both numbers when a vector has the wrong dimension', async () => {
    const r = await s.request('PUT', '/v1/collections/docs/documents', { documents: [{ id: 'ok', vector: [1, 2, 3] }, { id: 'x', vector: [1, 2] }] });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'DIMENSION_MISMATCH', details: { field: 'documents.1.vector', expected: 3, got: 2 } });
    expect(r.body.error.message).toBe('documents.1.vector: vector has 2 dimensions but the collection has 3');
    // All or nothing: the valid first document was not written either.
    expect((await s.request('GET', '/v1/collections/docs/documents/ok')).status).toBe(404);
  });

  it.each([
    [{ documents: [{ id: '', vector: [1, 0, 0] }] }, 'documents.0.id'],
    [{ documents: [{ id: 'x'.repeat(257), vector: [1, 0, 0] }] }, 'documents.0.id'],
    [{ documents: [{ id: 'n', vector: [1, 0, 0], metadata: { nested: { a: 1 } } }] }, 'documents.0.metadata.nested'],
    [{ documents: [{ id: 'n', vector: [1, 0, 0], metadata: { $op: 1 } }] }, 'documents.0.metadata.$op'],
    [{ documents: [{ id: 'n', vector: [1, 'a', 0] }] }, 'documents.0.vector.1'],
    [{ documents: [{ id: 'n' }] }, 'documents.0'],
    [{ documents: [{ id: 'n', text: 'no model here' }] }, 'documents.0.vector'],
    [{ documents: [{ id: 'n', vector: [0, 0, 0] }] }, 'documents.0.vector'],
    [{ documents: [{ id: 'd', vector: [1, 0, 0] }, { id: 'd', vector: [0, 1, 0] }] }, 'documents.1.id'],
    [{ documents: [] }, 'documents'],
    [{ documents: Array.from({ length: 51 }, (_, i) => ({ id: `m${i}`, vector: [1, 0, 0] })) }, 'documents'],
    [{ docs: [] }, 'documents'],
  ])('rejects %j with 400 naming %s', async (body, field) => {
    const r = await s.request('PUT', '/v1/collections/docs/documents', body);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(`${field}:`);
  });

  it('answers 404 for documents of an unknown collection', async () => {
    const r = await s.request('PUT', '/v1/collections/nope/documents', { documents: [{ id: 'a', vector: [1] }] });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('COLLECTION_NOT_FOUND');
  });

  it('pages by cursor in id order, stable while documents are added', async () => {
    await s.request('POST', '/v1/collections', { name: 'paged', ...none(2) });
    const ids = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await s.request('PUT', '/v1/collections/paged/documents', { documents: ids.map((id, i) => ({ id, vector: [1, i + 1] })) });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; body: { documents: { id: string }[]; next_cursor: string | null } } = await s.request(
        'GET',
        `/v1/collections/paged/documents?limit=10${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.documents.map((d) => d.id));
      cursor = r.body.next_cursor;
      // A document added before the cursor's position does not shift later pages.
      if (pages++ === 0) await s.request('PUT', '/v1/collections/paged/documents', { documents: [{ id: 'p00a', vector: [1, 1] }] });
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
    const bad = await s.request('GET', '/v1/collections/paged/documents?cursor=garbage');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('cursor:');
    expect((await s.request('GET', '/v1/collections/paged/documents?limit=0')).body.error.message).toContain('limit:');
  });
});

describe('query', () => {
  it('maps distances to scores where higher is better for every metric', async () => {
    for (const metric of ['cosine', 'ip', 'l2']) {
      const name = `m_${metric}`;
      await s.request('POST', '/v1/collections', { name, ...none(2), metric });
      await s.request('PUT', `/v1/collections/${name}/documents`, {
        documents: [
          { id: 'near', vector: [1, 0] },
          { id: 'far', vector: [-1, 0.5] },
          { id: 'mid', vector: [2, 2] },
        ],
      });
      const r = await s.request('POST', `/v1/collections/${name}/query`, { vector: [1, 0], k: 3 });
      expect(r.status).toBe(200);
      const scores = Object.fromEntries(r.body.hits.map((h: { id: string; score: number }) => [h.id, h.score]));
      if (metric === 'cosine') {
        expect(scores.near).toBeCloseTo(1, 5);
        expect(scores.mid).toBeCloseTo(Math.SQRT1_2, 5);
        expect(scores.far).toBeCloseTo(-1 / Math.sqrt(1.25), 5);
      } else if (metric === 'ip') {
        expect(scores.mid).toBeCloseTo(2, 5);
        expect(scores.near).toBeCloseTo(1, 5);
        expect(scores.far).toBeCloseTo(-1, 5);
      } else {
        expect(scores.near).toBeCloseTo(0, 5);
        expect(scores.mid).toBeCloseTo(-Math.sqrt(5), 5);
        expect(scores.far).toBeCloseTo(-Math.sqrt(4.25), 5);
      }
      const ordered = r.body.hits.map((h: { score: number }) => h.score);
      expect([...ordered].sort((a, b) => b - a)).toEqual(ordered);
    }
  });

  it('returns the exact neighbours of random vectors, honours k and include', async () => {
    await s.request('POST', '/v1/collections', { name: 'rand', ...none(8) });
    const vectors = randomVectors(40, 8, 7);
    await s.request('PUT', '/v1/collections/rand/documents', { documents: vectors.map((vector, i) => ({ id: `r${i}`, vector, text: `t${i}`, metadata: { i } })) });
    const q = vectors[5]!;
    const cos = (a: number[], b: number[]) => {
      let d = 0;
      let na = 0;
      let nb = 0;
      a.forEach((x, i) => {
        d += x * b[i]!;
        na += x * x;
        nb += b[i]! * b[i]!;
      });
      return d / Math.sqrt(na * nb);
    };
    const expected = vectors
      .map((v, i) => ({ id: `r${i}`, s: cos(q, v) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 5)
      .map((x) => x.id);
    const r = await s.request('POST', '/v1/collections/rand/query', { vector: q, k: 5, include: ['vector', 'metadata'] });
    expect(r.body.hits.map((h: { id: string }) => h.id)).toEqual(expected);
    expect(r.body.hits[0]).toMatchObject({ id: 'r5', metadata: { i: 5 }, vector: q });
    expect(r.body.hits[0].text).toBeUndefined();
    expect(typeof r.body.took_ms).toBe('number');
    const big = await s.request('POST', '/v1/collections/rand/query', { vector: q, k: 1000, include: [] });
    expect(big.body.hits).toHaveLength(40);
  });

  it.each([
    [{ vector: [1, 0], k: 0 }, 'k'],
    [{ vector: [1, 0], k: 1001 }, 'k'],
    [{ vector: [1, 0], include: ['everything'] }, 'include.0'],
    [{}, 'text'],
    [{ text: 'x', vector: [1, 0] }, 'text'],
  ])('rejects %j with 400 naming %s', async (body, field) => {
    const r = await s.request('POST', '/v1/collections/m_cosine/query', body);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(`${field}:`);
  });

  it('refuses a text query on a collection without a model', async () => {
    const r = await s.request('POST', '/v1/collections/m_cosine/query', { text: 'hello' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('NO_EMBEDDER');
  });
});

// Vectors are checked by a plain loop (src/api/v1/schemas.ts), not a zod array schema; the
// messages are the ones that schema gave, for a query's vector and a document's alike.
describe('vector validation', () => {
  beforeAll(async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'vec', ...none(3) })).status).toBe(201);
  });

  it.each([
    ['a string', '"1,2,3"', ': Invalid input: expected array, received string'],
    ['null', 'null', ': Invalid input: expected array, received null'],
    ['an object', '{"0": 1}', ': Invalid input: expected array, received object'],
    ['empty', '[]', ': must not be empty'],
    ['"NaN" as a string', '[1, "NaN", 0]', '.1: expected numbers'],
    ['"Infinity" as a string', '["Infinity", 1, 0]', '.0: expected numbers'],
    ['a number beyond float64 (1e999 parses to Infinity)', '[1, 1e999, 0]', '.1: expected numbers'],
    ['a nested array', '[[1, 2, 3]]', '.0: expected numbers'],
    ['a boolean and a null', '[true, 1, null]', '.0: expected numbers; {field}.2: expected numbers'],
  ])('refuses %s as a vector with 400 naming the field and the problem', async (_what, vector, problem) => {
    const query = await s.request('POST', '/v1/collections/vec/query', `{"vector": ${vector}, "k": 1}`);
    expect(query.status).toBe(400);
    expect(query.body.error.code).toBe('VALIDATION_FAILED');
    expect(query.body.error.message).toBe(`vector${problem.replace('{field}', 'vector')}`);
    const upsert = await s.request('PUT', '/v1/collections/vec/documents', `{"documents": [{"id": "a", "vector": [1, 0, 0]}, {"id": "b", "vector": ${vector}}]}`);
    expect(upsert.status).toBe(400);
    expect(upsert.body.error.message).toBe(`documents.1.vector${problem.replace('{field}', 'documents.1.vector')}`);
    expect(upsert.body.error.details.issues[0].field).toMatch(/^documents\.1\.vector/);
  });

  it('names both numbers when a query vector has the wrong dimension, and accepts a good one', async () => {
    const r = await s.request('POST', '/v1/collections/vec/query', { vector: [1, 0], k: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'DIMENSION_MISMATCH', message: 'vector: vector has 2 dimensions but the collection has 3', details: { field: 'vector', expected: 3, got: 2 } });
    expect((await s.request('PUT', '/v1/collections/vec/documents', { documents: [{ id: 'v', vector: [0.5, -1e-30, 3e38] }] })).status).toBe(200);
    const ok = await s.request('POST', '/v1/collections/vec/query', { vector: [0.5, -1e-30, 3e38], k: 1, include: ['vector'] });
    expect(ok.status).toBe(200);
    expect(ok.body.hits[0].id).toBe('v');
  });
});
