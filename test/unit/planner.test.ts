// The search planner of LocalVectorIndex, through the async VectorIndex seam: plain HNSW without
// an allow-set, an exact scan when the allow-set is at most exactThreshold labels, filtered HNSW
// above it. Whatever the plan, hits come only from the allow-set, never from the exclude-set or
// deleted labels, best first; exact scans equal brute force, filtered HNSW nearly so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Metric } from '../../src/domain/types.js';
import type { VectorIndex } from '../../src/index/index.js';
import { LocalVectorIndex, exactSearch } from '../../src/index/index.js';
import { randomVectors, rng } from '../fixtures/vectors.js';
import { FakeIndexSource } from './fake-index-source.js';
import { HOSTS } from './index-hosts.js';

const DIM = 8;
const N = 600;
const THRESHOLD = 50;
const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Fixture {
  index: VectorIndex;
  source: FakeIndexSource;
  labels: number[];
  /** Brute force over the source's live vectors, with the same label test the planner must apply. */
  truth: (q: Float32Array, k: number, test?: (l: number) => boolean) => { label: number; score: number }[];
}

let hostOf = HOSTS[0]!.host;

async function build(metric: Metric, n = N, seed = 1): Promise<Fixture> {
  const source = new FakeIndexSource();
  const { labels } = source.commit(randomVectors(n, DIM, seed).map((v) => Float32Array.from(v)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-planner-'));
  dirs.push(dir);
  const { index } = await LocalVectorIndex.open(source.info(metric, DIM), { dir, source, log, exactThreshold: THRESHOLD, host: hostOf() });
  const truth = (q: Float32Array, k: number, test?: (l: number) => boolean) =>
    exactSearch(metric, q, [...source.live].map(([l, v]): [number, Float32Array] => [l, v.vector]), k, test);
  return { index, source, labels, truth };
}

const queries = (count: number, seed: number) => randomVectors(count, DIM, seed).map((v) => Float32Array.from(v));
/** `size` distinct labels drawn from `from`, seeded. */
function sample(from: number[], size: number, seed: number): Set<number> {
  const r = rng(seed);
  const pool = [...from];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return new Set(pool.slice(0, size));
}
const labelsOf = (hits: { label: number }[]) => hits.map((h) => h.label);
const expectBestFirst = (hits: { score: number }[]) => {
  for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
};

describe.each(HOSTS)('the planner with the graph $where', ({ host }) => {
  beforeAll(() => {
    hostOf = host;
  });

  describe('LocalVectorIndex planner: which plan', () => {
    it('uses plain HNSW without an allow-set, also when excluding', async () => {
      const { index, labels } = await build('cosine');
      const q = queries(1, 9)[0]!;
      expect((await index.search(q, 10)).plan).toBe('hnsw');
      const exclude = new Set(labels.slice(0, 20));
      const out = await index.search(q, 10, { exclude });
      expect(out.plan).toBe('hnsw');
      expect(out.neighbors).toHaveLength(10);
    });

    it('scans exactly when the allow-set has at most exactThreshold labels, and walks the graph above it', async () => {
      const { index, labels } = await build('cosine');
      const q = queries(1, 9)[0]!;
      expect((await index.search(q, 5, { allow: new Set(labels.slice(0, 1)) })).plan).toBe('exact');
      expect((await index.search(q, 5, { allow: new Set(labels.slice(0, THRESHOLD)) })).plan).toBe('exact');
      expect((await index.search(q, 5, { allow: new Set(labels.slice(0, THRESHOLD + 1)) })).plan).toBe('hnsw_filtered');
      expect((await index.search(q, 5, { allow: new Set(labels) })).plan).toBe('hnsw_filtered');
    });

    it('counts the allow-set as given, labels absent from the index included, when choosing the plan', async () => {
      const { index, labels } = await build('cosine');
      // 10 real labels and 50 that were never written: 60 > threshold, so the graph is walked.
      const allow = new Set([...labels.slice(0, 10), ...Array.from({ length: THRESHOLD }, (_, i) => 100_000 + i)]);
      const out = await index.search(queries(1, 9)[0]!, 20, { allow });
      expect(out.plan).toBe('hnsw_filtered');
      expect(labelsOf(out.neighbors).sort((a, b) => a - b)).toEqual(labels.slice(0, 10));
    });

    it('scans (and finds nothing) when the index is empty', async () => {
      const { index } = await build('l2', 0);
      expect(await index.search(queries(1, 9)[0]!, 5, { allow: new Set(Array.from({ length: 500 }, (_, i) => i)) })).toEqual({ neighbors: [], plan: 'exact' });
      expect(await index.search(queries(1, 9)[0]!, 5)).toEqual({ neighbors: [], plan: 'hnsw' });
    });
  });

  describe('LocalVectorIndex planner: what it returns', () => {
    for (const metric of ['cosine', 'l2', 'ip'] as const) {
      it(`answers an exact plan exactly as brute force over the allowed labels (${metric})`, async () => {
        const { index, labels, truth } = await build(metric);
        for (const [i, q] of queries(25, 21).entries()) {
          const allow = sample(labels, 10 + (i % (THRESHOLD - 10)), 100 + i);
          const out = await index.search(q, 10, { allow });
          expect(out.plan).toBe('exact');
          const want = truth(q, 10, (l) => allow.has(l));
          expect(labelsOf(out.neighbors)).toEqual(labelsOf(want));
          out.neighbors.forEach((h, j) => expect(h.score).toBeCloseTo(want[j]!.score, 5));
        }
      });

      it(`answers a filtered HNSW plan from the allow-set only, with brute force's answers (${metric})`, async () => {
        const { index, labels, truth } = await build(metric);
        let found = 0;
        let asked = 0;
        for (const [i, q] of queries(25, 31).entries()) {
          // From just above the threshold (8 % of the index) to 60 % of it.
          const allow = sample(labels, THRESHOLD + 1 + i * 13, 200 + i);
          const out = await index.search(q, 10, { allow });
          expect(out.plan).toBe('hnsw_filtered');
          expect(out.neighbors).toHaveLength(10);
          expect(out.neighbors.every((h) => allow.has(h.label))).toBe(true);
          expectBestFirst(out.neighbors);
          const want = new Set(labelsOf(truth(q, 10, (l) => allow.has(l))));
          found += out.neighbors.filter((h) => want.has(h.label)).length;
          asked += 10;
        }
        expect(found / asked).toBeGreaterThanOrEqual(0.97);
      });
    }

    it('never returns an excluded label, whatever the plan', async () => {
      const { index, labels, truth } = await build('cosine');
      const q = queries(1, 41)[0]!;
      // The 30 best labels overall are excluded, so every plan would return them otherwise.
      const exclude = new Set(labelsOf(truth(q, 30)));
      const cases = [
        { opts: { exclude }, plan: 'hnsw' },
        { opts: { exclude, allow: new Set([...labelsOf(truth(q, 40))]) }, plan: 'exact' },
        { opts: { exclude, allow: new Set(labels.slice(0, 400)) }, plan: 'hnsw_filtered' },
      ] as const;
      for (const c of cases) {
        const out = await index.search(q, 10, c.opts);
        expect(out.plan).toBe(c.plan);
        expect(out.neighbors.filter((h) => exclude.has(h.label))).toEqual([]);
        expect(out.neighbors).toHaveLength(10);
        expectBestFirst(out.neighbors);
      }
      // The exact plan's 10 are precisely the 31st to 40th best.
      const exact = await index.search(q, 10, cases[1].opts);
      expect(labelsOf(exact.neighbors)).toEqual(labelsOf(truth(q, 40)).slice(30));
    });

    it('returns every allowed label, best first, when k is larger than the allow-set', async () => {
      const { index, labels, truth } = await build('l2');
      const q = queries(1, 51)[0]!;
      const small = sample(labels, 12, 3);
      const exact = await index.search(q, 100, { allow: small });
      expect(exact.plan).toBe('exact');
      expect(labelsOf(exact.neighbors)).toEqual(labelsOf(truth(q, 100, (l) => small.has(l))));
      const big = sample(labels, THRESHOLD + 10, 4);
      const filtered = await index.search(q, 100, { allow: big });
      expect(filtered.plan).toBe('hnsw_filtered');
      expect(new Set(labelsOf(filtered.neighbors))).toEqual(big);
      expectBestFirst(filtered.neighbors);
    });

    it('answers no hits, not an error, when nothing passes: phantom allow-set, allow all excluded, everything excluded', async () => {
      const { index, labels } = await build('cosine');
      const q = queries(1, 71)[0]!;
      const phantom = new Set(Array.from({ length: THRESHOLD + 10 }, (_, i) => 900_000 + i));
      expect(await index.search(q, 10, { allow: phantom })).toEqual({ neighbors: [], plan: 'hnsw_filtered' });
      const some = new Set(labels.slice(0, 100));
      expect(await index.search(q, 10, { allow: some, exclude: some })).toEqual({ neighbors: [], plan: 'hnsw_filtered' });
      expect(await index.search(q, 10, { exclude: new Set(labels) })).toEqual({ neighbors: [], plan: 'hnsw' });
      // All but five excluded: the five, although k is 10.
      const out = await index.search(q, 10, { exclude: new Set(labels.slice(5)) });
      expect(labelsOf(out.neighbors).sort((a, b) => a - b)).toEqual(labels.slice(0, 5));
    });

    it('ignores allowed labels that are not in the index (never written, or deleted since)', async () => {
      const { index, source, labels } = await build('cosine');
      const gone = labels.slice(0, 5);
      await index.apply(source.commit([], gone));
      const q = queries(1, 61)[0]!;
      const phantom = [999_001, 999_002, 999_003];
      const exact = await index.search(q, 20, { allow: new Set([...gone, ...phantom, labels[10]!, labels[11]!]) });
      expect(exact.plan).toBe('exact');
      expect(labelsOf(exact.neighbors).sort((a, b) => a - b)).toEqual([labels[10], labels[11]]);
      const filtered = await index.search(q, 1000, { allow: new Set([...gone, ...phantom, ...labels.slice(5, 5 + THRESHOLD)]) });
      expect(filtered.plan).toBe('hnsw_filtered');
      expect(labelsOf(filtered.neighbors).sort((a, b) => a - b)).toEqual(labels.slice(5, 5 + THRESHOLD));
      const plain = await index.search(q, N, { ef: N });
      expect(labelsOf(plain.neighbors).filter((l) => gone.includes(l))).toEqual([]);
      expect(plain.neighbors).toHaveLength(N - gone.length);
    });
  });
});
