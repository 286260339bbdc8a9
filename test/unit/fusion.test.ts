// Hybrid fusion (src/query/fusion.ts): the query-adaptive blend of absolute scores (the default),
// reciprocal rank fusion and the convex combination of min-max normalised scores, computed by hand on small lists; their tie-breaking, absent lists,
// weights, one-element lists, and the defaults fuseFor fills in.
import { describe, expect, it } from 'vitest';
import type { Neighbor } from '../../src/domain/types.js';
import { DEFAULT_CONVEX_WEIGHTS, DEFAULT_FUSION, fuse, fuseAdaptive, fuseConvex, fuseFor } from '../../src/query/fusion.js';

const n = (...pairs: [number, number][]): Neighbor[] => pairs.map(([label, score]) => ({ label, score }));
const labels = (r: { label: number }[]) => r.map((x) => x.label);

// Best first, as the vector index and BM25 return them. Scores chosen so normalising is exact.
const vector = n([1, 1], [2, 0.5], [3, 0]);
const keyword = n([3, 4], [4, 2], [1, 0]);

describe('fuse (reciprocal rank fusion)', () => {
  it('scores Σ weight / (rrfK + rank) with 1-based ranks, and reports each rank', () => {
    // 1 and 3 tie (ranks 1 + 3 each) and so do 2 and 4 (rank 2 each): the lower label goes first.
    expect(fuse(vector, keyword, 60, { vector: 1, keyword: 1 })).toEqual([
      { label: 1, score: 1 / 61 + 1 / 63, vectorRank: 1, keywordRank: 3 },
      { label: 3, score: 1 / 63 + 1 / 61, vectorRank: 3, keywordRank: 1 },
      { label: 2, score: 1 / 62, vectorRank: 2, keywordRank: null },
      { label: 4, score: 1 / 62, vectorRank: null, keywordRank: 2 },
    ]);
  });

  it('ignores the scores themselves: only ranks count', () => {
    const a = fuse(n([1, 100], [2, 99]), n([2, 0.3], [1, 0.2]), 60, { vector: 1, keyword: 1 });
    const b = fuse(n([1, 1], [2, -50]), n([2, 1e9], [1, -1e9]), 60, { vector: 1, keyword: 1 });
    expect(a).toEqual(b);
  });

  it('weights each list', () => {
    const r = fuse(vector, keyword, 10, { vector: 3, keyword: 0.5 });
    expect(r.map((x) => [x.label, x.score])).toEqual([
      [1, 3 / 11 + 0.5 / 13],
      [3, 3 / 13 + 0.5 / 11],
      [2, 3 / 12],
      [4, 0.5 / 12],
    ]);
  });

  it('keeps a label of a zero-weight list, with score 0 and its rank', () => {
    const r = fuse(n([8, 1]), n([9, 1]), 60, { vector: 0, keyword: 1 });
    expect(r).toEqual([
      { label: 9, score: 1 / 61, vectorRank: null, keywordRank: 1 },
      { label: 8, score: 0, vectorRank: 1, keywordRank: null },
    ]);
  });

  it('fuses with an absent (empty) list as the other list alone', () => {
    expect(fuse(vector, [], 60, { vector: 1, keyword: 1 })).toEqual([
      { label: 1, score: 1 / 61, vectorRank: 1, keywordRank: null },
      { label: 2, score: 1 / 62, vectorRank: 2, keywordRank: null },
      { label: 3, score: 1 / 63, vectorRank: 3, keywordRank: null },
    ]);
    expect(labels(fuse([], keyword, 60, { vector: 1, keyword: 1 }))).toEqual([3, 4, 1]);
    expect(fuse([], [], 60, { vector: 1, keyword: 1 })).toEqual([]);
  });

  it('breaks a tie on score by the better best rank, even against a lower label', () => {
    // rrfK 0: label 9 at vector rank 1 scores 1/1, label 5 at keyword rank 2 scores 2/2.
    const r = fuse(n([9, 1]), n([6, 1], [5, 0.5]), 0, { vector: 1, keyword: 2 });
    expect(r.map((x) => [x.label, x.score])).toEqual([
      [6, 2],
      [9, 1],
      [5, 1],
    ]);
  });

  it('gives equal scores the rank of the first of them (1, 2, 2, 4), so their order in a list moves no fused score', () => {
    const keywordTies = n([5, 0.9], [6, 0.4], [7, 0.4], [8, 0.1]);
    const r = fuse(n([7, 1]), keywordTies, 60, { vector: 1, keyword: 1 });
    expect(r).toEqual([
      { label: 7, score: 1 / 61 + 1 / 62, vectorRank: 1, keywordRank: 2 },
      { label: 5, score: 1 / 61, vectorRank: null, keywordRank: 1 },
      { label: 6, score: 1 / 62, vectorRank: null, keywordRank: 2 },
      { label: 8, score: 1 / 64, vectorRank: null, keywordRank: 4 },
    ]);
    // The tied labels listed the other way round (as another shard layout would) fuse the same.
    const swapped = n([5, 0.9], [7, 0.4], [6, 0.4], [8, 0.1]);
    expect(fuse(n([7, 1]), swapped, 60, { vector: 1, keyword: 1 })).toEqual(r);
  });

  it('breaks a tie on score and best rank by the lower label', () => {
    expect(labels(fuse(n([7, 1]), n([3, 1]), 60, { vector: 1, keyword: 1 }))).toEqual([3, 7]);
    expect(labels(fuse(n([3, 1]), n([7, 1]), 60, { vector: 1, keyword: 1 }))).toEqual([3, 7]);
  });
});

