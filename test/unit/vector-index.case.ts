// One suite for every IndexCore implementation (HNSW and exact), in the manner of
// hono's common.case.test.ts: each implementation must keep the same contract.
import { describe, expect, it } from 'vitest';
import type { Metric } from '../../src/domain/types.js';
import type { IndexCore } from '../../src/index/index.js';
import { exactSearch } from '../../src/index/index.js';
import { randomVectors } from '../fixtures/vectors.js';

export function runVectorIndexSuite(name: string, make: (dimension: number, metric: Metric) => IndexCore): void {
  describe(`IndexCore contract: ${name}`, () => {
    it('adds, finds, replaces and removes', () => {
      const idx = make(3, 'cosine');
      idx.add(1, Float32Array.of(1, 0, 0));
      idx.add(2, Float32Array.of(0, 1, 0));
      expect(idx.size).toBe(2);
      expect(idx.search(Float32Array.of(1, 0.1, 0), 1)[0]!.label).toBe(1);
      idx.add(1, Float32Array.of(0, 0, 1)); // replace
      expect(idx.size).toBe(2);
      expect(idx.search(Float32Array.of(0, 0, 1), 1)[0]!.label).toBe(1);
      idx.remove(2);
      idx.remove(2); // a repeated delete is harmless
      idx.remove(999);
      expect(idx.size).toBe(1);
      expect(idx.has(2)).toBe(false);
      expect(idx.search(Float32Array.of(0, 1, 0), 5).map((n) => n.label)).toEqual([1]);
      expect([...idx.labels()]).toEqual([1]);
    });

    it('returns nothing from an empty index and at most size hits', () => {
      const idx = make(2, 'l2');
      expect(idx.search(Float32Array.of(1, 1), 10)).toEqual([]);
      idx.add(5, Float32Array.of(1, 1));
      expect(idx.search(Float32Array.of(1, 1), 10)).toHaveLength(1);
    });

    it('rejects a vector of the wrong dimension', () => {
      const idx = make(4, 'ip');
      expect(() => idx.add(1, Float32Array.of(1, 2))).toThrow(/4 dimensions, got 2/);
    });

    for (const metric of ['cosine', 'ip', 'l2'] as const) {
      it(`agrees with exact search on 500 random vectors (${metric}), best first`, () => {
        const idx = make(12, metric);
        const data = randomVectors(500, 12, 3).map((v) => Float32Array.from(v));
        data.forEach((v, i) => idx.add(i, v));
        const queries = randomVectors(20, 12, 4).map((v) => Float32Array.from(v));
        let found = 0;
        for (const q of queries) {
          const truth = new Set(exactSearch(metric, q, data.entries(), 10).map((n) => n.label));
          const got = idx.search(q, 10, { ef: 200 });
          expect(got.map((n) => n.score)).toEqual([...got.map((n) => n.score)].sort((a, b) => b - a));
          found += got.filter((n) => truth.has(n.label)).length;
        }
        expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.98);
      });
    }

    it('keeps only labels of the allow-set, and none of the exclude-set', () => {
      const idx = make(4, 'cosine');
      randomVectors(200, 4, 9).forEach((v, i) => idx.add(i, Float32Array.from(v)));
      const allow = new Set(Array.from({ length: 200 }, (_, i) => i).filter((l) => l % 7 === 0));
      const got = idx.search(Float32Array.of(1, 0, 0, 0), 10, { allow, ef: 200 });
      expect(got.length).toBe(10);
      expect(got.every((n) => n.label % 7 === 0)).toBe(true);
      const exclude = new Set(got.slice(0, 3).map((n) => n.label));
      const without = idx.search(Float32Array.of(1, 0, 0, 0), 10, { allow, exclude, ef: 200 });
      expect(without.map((n) => n.label)).toEqual(got.slice(3).map((n) => n.label).concat(without.slice(7).map((n) => n.label)));
      expect(without.some((n) => exclude.has(n.label))).toBe(false);
    });

    it('gives back a stored vector (normalised for cosine) and nothing for an absent label', () => {
      const idx = make(2, 'l2');
      idx.add(3, Float32Array.of(3, 4));
      expect(Array.from(idx.vector(3)!)).toEqual([3, 4]);
      expect(idx.vector(4)).toBeUndefined();
      idx.remove(3);
      expect(idx.vector(3)).toBeUndefined();
    });

    it('grows past its initial capacity and reuses deleted slots', () => {
      const idx = make(4, 'cosine');
      const data = randomVectors(3000, 4, 11);
      data.forEach((v, i) => idx.add(i, Float32Array.from(v)));
      for (let i = 0; i < 1000; i++) idx.remove(i);
      data.slice(0, 1000).forEach((v, i) => idx.add(10_000 + i, Float32Array.from(v)));
      expect(idx.size).toBe(3000);
      expect(idx.search(Float32Array.from(data[5]!), 1)[0]!.label).toBe(10_005);
    });
  });
}
