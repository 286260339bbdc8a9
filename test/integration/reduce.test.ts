// Dimensionality-reduced collections through HTTP (issue 16, part 4): the `reduce` setting's
// checks, the first fit once fit_on vectors are written, queries (vector, hybrid, recommend,
// similar) against the exact full-dimension answer on data with clear structure, a restart and
// a kill -9, the refit job, and refits refused without the full vectors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, rng } from '../fixtures/vectors.js';
import { TestServer, tempDir, waitFor } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';

const D = 32;

/**
 * Vectors with low intrinsic dimension: each is a mix of 3 fixed directions (a point of a 3-D
 * subspace of the 32-D space) plus a little noise, so a 4-D projection keeps nearly every distance.
 */
function structured(n: number, seed: number): number[][] {
  const r = rng(7);
  const basis = Array.from({ length: 3 }, () => Array.from({ length: D }, () => r() * 2 - 1));
  const q = rng(seed);
  return Array.from({ length: n }, () => {
    const w = basis.map(() => q() * 2 - 1);
    return Array.from({ length: D }, (_, j) => Math.fround(1 + basis.reduce((s, b, i) => s + w[i]! * b[j]!, 0) + 0.01 * (q() * 2 - 1)));
  });
}

/** The exact full-dimension top k by cosine. */
function exactTop(all: Map<string, number[]>, q: number[], k: number): string[] {
  return [...all]
    .map(([id, v]) => ({ id, s: cosine(q, v) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

let s: TestServer;
const dataDir = tempDir();
const written = new Map<string, number[]>();

async function put(server: TestServer, name: string, docs: { id: string; vector?: number[]; text?: string }[]): Promise<void> {
  for (let i = 0; i < docs.length; i += 50) {
    const r = await server.request('PUT', `/v1/collections/${name}/documents`, { documents: docs.slice(i, i + 50) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
}

async function info(server: TestServer, name: string): Promise<Json> {
  return (await server.request('GET', `/v1/collections/${name}`)).body.collection;
}

const fitted = (server: TestServer, name: string) => waitFor(`${name} to be fitted`, async () => ((await info(server, name)).reduce?.status === 'fitted' ? true : undefined));

/** Mean overlap of the server's top 10 with the exact full-dimension top 10, over `queries`. */
async function recallAt10(server: TestServer, name: string, queries: number[][]): Promise<number> {
  let found = 0;
  for (const q of queries) {
    const r = await server.request('POST', `/v1/collections/${name}/query`, { vector: q, k: 10 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const truth = new Set(exactTop(written, q, 10));
    found += (r.body.hits as Json[]).filter((h) => truth.has(h.id)).length;
  }
  return found / (10 * queries.length);
}

beforeAll(async () => {
  s = await TestServer.start({ dataDir });
});
afterAll(async () => {
  await s.stop();
});

describe('the reduce setting', () => {
  it.each([
    [{ dimensions: 32 }, 'reduce.dimensions', 'less than'],
    [{ dimensions: 40 }, 'reduce.dimensions', 'less than'],
    [{ dimensions: 1 }, 'reduce.dimensions', ''],
    [{ dimensions: 2.5 }, 'reduce.dimensions', ''],
    [{ dimensions: 8, fit_on: 8 }, 'reduce.fit_on', 'more than dimensions'],
    [{ method: 'svd', dimensions: 8 }, 'reduce.method', ''],
    [{ dimensions: 8, keep: true }, 'reduce', ''],
    [{}, 'reduce.dimensions', ''],
  ])('refuses %j with a 400 naming %s', async (reduce, field, words) => {
    const r = await s.request('POST', '/v1/collections', { name: 'bad', embedder: { provider: 'none' }, dimension: D, reduce });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.message).toContain(field);
    expect(r.body.error.message).toContain(words);
    expect((await s.request('GET', '/v1/collections/bad')).status).toBe(404);
  });

  it('refuses a refit of a collection created without it', async () => {
    await s.request('POST', '/v1/collections', { name: 'plain', embedder: { provider: 'none' }, dimension: D });
    const r = await s.request('POST', '/v1/collections/plain/reduce/refit');
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'REFIT_REFUSED' });
    expect(r.body.error.message).toContain('not created with "reduce"');
  });
});

describe('a reduced collection of client vectors', () => {
  const base = structured(300, 11);
  const queries = structured(20, 99);

  it('answers exactly while pending, then fits itself once fit_on vectors are written', async () => {
    const created = await s.request('POST', '/v1/collections', {
      name: 'red',
      embedder: { provider: 'none' },
      dimension: D,
      reduce: { method: 'pca', dimensions: 4, fit_on: 100 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.collection).toMatchObject({
      dimension: D,
      reduce: { method: 'pca', dimensions: 4, fit_on: 100, keep_full: true, status: 'pending', explained_variance: null },
    });
    const first = base.slice(0, 60).map((vector, i) => ({ id: `v${i}`, vector }));
    await put(s, 'red', first);
    first.forEach((d) => written.set(d.id, d.vector));
    // Fewer than fit_on: the index holds the full vectors, and answers as any collection does.
    expect((await info(s, 'red')).reduce.status).toBe('pending');
    expect(await recallAt10(s, 'red', queries.slice(0, 5))).toBeGreaterThanOrEqual(0.9);

    const rest = base.slice(60, 250).map((vector, i) => ({ id: `v${60 + i}`, vector }));
    await put(s, 'red', rest);
    rest.forEach((d) => written.set(d.id, d.vector));
    await fitted(s, 'red');
    const c = await info(s, 'red');
    expect(c).toMatchObject({ dimension: D, vector_count: 250, reduce: { status: 'fitted', dimensions: 4, fitted_on: 100 } });
    expect(c.reduce.explained_variance).toBeGreaterThan(0.99);
    // The job is marked done just after the projection is in place.
    const jobs = await waitFor('the first fit job to be done', async () => {
      const list = (await s.request('GET', '/v1/jobs?collection=red&kind=refit')).body.jobs as Json[];
      return list.every((j) => j.status === 'done') ? list : undefined;
    });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: 'refit', status: 'done', result: { dimensions: 4, fitted_on: 100, vectors: 250 } });
  });

  it('finds the same neighbours as the exact full-dimension search, for vectors written before and after the fit', async () => {
    const after = base.slice(250).map((vector, i) => ({ id: `v${250 + i}`, vector }));
    await put(s, 'red', after);
    after.forEach((d) => written.set(d.id, d.vector));
    expect(await recallAt10(s, 'red', queries)).toBeGreaterThanOrEqual(0.9);
    // A vector written after the fit is its own nearest neighbour.
    const r = await s.request('POST', '/v1/collections/red/query', { vector: after[3]!.vector, k: 1 });
    expect(r.body.hits[0].id).toBe(after[3]!.id);
    // A stored (projected) vector comes back in the reduced space.
    const hit = await s.request('POST', '/v1/collections/red/query', { vector: after[3]!.vector, k: 1, include: ['vector'] });
    expect(hit.body.hits[0].vector).toHaveLength(4);
  });

  it('recommends and finds similar documents in the reduced space', async () => {
    const id = 'v17';
    const truth = exactTop(written, written.get(id)!, 11).filter((x) => x !== id);
    const similar = await s.request('GET', `/v1/collections/red/documents/${id}/similar?k=10`);
    expect(similar.status, JSON.stringify(similar.body)).toBe(200);
    const got = (similar.body.hits as Json[]).map((h) => h.id as string);
    expect(got).not.toContain(id);
    expect(got.filter((x) => truth.includes(x)).length).toBeGreaterThanOrEqual(8);
    const rec = await s.request('POST', '/v1/collections/red/recommend', { positive: [id], k: 10 });
    expect(rec.status, JSON.stringify(rec.body)).toBe(200);
    expect((rec.body.hits as Json[]).map((h) => h.id as string).filter((x) => truth.includes(x)).length).toBeGreaterThanOrEqual(8);
  });

  it('refits on the kept full vectors as a job and rebuilds its index', async () => {
    const r = await s.request('POST', '/v1/collections/red/reduce/refit');
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.job).toMatchObject({ kind: 'refit', collection: 'red' });
    const job = await waitFor('the refit job', async () => {
      const j = (await s.request('GET', `/v1/jobs/${r.body.job.id}`)).body.job;
      return j.status === 'queued' || j.status === 'running' ? undefined : j;
    });
    expect(job).toMatchObject({ status: 'done', result: { dimensions: 4, fitted_on: 300, vectors: 300 } });
    const c = await info(s, 'red');
    expect(c.reduce).toMatchObject({ status: 'fitted', fitted_on: 300 });
    expect(c.vector_count).toBe(300);
    expect(await recallAt10(s, 'red', queries)).toBeGreaterThanOrEqual(0.9);
  });

  it('keeps its projection and answers the same after a restart', async () => {
    const before = (await s.request('POST', '/v1/collections/red/query', { vector: queries[0], k: 10 })).body.hits.map((h: Json) => h.id);
    await s.stop();
    s = await TestServer.start({ dataDir });
    const c = await info(s, 'red');
    expect(c.reduce).toMatchObject({ status: 'fitted', fitted_on: 300 });
    expect(c.vector_count).toBe(300);
    const after = (await s.request('POST', '/v1/collections/red/query', { vector: queries[0], k: 10 })).body.hits.map((h: Json) => h.id);
    expect(after).toEqual(before);
    expect(await recallAt10(s, 'red', queries)).toBeGreaterThanOrEqual(0.9);
  });

  it('without keep_full, fits once and then refuses a refit', async () => {
    await s.request('POST', '/v1/collections', { name: 'lean', embedder: { provider: 'none' }, dimension: D, reduce: { dimensions: 4, fit_on: 50, keep_full: false } });
    await put(s, 'lean', base.slice(0, 80).map((vector, i) => ({ id: `v${i}`, vector })));
    await fitted(s, 'lean');
    const r = await s.request('POST', '/v1/collections/lean/reduce/refit');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('REFIT_REFUSED');
    expect(r.body.error.message).toContain('keep_full');
    const q = await s.request('POST', '/v1/collections/lean/query', { vector: base[5], k: 1 });
    expect(q.body.hits[0].id).toBe('v5');
  });
});

describe('a reduced collection survives kill -9 after acknowledged writes', () => {
  it('finds every acknowledged vector after the crash', async () => {
    const dir = tempDir();
    const p = await TestServer.start({ dataDir: dir, process: true });
    const vectors = structured(160, 5);
    try {
      await p.request('POST', '/v1/collections', { name: 'crash', embedder: { provider: 'none' }, dimension: D, reduce: { dimensions: 4, fit_on: 100 } });
      await put(p, 'crash', vectors.slice(0, 120).map((vector, i) => ({ id: `v${i}`, vector })));
      await fitted(p, 'crash');
      // Acknowledged after the fit, then the process is killed before any snapshot can be counted on.
      await put(p, 'crash', vectors.slice(120).map((vector, i) => ({ id: `v${120 + i}`, vector })));
    } finally {
      await p.stop('SIGKILL');
    }
    const again = await TestServer.start({ dataDir: dir, process: true });
    try {
      expect(await info(again, 'crash')).toMatchObject({ vector_count: 160, reduce: { status: 'fitted' } });
      for (const i of [3, 119, 121, 159]) {
        const r = await again.request('POST', '/v1/collections/crash/query', { vector: vectors[i], k: 1 });
        expect(r.body.hits[0].id).toBe(`v${i}`);
      }
    } finally {
      await again.stop();
    }
  });
});

describe('a reduced collection with the local model', () => {
  const TOPICS: Record<string, string[]> = {
    food: ['pasta', 'tomato', 'cheese', 'bread', 'soup', 'kitchen', 'cook', 'recipe', 'garlic', 'onion'],
    sport: ['football', 'goal', 'team', 'match', 'player', 'coach', 'season', 'league', 'score', 'stadium'],
    weather: ['rain', 'storm', 'wind', 'snow', 'cloud', 'forecast', 'temperature', 'sunny', 'cold', 'weather'],
    money: ['bank', 'market', 'stock', 'price', 'interest', 'investor', 'shares', 'economy', 'profit', 'trade'],
    music: ['guitar', 'song', 'band', 'piano', 'concert', 'album', 'singer', 'drums', 'melody', 'music'],
  };

  it('fits on the model vectors and keeps search by meaning (vector and hybrid)', async () => {
    const r = rng(3);
    const docs: { id: string; text: string }[] = [];
    for (const [topic, words] of Object.entries(TOPICS)) {
      for (let i = 0; i < 16; i++) docs.push({ id: `${topic}-${i}`, text: Array.from({ length: 6 }, () => words[Math.floor(r() * words.length)]).join(' ') });
    }
    const created = await s.request('POST', '/v1/collections', { name: 'words', reduce: { dimensions: 16, fit_on: 60 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.collection).toMatchObject({ dimension: 100, reduce: { dimensions: 16, status: 'pending' } });
    await put(s, 'words', docs);
    await fitted(s, 'words');
    for (const [topic, query] of [
      ['food', 'a recipe with garlic and cheese'],
      ['sport', 'the coach of the football team'],
      ['weather', 'snow and cold wind tomorrow'],
      ['money', 'stock market investors and bank interest'],
      ['music', 'a singer with her guitar at the concert'],
    ] as const) {
      for (const mode of ['vector', 'hybrid']) {
        const q = await s.request('POST', '/v1/collections/words/query', { text: query, k: 5, mode });
        expect(q.status, JSON.stringify(q.body)).toBe(200);
        const topics = (q.body.hits as Json[]).map((h) => String(h.id).split('-')[0]);
        expect(topics, `${mode}: "${query}"`).toEqual(Array(5).fill(topic));
      }
    }
  });
});