describe('fuseConvex (weighted sum of min-max normalised scores)', () => {
  it('normalises each list to [0, 1], weights and sums; absent from a list counts 0', () => {
    expect(fuseConvex(vector, keyword, { vector: 0.25, keyword: 0.75 })).toEqual([
      { label: 3, score: 0.75, vectorRank: 3, keywordRank: 1 },
      { label: 4, score: 0.375, vectorRank: null, keywordRank: 2 },
      { label: 1, score: 0.25, vectorRank: 1, keywordRank: 3 },
      { label: 2, score: 0.125, vectorRank: 2, keywordRank: null },
    ]);
  });

  it('uses the scores, not only the ranks', () => {
    // Same ranks as `vector`, but label 2 is now nearly as good as label 1.
    const r = fuseConvex(n([1, 1], [2, 0.96], [3, 0]), [], { vector: 1, keyword: 1 });
    expect(r[1]!.score).toBeCloseTo(0.96, 12);
  });

  it('normalises negative scores (l2) the same way', () => {
    const r = fuseConvex(n([1, -1], [2, -2], [3, -3]), [], { vector: 1, keyword: 0 });
    expect(r.map((x) => [x.label, x.score])).toEqual([
      [1, 1],
      [2, 0.5],
      [3, 0],
    ]);
  });

  it('gives every element of a list whose scores are all equal (one element: min == max) the full weight', () => {
    expect(fuseConvex(n([4, 0.3]), n([5, 7]), { vector: 0.2, keyword: 0.8 })).toEqual([
      { label: 5, score: 0.8, vectorRank: null, keywordRank: 1 },
      { label: 4, score: 0.2, vectorRank: 1, keywordRank: null },
    ]);
    expect(fuseConvex(n([1, 2], [2, 2]), [], { vector: 0.5, keyword: 0.5 }).map((x) => x.score)).toEqual([0.5, 0.5]);
  });

  it('fuses with an absent (empty) list as the other list alone', () => {
    expect(fuseConvex([], keyword, { vector: 0.2, keyword: 0.8 }).map((x) => [x.label, x.score, x.vectorRank])).toEqual([
      [3, 0.8, null],
      [4, 0.4, null],
      [1, 0, null],
    ]);
    expect(fuseConvex([], [], { vector: 0.2, keyword: 0.8 })).toEqual([]);
  });

  it('breaks a tie on score by the lower label alone (unlike fuse, the best rank is not consulted)', () => {
    // All three score 0.5: label 5 (vector rank 1), 7 (keyword rank 1), 3 (keyword rank 2).
    const r = fuseConvex(n([5, 1]), n([7, 1], [3, 1]), { vector: 0.5, keyword: 0.5 });
    expect(r.map((x) => [x.label, x.score])).toEqual([
      [3, 0.5],
      [5, 0.5],
      [7, 0.5],
    ]);
  });
});

