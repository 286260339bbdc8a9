// Owns how a vector ranking and a keyword ranking become one (hybrid search): reciprocal rank
// fusion and the convex combination of normalised scores, and which one is the default.
import type { Fusion, Neighbor } from '../domain/types.js';

export interface Ranked {
  label: number;
  score: number;
  vectorRank?: number | null;
  keywordRank?: number | null;
}

/**
 * Measured on the fiori texts (title → body, MRR@10; benchmarks/server-quality.ts): keyword 0.713,
 * vector 0.289; RRF at rrf_k 60 with equal weights 0.494 (the weak static model's ranks pull
 * BM25's good first places down), RRF at rrf_k 60 with vector weight 0.02 0.700; convex with
 * vector 0.1–0.2 / keyword 0.9–0.8 0.714–0.715. So hybrid defaults to convex 0.2/0.8: it ties
 * keyword on keyword-friendly queries and still answers by meaning when no word matches.
 */
export const DEFAULT_FUSION: Fusion = 'convex';
export const DEFAULT_CONVEX_WEIGHTS = { vector: 0.2, keyword: 0.8 };

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

/** Reciprocal rank fusion: score = Σ weight / (rrf_k + rank), ranks 1-based. */
export function fuse(vector: Neighbor[], keyword: Neighbor[], rrfK: number, w: { vector: number; keyword: number }): Ranked[] {
  const byLabel = new Map<number, Ranked>();
  const add = (list: Neighbor[], weight: number, key: 'vectorRank' | 'keywordRank') => {
    list.forEach((n, i) => {
      let r = byLabel.get(n.label);
      if (!r) byLabel.set(n.label, (r = { label: n.label, score: 0, vectorRank: null, keywordRank: null }));
      r[key] = i + 1;
      r.score += weight / (rrfK + i + 1);
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

/** The fusion a query asked for, with its defaults filled in. */
export function fuseFor(q: { fusion?: Fusion; rrfK?: number; weights?: { vector?: number; keyword?: number } }, vector: Neighbor[], keyword: Neighbor[]): Ranked[] {
  if ((q.fusion ?? DEFAULT_FUSION) === 'rrf') return fuse(vector, keyword, q.rrfK ?? 60, { vector: q.weights?.vector ?? 1, keyword: q.weights?.keyword ?? 1 });
  return fuseConvex(vector, keyword, {
    vector: q.weights?.vector ?? DEFAULT_CONVEX_WEIGHTS.vector,
    keyword: q.weights?.keyword ?? DEFAULT_CONVEX_WEIGHTS.keyword,
  });
}
