// Owns maximal marginal relevance: re-ranking vector candidates so that each pick is relevant to
// the query and unlike the picks before it (Qdrant's `{nearest, mmr}` query). The candidates are
// the nearest `candidates` documents under the filter; each step picks the one maximising
// (1 − diversity)·sim(query, c) − diversity·max sim(c, picked), and that value is its score.
// Similarities use the collection's metric, higher is better (l2: minus the distance).
import type { Collection } from '../collection/index.js';
import type { Hit, IncludeField, Metric, Plan } from '../domain/types.js';
import { toHits, vectorCandidates } from './search.js';

export interface MmrInput {
  vector: Float32Array;
  k: number;
  /** How many nearest documents to choose from (at least k). */
  candidates: number;
  /** 0: relevance only; 1: diversity only. */
  diversity: number;
  filter?: unknown;
  include: IncludeField[];
  ef?: number;
}

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

/** The k documents MMR picks, in the order picked, each scored with its MMR value at the pick. */
export async function mmr(c: Collection, r: MmrInput): Promise<Hit[]> {
  const plan: Plan = {};
  const filter = c.compileFilter(r.filter);
  // Chunks of one document can fill several places: rank documents first (their best chunk).
  const ranked = await vectorCandidates(c, r.vector, Math.max(r.candidates, r.k) * 4, { filter, ef: r.ef }, plan);
  const { hits } = toHits(c, ranked, { include: [...new Set<IncludeField>([...r.include, 'vector'])], groupBy: 'document', offset: 0, k: Math.max(r.candidates, r.k), hybrid: false });
  const pool = hits.filter((h) => h.vector !== undefined).map((h) => ({ hit: h, v: Float32Array.from(h.vector!), relevance: h.score, closest: -Infinity }));
  const picked: Hit[] = [];
  while (picked.length < r.k && pool.length > 0) {
    let best = 0;
    let bestScore = -Infinity;
    pool.forEach((p, i) => {
      const diverse = picked.length === 0 ? 0 : p.closest;
      const score = (1 - r.diversity) * p.relevance - r.diversity * diverse;
      if (score > bestScore) [best, bestScore] = [i, score];
    });
    const [chosen] = pool.splice(best, 1);
    for (const p of pool) p.closest = Math.max(p.closest, similarity(c.info.metric, p.v, chosen!.v));
    const hit: Hit = { ...chosen!.hit, score: bestScore };
    if (!r.include.includes('vector')) delete hit.vector;
    picked.push(hit);
  }
  return picked;
}
