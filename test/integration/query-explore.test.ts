// Recommendation, similar documents, clustering and projection through HTTP, on labelled data
// the test generates (well-separated topics: vectors around one centre per topic, texts drawn
// from each topic's words).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';
import { rng } from '../fixtures/vectors.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'normal' } });
});
afterAll(async () => {
  await s.stop();
});

const DIM = 16;
const TOPICS = {
  space: ['rocket', 'orbit', 'planet', 'launch', 'astronaut', 'galaxy'],
  cooking: ['recipe', 'oven', 'flour', 'simmer', 'garlic', 'butter'],
  football: ['goal', 'striker', 'penalty', 'league', 'referee', 'midfield'],
  finance: ['stock', 'bond', 'dividend', 'inflation', 'portfolio', 'interest'],
};
const PER_TOPIC = 40;

function makeDocs() {
  const r = rng(5);
  const names = Object.keys(TOPICS) as (keyof typeof TOPICS)[];
  const centres = names.map(() => Array.from({ length: DIM }, () => r() * 2 - 1));
  const out: { id: string; vector: number[]; text: string; metadata: { topic: string; n: number } }[] = [];
  names.forEach((topic, t) => {
    for (let i = 0; i < PER_TOPIC; i++) {
      const vector = centres[t]!.map((c) => Math.fround(c + (r() - 0.5) * 0.3));
      const words = Array.from({ length: 8 }, () => TOPICS[topic][Math.floor(r() * 6)]!);
      out.push({ id: `${topic}-${i}`, vector, text: `the ${words.join(' and ')}`, metadata: { topic, n: i } });
    }
  });
  return out;
}
const docs = makeDocs();
const topicOf = (id: string) => id.split('-')[0]!;

beforeAll(async () => {
  await s.request('POST', '/v1/collections', { name: 'topics', embedder: { provider: 'none' }, dimension: DIM });
  expect((await s.request('PUT', '/v1/collections/topics/documents', { documents: docs })).status).toBe(200);
});

describe('recommend', () => {
  it('average_vector: more like the positives, never the inputs themselves', async () => {
    const r = await s.request('POST', '/v1/collections/topics/recommend', { positive: ['space-0', 'space-1'], k: 10 });
    expect(r.status).toBe(200);
    const ids = r.body.hits.map((h: { id: string }) => h.id);
    expect(ids).toHaveLength(10);
    expect(ids).not.toContain('space-0');
    expect(ids).not.toContain('space-1');
    expect(ids.every((id: string) => topicOf(id) === 'space')).toBe(true);
  });

  it('negative examples push their topic away (both strategies), and filters apply', async () => {
    for (const strategy of ['average_vector', 'best_score']) {
      const r = await s.request('POST', '/v1/collections/topics/recommend', {
        positive: ['cooking-0'],
        negative: ['cooking-1'],
        k: 5,
        strategy,
        filter: { n: { $lt: 20 } },
      });
      expect(r.status, strategy).toBe(200);
      const ids = r.body.hits.map((h: { id: string }) => h.id);
      expect(ids, strategy).not.toContain('cooking-0');
      expect(ids, strategy).not.toContain('cooking-1');
      for (const h of r.body.hits) expect(h.metadata.n).toBeLessThan(20);
      const scores = r.body.hits.map((h: { score: number }) => h.score);
      expect([...scores].sort((a, b) => b - a), strategy).toEqual(scores);
    }
    const best = await s.request('POST', '/v1/collections/topics/recommend', { positive: ['football-0', 'finance-0'], k: 6, strategy: 'best_score' });
    const topics = new Set(best.body.hits.map((h: { id: string }) => topicOf(h.id)));
    expect(topics).toEqual(new Set(['football', 'finance'])); // best_score keeps both modes; an average would not
  });

  it('answers unknown ids with 404 naming them, and bad bodies with 400', async () => {
    const r = await s.request('POST', '/v1/collections/topics/recommend', { positive: ['space-0', 'nope'], negative: ['gone'] });
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ code: 'DOCUMENTS_NOT_FOUND', details: { field: 'positive', ids: ['nope'] } });
    const empty = await s.request('POST', '/v1/collections/topics/recommend', { positive: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.issues[0].field).toBe('positive');
    const strat = await s.request('POST', '/v1/collections/topics/recommend', { positive: ['space-0'], strategy: 'magic' });
    expect(strat.body.error.details.issues[0].field).toBe('strategy');
  });

  it('GET .../documents/{id}/similar is the one-click shortcut', async () => {
    const r = await s.request('GET', '/v1/collections/topics/documents/finance-3/similar?k=4');
    expect(r.status).toBe(200);
    expect(r.body.hits).toHaveLength(4);
    expect(r.body.hits.every((h: { id: string }) => topicOf(h.id) === 'finance' && h.id !== 'finance-3')).toBe(true);
    const filtered = await s.request('GET', `/v1/collections/topics/documents/finance-3/similar?k=3&filter=${encodeURIComponent('{"topic":"space"}')}`);
    expect(filtered.body.hits.every((h: { id: string }) => topicOf(h.id) === 'space')).toBe(true);
    const missing = await s.request('GET', '/v1/collections/topics/documents/none-such/similar');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('DOCUMENT_NOT_FOUND');
    expect((await s.request('GET', '/v1/collections/topics/documents/finance-3/similar?k=0')).status).toBe(400);
  });
});

