// Owns the maximal-marginal-relevance pick itself, shared by Qdrant's `{nearest, mmr}` (query/mmr.ts)
// and `mmr: {lambda}` on /v1 queries (query/search.ts): each step picks the candidate maximising
// (1 − diversity)·relevance(c) − diversity·max sim(c, picked). Similarities use the collection's
// metric, higher is better (l2: minus the distance).
import type { Hit, Metric } from '../domain/types.js';

function similarity(metric: Metric, a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    if (metric === 'l2') {
      const x = a[i]! - b[i]!;
      dot += x * x;
    } else {
      dot += a[i]! * b[i]!;
      na += a[i]! * a[i]!;
      nb += b[i]! * b[i]!;
    }
  }
  if (metric === 'l2') return -Math.sqrt(dot);
  if (metric === 'ip') return dot;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Picks k of the candidates (hits carrying their vectors) by MMR, in the order picked. scoreIsMmr:
 * each hit's score becomes its MMR value at the pick (Qdrant); otherwise it keeps its own score.
 * keepVector: leave the vectors on the hits. Candidates without a vector are left out.
 */
export function mmrSelect(hits: Hit[], k: number, diversity: number, metric: Metric, keepVector: boolean, scoreIsMmr: boolean): Hit[] {
  const pool = hits.filter((h) => h.vector !== undefined).map((h) => ({ hit: h, v: Float32Array.from(h.vector!), relevance: h.score, closest: -Infinity }));
  const picked: Hit[] = [];
  while (picked.length < k && pool.length > 0) {
    let best = 0;
    let bestScore = -Infinity;
    pool.forEach((p, i) => {
      const diverse = picked.length === 0 ? 0 : p.closest;
      const score = (1 - diversity) * p.relevance - diversity * diverse;
      if (score > bestScore) [best, bestScore] = [i, score];
    });
    const [chosen] = pool.splice(best, 1);
    for (const p of pool) p.closest = Math.max(p.closest, similarity(metric, p.v, chosen!.v));
    const hit: Hit = { ...chosen!.hit, ...(scoreIsMmr ? { score: bestScore } : {}) };
    if (!keepVector) delete hit.vector;
    picked.push(hit);
  }
  return picked;
}
