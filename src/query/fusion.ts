// Owns how a vector ranking and a keyword ranking become one (hybrid search): the query-adaptive
// blend of absolute scores (the default), reciprocal rank fusion and the convex combination of
// min-max-normalised scores.
import type { Fusion, Neighbor } from '../domain/types.js';

export interface Ranked {
  label: number;
  score: number;
  vectorRank?: number | null;
  keywordRank?: number | null;
}

/**
 * The default (issue 14, benchmarks/quality.ts, MRR@10 on tuning / held-back queries): the old
 * convex 0.2/0.8 of min-max-normalised scores tied keyword on fiori (0.751 / 0.741 against keyword
 * 0.757 / 0.751) and on the undici+pino docs, and ranked a text matching only "long" above the
 * spaghetti document for "how long to cook spaghetti" (min-max makes the one weak keyword match
 * a 1). `adaptive` blends absolute scores instead: keyword's share of the query's term weight
 * (src/storage/search.ts) and the cosine, with the keyword weight rising with how much of the
 * query the best keyword hit covers: fiori 0.759 / 0.752, docs 0.466 / 0.443 (keyword 0.465 /
 * 0.434), and the spaghetti document first. Min-max convex, z-scores and RRF did not do better.
 */
export const DEFAULT_FUSION: Fusion = 'adaptive';
export const DEFAULT_CONVEX_WEIGHTS = { vector: 0.2, keyword: 0.8 };
/** keyword weight = min(ADAPTIVE_MAX, ADAPTIVE_BASE + best keyword score); 0 when no chunk matches a word. */
export const ADAPTIVE_BASE = 0.6;
export const ADAPTIVE_MAX = 0.9;

/**
 * Query-adaptive blend: score = a·keyword + (1 − a)·vector, where keyword is the keyword score (in
 * [0, 1): the share of the query's term weight a chunk matches) and vector the cosine clamped to
 * [0, 1] (min-max-normalised instead when `vectorIsCosine` is false: other metrics have no fixed
 * scale), and a = min(0.9, 0.6 + the best keyword score). With no keyword match at all, a = 0
 * and the hybrid score is the cosine. A chunk absent from the vector list gets that list's last
 * score (it ranks below it), absent from the keyword list 0.
 */
export function fuseAdaptive(vector: Neighbor[], keyword: Neighbor[], vectorIsCosine: boolean): Ranked[] {
  const a = keyword.length > 0 ? Math.min(ADAPTIVE_MAX, ADAPTIVE_BASE + keyword[0]!.score) : 0;
  const vmax = vector[0]?.score ?? 0;
  const vmin = vector[vector.length - 1]?.score ?? 0;
  const vscore = (s: number) => (vectorIsCosine ? Math.min(1, Math.max(0, s)) : vmax > vmin ? (s - vmin) / (vmax - vmin) : 1);
  const byLabel = new Map<number, Ranked>();
  vector.forEach((n, i) => byLabel.set(n.label, { label: n.label, score: (1 - a) * vscore(n.score), vectorRank: i + 1, keywordRank: null }));
  const absentVector = vector.length > 0 ? (1 - a) * vscore(vmin) : 0;
  keyword.forEach((n, i) => {
    let r = byLabel.get(n.label);
    if (!r) byLabel.set(n.label, (r = { label: n.label, score: absentVector, vectorRank: null, keywordRank: null }));
    r.keywordRank = i + 1;
    r.score += a * n.score;
  });
  return [...byLabel.values()].sort((x, y) => y.score - x.score || x.label - y.label);
}

/** Convex combination: each list's scores min-max normalised to [0, 1] (absent = 0), then weighted and summed. */
export function fuseConvex(vector: Neighbor[], keyword: Neighbor[], w: { vector: number; keyword: number }): Ranked[] {
  const byLabel = new Map<number, Ranked>();
  const add = (list: Neighbor[], weight: number, key: 'vectorRank' | 'keywordRank') => {
    if (list.length === 0) return;
    const max = list[0]!.score;
    const min = list[list.length - 1]!.score;
    list.forEach((n, i) => {
      let r = byLabel.get(n.label);
      if (!r) byLabel.set(n.label, (r = { label: n.label, score: 0, vectorRank: null, keywordRank: null }));
      r[key] = i + 1;
      r.score += weight * (max > min ? (n.score - min) / (max - min) : 1);
    });
  };
  add(vector, w.vector, 'vectorRank');
  add(keyword, w.keyword, 'keywordRank');
  return [...byLabel.values()].sort((a, b) => b.score - a.score || a.label - b.label);
}

/**
 * Reciprocal rank fusion: score = Σ weight / (rrf_k + rank), ranks 1-based. Equal scores share the
 * rank of the first of them (1, 2, 2, 4): the order inside a tie is only the labels', which differ
 * between one node and the shards of a collection, and must not move a fused score.
 */
export function fuse(vector: Neighbor[], keyword: Neighbor[], rrfK: number, w: { vector: number; keyword: number }): Ranked[] {
  const byLabel = new Map<number, Ranked>();
  const add = (list: Neighbor[], weight: number, key: 'vectorRank' | 'keywordRank') => {
    let rank = 0;
    list.forEach((n, i) => {
      if (i === 0 || n.score !== list[i - 1]!.score) rank = i + 1;
      let r = byLabel.get(n.label);
      if (!r) byLabel.set(n.label, (r = { label: n.label, score: 0, vectorRank: null, keywordRank: null }));
      r[key] = rank;
      r.score += weight / (rrfK + rank);
    });
  };
  add(vector, w.vector, 'vectorRank');
  add(keyword, w.keyword, 'keywordRank');
  // Ties (same fused score) go to the better best rank, then to the lower label: stable answers.
  return [...byLabel.values()].sort(
    (a, b) =>
      b.score - a.score ||
      Math.min(a.vectorRank ?? Infinity, a.keywordRank ?? Infinity) - Math.min(b.vectorRank ?? Infinity, b.keywordRank ?? Infinity) ||
      a.label - b.label,
  );
}

/**
 * The fusion a query asked for, with its defaults filled in: weights without a fusion mean the
 * convex blend they were made for (as before `adaptive` became the default).
 */
export function fuseFor(
  q: { fusion?: Fusion; rrfK?: number; weights?: { vector?: number; keyword?: number } },
  vector: Neighbor[],
  keyword: Neighbor[],
  vectorIsCosine = true,
): Ranked[] {
  const fusion = q.fusion ?? (q.weights ? 'convex' : DEFAULT_FUSION);
  if (fusion === 'rrf') return fuse(vector, keyword, q.rrfK ?? 60, { vector: q.weights?.vector ?? 1, keyword: q.weights?.keyword ?? 1 });
  if (fusion === 'adaptive') return fuseAdaptive(vector, keyword, vectorIsCosine);
  return fuseConvex(vector, keyword, {
    vector: q.weights?.vector ?? DEFAULT_CONVEX_WEIGHTS.vector,
    keyword: q.weights?.keyword ?? DEFAULT_CONVEX_WEIGHTS.keyword,
  });
}