describe('cluster', () => {
  function purity(clusters: { members: string[] }[]): number {
    let majority = 0;
    for (const c of clusters) {
      const counts = new Map<string, number>();
      for (const id of c.members) counts.set(topicOf(id), (counts.get(topicOf(id)) ?? 0) + 1);
      majority += Math.max(...counts.values());
    }
    return majority / docs.length;
  }

  it('finds the topics with k="auto": purity ≥ 0.9, distinctive terms, centroid documents', async () => {
    const r = await s.request('POST', '/v1/collections/topics/cluster', { k: 'auto', include_members: true, seed: 1 });
    expect(r.status).toBe(200);
    expect(r.body.k).toBe(4);
    const p = purity(r.body.clusters);
    console.info(`cluster purity (k=auto → ${r.body.k}): ${p.toFixed(3)}, silhouette ${r.body.silhouette}`);
    expect(p).toBeGreaterThanOrEqual(0.9);
    expect(r.body.silhouette).toBeGreaterThan(0.5);
    for (const c of r.body.clusters) {
      const topic = topicOf(c.centroid_document_ids[0]);
      expect(c.centroid_document_ids).toHaveLength(3);
      expect(c.top_terms.slice(0, 3).every((t: string) => TOPICS[topic as keyof typeof TOPICS].includes(t))).toBe(true);
      expect(c.top_terms).not.toContain('the');
    }
  });

  it('takes a fixed k, a filter and a sample, and leaves members out unless asked', async () => {
    const r = await s.request('POST', '/v1/collections/topics/cluster', { k: 2, filter: { topic: { $in: ['space', 'finance'] } }, sample: 50 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ k: 2, documents: 50, total: 80 });
    expect(r.body.clusters.reduce((n: number, c: { size: number }) => n + c.size, 0)).toBe(50);
    expect(r.body.clusters[0].members).toBeUndefined();
    const bad = await s.request('POST', '/v1/collections/topics/cluster', { k: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].field).toBe('k');
  });

  it('runs as a job with "async": true, and the job holds the same answer', async () => {
    const body = { k: 'auto', include_members: true, seed: 1 };
    const r = await s.request('POST', '/v1/collections/topics/cluster', { ...body, async: true });
    expect(r.status).toBe(202);
    expect(r.body.job).toMatchObject({ kind: 'cluster', collection: 'topics', total: 1, result: null });
    let job = r.body.job;
    for (let i = 0; i < 600 && !['done', 'failed', 'cancelled'].includes(job.status); i++) {
      await new Promise((res) => setTimeout(res, 50));
      job = (await s.request('GET', `/v1/jobs/${job.id}`)).body.job;
    }
    expect(job).toMatchObject({ status: 'done', done: 1, error: null });
    const sync = await s.request('POST', '/v1/collections/topics/cluster', body);
    expect(job.result).toEqual(sync.body);
    expect(purity(job.result.clusters)).toBeGreaterThanOrEqual(0.9);
    const listed = await s.request('GET', '/v1/jobs?kind=cluster&collection=topics');
    expect(listed.body.jobs.map((j: { id: string }) => j.id)).toContain(job.id);
    // Large samples only as a job; a bad filter is refused before anything is queued.
    const big = await s.request('POST', '/v1/collections/topics/cluster', { sample: 50_000 });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toContain('"async": true');
    const badFilter = await s.request('POST', '/v1/collections/topics/cluster', { async: true, filter: { topic: { $near: 1 } } });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.message).toContain('$near');
  });
});

describe('project', () => {
  it('gives 2-D points that keep topics apart, with explained variance', async () => {
    const r = await s.request('POST', '/v1/collections/topics/project', { method: 'pca', dimensions: 2 });
    expect(r.status).toBe(200);
    expect(r.body.points).toHaveLength(docs.length);
    expect(r.body.explained_variance).toHaveLength(2);
    expect(r.body.explained_variance[0]).toBeGreaterThanOrEqual(r.body.explained_variance[1]);
    expect(r.body.explained_variance[0] + r.body.explained_variance[1]).toBeGreaterThan(0.5);
    // Topic centroids in the plane are farther apart than the spread within a topic.
    const byTopic = new Map<string, { x: number; y: number }[]>();
    for (const p of r.body.points) byTopic.set(topicOf(p.id), [...(byTopic.get(topicOf(p.id)) ?? []), p]);
    const centre = (ps: { x: number; y: number }[]) => ({ x: ps.reduce((a, p) => a + p.x, 0) / ps.length, y: ps.reduce((a, p) => a + p.y, 0) / ps.length });
    const spread = Math.max(...[...byTopic.values()].map((ps) => Math.max(...ps.map((p) => Math.hypot(p.x - centre(ps).x, p.y - centre(ps).y)))));
    const centres = [...byTopic.values()].map(centre);
    const gaps = centres.flatMap((a, i) => centres.slice(i + 1).map((b) => Math.hypot(a.x - b.x, a.y - b.y)));
    expect(Math.max(...gaps)).toBeGreaterThan(spread);
  });

  it('gives 3-D points for a filtered, limited set, and 400 for 4 dimensions', async () => {
    const r = await s.request('POST', '/v1/collections/topics/project', { dimensions: 3, filter: { topic: 'space' }, limit: 10 });
    expect(r.body.points).toHaveLength(10);
    expect(r.body.points[0]).toHaveProperty('z');
    expect(r.body.explained_variance).toHaveLength(3);
    const bad = await s.request('POST', '/v1/collections/topics/project', { dimensions: 4 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].field).toBe('dimensions');
    const one = await s.request('POST', '/v1/collections/topics/project', { filter: { n: 0, topic: 'space' } });
    expect(one.body.points).toEqual([{ id: 'space-0', x: 0, y: 0 }]);
  });
});
