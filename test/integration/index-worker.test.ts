// Queries while the index is being written, through HTTP, with the graph in a worker thread (the
// default) and in the main thread (QUIVER_INDEX_WORKERS=0). One client upserts batches one after
// another; readers query meanwhile and every answer is checked against exact search done here
// over the vectors the client knows:
// - read-your-writes: a document acknowledged before a query was sent is found by its own vector,
//   first, with score 1;
// - no ghosts and true scores: every hit is a document sent before the answer came, and its
//   score is the exact cosine of the query and that document's vector;
// - a filtered query (small allow-set: exact plan) is at least as good as exact search over the
//   documents acknowledged before it was sent, hit for hit;
// and at the end, with the writes done, HNSW top 10 agrees with exact top 10 (recall ≥ 0.98).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, randomVectors, rng } from '../fixtures/vectors.js';
import type { Json } from '../helpers/server.js';
import { TestServer } from '../helpers/server.js';

const DIM = 12;
const BATCHES = 30;
const PER_BATCH = 40;
const READERS = 4;
const K = 10;

function exactTop(query: number[], ids: Iterable<string>, vectors: Map<string, number[]>, k: number): { id: string; score: number }[] {
  return [...ids]
    .map((id) => ({ id, score: cosine(query, vectors.get(id)!) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

describe.each([
  { where: 'in a worker thread', workers: '1' },
  { where: 'in the main thread', workers: '0' },
])('queries while the index is written, graph $where', ({ workers }) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'normal', QUIVER_INDEX_WORKERS: workers, QUIVER_EXACT_SEARCH_THRESHOLD: '200' } });
    expect((await s.request('POST', '/v1/collections', { name: 'live', embedder: { provider: 'none' }, dimension: DIM })).status).toBe(201);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers every query from a consistent, exact-scored view of the acknowledged writes', async () => {
    const all = randomVectors(BATCHES * PER_BATCH, DIM, 42);
    const vectors = new Map<string, number[]>();
    const group = new Map<string, number>();
    const sent = new Set<string>();
    const acked: string[] = [];
    let writing = true;
    let checked = 0;
    let filteredChecked = 0;

    const writer = (async () => {
      try {
        for (let b = 0; b < BATCHES; b++) {
          const documents = all.slice(b * PER_BATCH, (b + 1) * PER_BATCH).map((vector, i) => {
            const id = `d${b * PER_BATCH + i}`;
            vectors.set(id, vector);
            group.set(id, (b * PER_BATCH + i) % 10);
            sent.add(id);
            return { id, vector, metadata: { g: (b * PER_BATCH + i) % 10 } };
          });
          const r = await s.request('PUT', '/v1/collections/live/documents', { documents });
          expect(r.status).toBe(200);
          for (const d of documents) acked.push(d.id);
        }
      } finally {
        writing = false;
      }
    })();

    const reader = async (seed: number) => {
      const random = rng(seed);
      while (writing || checked < 40) {
        if (acked.length === 0) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const before = acked.length;
        const target = acked[Math.floor(random() * before)]!;
        const query = vectors.get(target)!;
        const filtered = random() < 0.3;
        const g = group.get(target)!;
        const body = filtered ? { vector: query, k: K, filter: { g } } : { vector: query, k: K };
        const r = await s.request('POST', '/v1/collections/live/query', body);
        expect(r.status).toBe(200);
        const hits: { id: string; score: number }[] = r.body.hits.map((h: Json) => ({ id: h.id, score: h.score }));
        expect(hits[0]).toMatchObject({ id: target });
        expect(hits[0]!.score).toBeCloseTo(1, 5);
        for (const h of hits) {
          expect(sent.has(h.id)).toBe(true);
          expect(h.score).toBeCloseTo(cosine(query, vectors.get(h.id)!), 5);
        }
        for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score + 1e-6);
        if (filtered) {
          expect(r.body.plan.vector).toBe('exact');
          for (const h of hits) expect(group.get(h.id)).toBe(g);
          const truth = exactTop(query, acked.slice(0, before).filter((id) => group.get(id) === g), vectors, K);
          // Writes acknowledged meanwhile may add better hits, never remove them.
          expect(hits.length).toBeGreaterThanOrEqual(truth.length);
          truth.forEach((t, i) => expect(hits[i]!.score).toBeGreaterThanOrEqual(t.score - 1e-5));
          filteredChecked++;
        }
        checked++;
      }
    };

    await Promise.all([writer, ...Array.from({ length: READERS }, (_, i) => reader(100 + i))]);
    expect(checked).toBeGreaterThanOrEqual(40);
    expect(filteredChecked).toBeGreaterThan(0);

    // Quiet now: HNSW agrees with exact search over everything written.
    const queries = randomVectors(50, DIM, 7);
    let found = 0;
    for (const q of queries) {
      const r = await s.request('POST', '/v1/collections/live/query', { vector: q, k: K });
      const got = new Set(r.body.hits.map((h: Json) => h.id as string));
      for (const t of exactTop(q, acked, vectors, K)) if (got.has(t.id)) found++;
    }
    expect(found / (queries.length * K)).toBeGreaterThanOrEqual(0.98);
  });
});
