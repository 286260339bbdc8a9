// The UMAP projection through HTTP (issue 15): POST .../project with "method": "umap" runs as a
// job of kind 'project' (202), whose result holds the points; the same seed gives the same map;
// the layout keeps topics apart; points carry metadata when asked; bad input is a 400 naming the
// field, before anything is queued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';
import { rng } from '../fixtures/vectors.js';

let s: TestServer;
const DIM = 24;
const TOPICS = 6;
const PER_TOPIC = 30;

interface Point {
  id: string;
  x: number;
  y: number;
}
interface JobView {
  id: string;
  kind: string;
  status: string;
  error: string | null;
  result: { method: string; points: Point[]; explained_variance: number[]; total: number; seed: number } | null;
}

beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'normal' } });
  await s.request('POST', '/v1/collections', { name: 'topics', embedder: { provider: 'none' }, dimension: DIM });
  const r = rng(9);
  const centres = Array.from({ length: TOPICS }, () => Array.from({ length: DIM }, () => r() * 2 - 1));
  const documents = centres.flatMap((c, t) =>
    Array.from({ length: PER_TOPIC }, (_, i) => ({ id: `t${t}-${i}`, vector: c.map((x) => x + (r() - 0.5) * 0.6), metadata: { topic: `t${t}`, n: i } })),
  );
  expect((await s.request('PUT', '/v1/collections/topics/documents', { documents })).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await s.stop();
});

/** Polls the job until it has finished (generous ceiling: the machine is shared). */
async function finished(id: string): Promise<JobView> {
  for (let i = 0; i < 1200; i++) {
    const job = (await s.request('GET', `/v1/jobs/${id}`)).body.job as JobView;
    if (['done', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`job ${id} did not finish within 120 s`);
}

async function umap(body: Record<string, unknown>): Promise<JobView> {
  const r = await s.request('POST', '/v1/collections/topics/project', { method: 'umap', async: true, ...body });
  expect(r.status).toBe(202);
  expect(r.body.job).toMatchObject({ kind: 'project', collection: 'topics', result: null });
  return finished(r.body.job.id);
}

/** Share of points whose nearest 2-D neighbour has the same topic. */
function neighbourAgreement(points: Point[]): number {
  let same = 0;
  for (const p of points) {
    let best: Point | undefined;
    let bestD = Infinity;
    for (const q of points) {
      const d = (p.x - q.x) ** 2 + (p.y - q.y) ** 2;
      if (q !== p && d < bestD) [best, bestD] = [q, d];
    }
    if (best && best.id.split('-')[0] === p.id.split('-')[0]) same++;
  }
  return same / points.length;
}

describe('UMAP projection as a job', () => {
  it('holds every sampled document as a point in [-1, 1]², topics apart', async () => {
    const job = await umap({ seed: 7, limit: 5000 });
    expect(job).toMatchObject({ status: 'done', error: null });
    const result = job.result!;
    expect(result).toMatchObject({ method: 'umap', total: TOPICS * PER_TOPIC, seed: 7, explained_variance: [] });
    expect(result.points).toHaveLength(TOPICS * PER_TOPIC);
    expect(new Set(result.points.map((p) => p.id)).size).toBe(TOPICS * PER_TOPIC);
    for (const p of result.points) {
      expect(Math.abs(p.x)).toBeLessThanOrEqual(1);
      expect(Math.abs(p.y)).toBeLessThanOrEqual(1);
    }
    expect(neighbourAgreement(result.points)).toBeGreaterThanOrEqual(0.95);
    expect((await s.request('GET', '/v1/jobs?kind=project&collection=topics')).body.jobs.map((j: { id: string }) => j.id)).toContain(job.id);
  });

  it('is repeatable: the same seed gives the same map, another seed another one', async () => {
    const a = await umap({ seed: 3, limit: 100 });
    const b = await umap({ seed: 3, limit: 100 });
    const c = await umap({ seed: 4, limit: 100 });
    expect(a.result!.points).toHaveLength(100);
    expect(b.result!.points).toEqual(a.result!.points);
    expect(c.result!.points).not.toEqual(a.result!.points);
  });

  it('takes a filter, 3 dimensions and its own parameters; tiny sets still get a map', async () => {
    const three = await umap({ dimensions: 3, filter: { topic: 't1' }, n_neighbors: 5, min_dist: 0.5 });
    expect(three.result!.points).toHaveLength(PER_TOPIC);
    expect(three.result!.points.every((p) => p.id.startsWith('t1-') && typeof (p as Point & { z?: number }).z === 'number')).toBe(true);
    const tiny = await umap({ filter: { n: 0, topic: { $in: ['t0', 't1'] } } });
    expect(tiny).toMatchObject({ status: 'done' });
    expect(tiny.result!.points).toHaveLength(2);
  });

  it('PCA can run as a job too, with the answer it gives at once', async () => {
    const sync = await s.request('POST', '/v1/collections/topics/project', { limit: 50 });
    const r = await s.request('POST', '/v1/collections/topics/project', { limit: 50, async: true });
    expect(r.status).toBe(202);
    const job = await finished(r.body.job.id);
    expect(job.result).toEqual(sync.body);
    expect(sync.body).toMatchObject({ method: 'pca', seed: 42 });
    expect(sync.body.points[0].metadata).toBeUndefined();
  });

  it('carries each point\'s metadata when asked, for colouring a map without fetching the documents', async () => {
    const r = await s.request('POST', '/v1/collections/topics/project', { limit: 20, include: ['metadata'] });
    expect(r.status).toBe(200);
    for (const p of r.body.points as (Point & { metadata: { topic: string; n: number } })[]) expect(p.metadata.topic).toBe(p.id.split('-')[0]);
    const job = await umap({ limit: 20, include: ['metadata'] });
    expect(job.result!.points.every((p) => (p as Point & { metadata?: { topic: string } }).metadata?.topic === p.id.split('-')[0])).toBe(true);
    const bad = await s.request('POST', '/v1/collections/topics/project', { include: ['text'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].field).toMatch(/^include/);
  });

  it('refuses bad input with a 400 naming the field, before queueing anything', async () => {
    const before = (await s.request('GET', '/v1/jobs?kind=project')).body.jobs.length;
    const cases: [Record<string, unknown>, string, string][] = [
      [{ method: 'tsne', async: true }, 'method', ''],
      [{ method: 'umap' }, 'async', '"async": true'],
      [{ method: 'umap', async: true, limit: 20_001 }, 'limit', ''],
      [{ method: 'umap', async: true, n_neighbors: 1 }, 'n_neighbors', ''],
      [{ method: 'umap', async: true, min_dist: 2 }, 'min_dist', ''],
      [{ method: 'pca', n_neighbors: 10 }, 'n_neighbors', 'umap'],
      [{ method: 'umap', async: 'yes' }, 'async', ''],
    ];
    for (const [body, field, words] of cases) {
      const r = await s.request('POST', '/v1/collections/topics/project', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.details.issues.map((i: { field: string }) => i.field)).toContain(field);
      expect(r.body.error.message).toContain(words);
    }
    const badFilter = await s.request('POST', '/v1/collections/topics/project', { method: 'umap', async: true, filter: { topic: { $near: 1 } } });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.message).toContain('$near');
    const missing = await s.request('POST', '/v1/collections/nope/project', { method: 'umap', async: true });
    expect(missing.status).toBe(404);
    expect((await s.request('GET', '/v1/jobs?kind=project')).body.jobs.length).toBe(before);
  });
});
