// Owns Qdrant's `{nearest, mmr}` query: maximal marginal relevance over the nearest `candidates`
// documents under the filter, each hit scored with its MMR value at the pick. The pick itself
// (shared with `mmr: {lambda}` on /v1 queries) is in mmr-select.ts.
import type { Collection } from '../collection/index.js';
import type { Hit, IncludeField, Plan } from '../domain/types.js';
import { mmrSelect } from './mmr-select.js';
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

/** The k documents MMR picks, in the order picked, each scored with its MMR value at the pick. */
export async function mmr(c: Collection, r: MmrInput): Promise<Hit[]> {
  const plan: Plan = {};
  const filter = c.compileFilter(r.filter);
  // Chunks of one document can fill several places: rank documents first (their best chunk).
  const ranked = await vectorCandidates(c, r.vector, Math.max(r.candidates, r.k) * 4, { filter, ef: r.ef }, plan);
  const { hits } = toHits(c, ranked, { include: [...new Set<IncludeField>([...r.include, 'vector'])], groupBy: 'document', offset: 0, k: Math.max(r.candidates, r.k), hybrid: false });
  return mmrSelect(hits, r.k, r.diversity, c.info.metric, r.include.includes('vector'), true);
}