describe('fuseAdaptive (the default)', () => {
  // Cosines and keyword shares (keyword scores are in [0, 1): the share of the query's term weight).
  const cos = n([1, 0.8], [2, 0.5], [3, 0.2]);
  it('blends a·keyword + (1 − a)·cosine with a = min(0.9, 0.6 + best keyword score)', () => {
    const kw = n([3, 0.1], [4, 0.05]);
    const a = 0.7;
    expect(fuseAdaptive(cos, kw, true)).toEqual([
      { label: 1, score: (1 - a) * 0.8, vectorRank: 1, keywordRank: null },
      { label: 2, score: (1 - a) * 0.5, vectorRank: 2, keywordRank: null },
      { label: 3, score: (1 - a) * 0.2 + a * 0.1, vectorRank: 3, keywordRank: 1 },
      // Absent from the vector list: that list's last cosine.
      { label: 4, score: (1 - a) * 0.2 + a * 0.05, vectorRank: null, keywordRank: 2 },
    ]);
  });

  it('a weak keyword match (one common word of the query) does not outrank a strong meaning match', () => {
    // "how long to cook spaghetti": a text matching only "long" against the pasta document.
    const r = fuseAdaptive(n([10, 0.68], [11, 0.41], [12, 0.22]), n([12, 0.11]), true);
    expect(labels(r)[0]).toBe(10);
  });

  it('a strong keyword match leads, capped at keyword weight 0.9; no keyword match leaves the cosine', () => {
    const r = fuseAdaptive(cos, n([3, 0.5]), true);
    expect(labels(r)[0]).toBe(3);
    expect(r[0]!.score).toBeCloseTo(0.1 * 0.2 + 0.9 * 0.5, 12);
    expect(fuseAdaptive(cos, [], true).map((x) => x.score)).toEqual([0.8, 0.5, 0.2]);
  });

  it('min-max normalises vector scores of metrics other than cosine', () => {
    expect(fuseAdaptive(n([1, -2], [2, -4]), [], false).map((x) => x.score)).toEqual([1, 0]);
  });
});

describe('fuseFor (the fusion a query asked for, defaults filled in)', () => {
  it('defaults to adaptive; weights without a fusion mean convex (0.2 / 0.8 by default)', () => {
    expect(DEFAULT_FUSION).toBe('adaptive');
    expect(fuseFor({}, vector, keyword)).toEqual(fuseAdaptive(vector, keyword, true));
    expect(DEFAULT_CONVEX_WEIGHTS).toEqual({ vector: 0.2, keyword: 0.8 });
    const r = fuseFor({ fusion: 'convex' }, vector, keyword);
    expect(r.map((x) => [x.label, x.score])).toEqual([
      [3, 0.8],
      [4, 0.4],
      [1, 0.2],
      [2, 0.1],
    ]);
  });

  it('fills a missing convex weight from the default', () => {
    expect(fuseFor({ fusion: 'convex', weights: { vector: 1 } }, vector, keyword)).toEqual(fuseConvex(vector, keyword, { vector: 1, keyword: 0.8 }));
    expect(fuseFor({ weights: { keyword: 0 } }, vector, keyword)).toEqual(fuseConvex(vector, keyword, { vector: 0.2, keyword: 0 }));
  });

  it('uses rrf_k 60 and weights 1 / 1 for RRF unless told otherwise', () => {
    expect(fuseFor({ fusion: 'rrf' }, vector, keyword).map((x) => [x.label, x.score])).toEqual([
      [1, 1 / 61 + 1 / 63],
      [3, 1 / 63 + 1 / 61],
      [2, 1 / 62],
      [4, 1 / 62],
    ]);
    expect(fuseFor({ fusion: 'rrf', rrfK: 1, weights: { vector: 2 } }, vector, keyword)).toEqual(fuse(vector, keyword, 1, { vector: 2, keyword: 1 }));
    expect(fuseFor({ fusion: 'rrf', rrfK: 1, weights: { vector: 2 } }, vector, keyword)[0]!.score).toBe(2 / 2 + 1 / 4);
  });
});
