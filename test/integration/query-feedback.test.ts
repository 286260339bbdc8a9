// `feedback: {keyword_hits, weight}` on POST /query (issue 14, pseudo-relevance feedback), through
// HTTP: the query vector moves toward the vectors of its best keyword hits, so the vector ranking
// leans toward documents the query's own words confirm; a query whose words the model does not know
// (an identifier) still gets a vector ranking; and the places where it means nothing are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, type Json } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_SYNC: 'normal' } });
  // Vectors given by hand, so the cosines below are known exactly.
  expect((await s.request('POST', '/v1/collections', { name: 'given', embedder: { provider: 'none' }, dimension: 4, metric: 'cosine' })).status).toBe(201);
  const put = await s.request('PUT', '/v1/collections/given/documents', {
    documents: [
      // Nearest to the query vector, but none of its words.
      { id: 'near', vector: [0.9, 0.436, 0, 0], text: 'Notes on baking bread at home.' },
      // Farther from the query vector, and the only document with its words.
      { id: 'confirmed', vector: [0.6, 0, 0.8, 0], text: 'The zebra migration crosses the river every year.' },
      { id: 'far', vector: [0, 0, 0, 1], text: 'Tax forms are due in April.' },
    ],
  });
  expect(put.status).toBe(200);
  expect((await s.request('POST', '/v1/collections', { name: 'model' })).status).toBe(201);
  const docs = await s.request('PUT', '/v1/collections/model/documents', {
    documents: [
      { id: 'lib', text: 'Install qzvrtlib to parse the frames of the streaming protocol before decoding them.' },
      { id: 'garden', text: 'Water the tomatoes in the morning and pick the ripe ones every other day.' },
      { id: 'music', text: 'The orchestra tuned its violins before the symphony began.' },
    ],
  });
  expect(docs.status).toBe(200);
});
afterAll(async () => {
  await s.stop();
});

const query = async (collection: string, body: object) => s.request('POST', `/v1/collections/${collection}/query`, { k: 3, include: [], ...body });
const hitOf = (body: Json, id: string): Json => body.hits.find((h: Json) => h.id === id);

describe('feedback', () => {
  it('moves the vector ranking toward the keyword-confirmed document', async () => {
    const base = { text: 'zebra migration', vector: [1, 0, 0, 0], mode: 'hybrid' };
    const plain = await query('given', base);
    expect(plain.status).toBe(200);
    expect(hitOf(plain.body, 'near').vector_rank).toBe(1);
    expect(hitOf(plain.body, 'confirmed').vector_rank).toBe(2);
    expect(hitOf(plain.body, 'confirmed').vector_score).toBeCloseTo(0.6, 5);
    expect(plain.body.plan.feedback_chunks).toBeUndefined();

    const moved = await query('given', { ...base, feedback: { keyword_hits: 1, weight: 1 } });
    expect(moved.status).toBe(200);
    expect(moved.body.plan.feedback_chunks).toBe(1);
    // unit(q + unit(confirmed)) = (1.6, 0, 0.8, 0) / 1.789: cosine 0.894 with 'confirmed', 0.805 with 'near'.
    expect(hitOf(moved.body, 'confirmed').vector_rank).toBe(1);
    expect(hitOf(moved.body, 'confirmed').vector_score).toBeCloseTo(1.6 / Math.hypot(1.6, 0.8), 3);
    expect(hitOf(moved.body, 'near').vector_score).toBeCloseTo(1.44 / Math.hypot(1.6, 0.8), 2);
    expect(moved.body.hits[0].id).toBe('confirmed');
  });

  it('a smaller weight moves the vector less', async () => {
    const r = await query('given', { text: 'zebra migration', vector: [1, 0, 0, 0], mode: 'hybrid', feedback: { weight: 0.1 } });
    expect(r.status).toBe(200);
    // unit(q + 0.1·unit(confirmed)) is still nearer 'near' than 'confirmed'.
    expect(hitOf(r.body, 'near').vector_rank).toBe(1);
    expect(hitOf(r.body, 'confirmed').vector_score).toBeGreaterThan(0.6);
  });

  it('changes nothing when no document holds a word of the query', async () => {
    const base = { text: 'volcano eruption', vector: [1, 0, 0, 0], mode: 'hybrid' };
    const plain = await query('given', base);
    const moved = await query('given', { ...base, feedback: {} });
    expect(moved.status).toBe(200);
    expect(moved.body.plan.feedback_chunks).toBe(0);
    expect(moved.body.hits.map((h: Json) => [h.id, h.score])).toEqual(plain.body.hits.map((h: Json) => [h.id, h.score]));
  });

  it('gives a query of words the model does not know a vector ranking: the direction of its keyword hits', async () => {
    const plain = await query('model', { text: 'qzvrtlib', mode: 'vector' });
    expect(plain.status).toBe(200);
    expect(plain.body.hits).toEqual([]);
    expect(plain.body.warning).toMatch(/no words the model knows/);

    const moved = await query('model', { text: 'qzvrtlib', mode: 'vector', feedback: {} });
    expect(moved.status).toBe(200);
    expect(moved.body.plan.feedback_chunks).toBe(1);
    expect(moved.body.hits[0].id).toBe('lib');
    expect(moved.body.hits[0].score).toBeCloseTo(1, 3);
    expect(moved.body.warning).toMatch(/feedback/);
  });

  it('gives a hybrid query on a collection without a model a vector ranking too', async () => {
    const plain = await query('given', { text: 'zebra migration', mode: 'hybrid' });
    expect(plain.status).toBe(200);
    expect(hitOf(plain.body, 'confirmed').vector_rank).toBeNull();
    const moved = await query('given', { text: 'zebra migration', mode: 'hybrid', feedback: {} });
    expect(moved.status).toBe(200);
    expect(hitOf(moved.body, 'confirmed').vector_rank).toBe(1);
    expect(hitOf(moved.body, 'confirmed').vector_score).toBeCloseTo(1, 5);
    // 'near' is the next nearest to the confirmed document's vector (cosine 0.54), 'far' the last.
    expect(hitOf(moved.body, 'near').vector_rank).toBe(2);
    expect(moved.body.warning).toMatch(/feedback/);
  });

  it('is refused where it means nothing, naming the field', async () => {
    const keyword = await query('model', { text: 'frames', mode: 'keyword', feedback: {} });
    expect(keyword.status).toBe(400);
    expect(JSON.stringify(keyword.body)).toMatch(/feedback/);
    expect(JSON.stringify(keyword.body)).toMatch(/keyword mode/);
    const noText = await query('given', { vector: [1, 0, 0, 0], feedback: {} });
    expect(noText.status).toBe(400);
    expect(JSON.stringify(noText.body)).toMatch(/needs text/);
    for (const feedback of [{ keyword_hits: 0 }, { weight: 0 }, { weight: -1 }, { keyword_hits: 1.5 }, { hits: 3 }, 'yes']) {
      const r = await query('given', { text: 'zebra', vector: [1, 0, 0, 0], mode: 'hybrid', feedback });
      expect(r.status, JSON.stringify(feedback)).toBe(400);
      expect(JSON.stringify(r.body)).toMatch(/feedback/);
    }
  });
});
