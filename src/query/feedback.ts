// Owns pseudo-relevance feedback, `feedback: {keyword_hits, weight}` on a query: before the vector
// ranking is made, the query vector is moved toward the vectors of the best keyword hits of the
// same text (Rocchio). A short query embeds poorly with a static model; the chunks its own words
// pick out say what it is about. Opt-in and never the meaning of mode "vector": with it, the vector
// ranking depends on the keyword index (benchmarks/quality.ts, rows "feedback").
import type { Collection } from '../collection/index.js';
import type { CompiledFilter } from '../storage/index.js';

export interface Feedback {
  /** How many of the best keyword hits the vector moves toward. */
  keywordHits: number;
  /** How far: the mean of their unit vectors is added with this weight to the unit query vector. */
  weight: number;
}

/**
 * The best keyword hit alone, weight 1: on the tuning queries of fiori, docs and antd-zh it lifted
 * vector-only MRR@10 most of the settings tried (1 hit at weight 1; 3 at 0.5 or 1; 5 at 2; BENCHMARKS.md).
 */
export const DEFAULT_FEEDBACK: Feedback = { keywordHits: 1, weight: 1 };

function addUnit(into: Float64Array, v: Float32Array, scale: number): void {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (n === 0) return;
  for (let i = 0; i < into.length; i++) into[i]! += (scale * v[i]!) / n;
}

/**
 * unit(unit(query) + weight · mean(unit(hit vectors))), the hits being the best `keywordHits`
 * keyword-ranked chunks under the query's filter that have a vector. A query the model could not
 * embed (null) becomes the hits' mean direction; with no such hit the query is returned unchanged.
 */
export function feedbackVector(
  c: Collection,
  text: string,
  query: Float32Array | null,
  filter: CompiledFilter | undefined,
  f: Feedback,
): { vector: Float32Array | null; chunks: number } {
  const hits = c.keyword(text, filter, f.keywordHits);
  const vectors = [...c.vectorsByLabel(hits.map((h) => h.label)).values()];
  if (vectors.length === 0) return { vector: query, chunks: 0 };
  const dims = vectors[0]!.length;
  const sum = new Float64Array(dims);
  if (query) addUnit(sum, query, 1);
  for (const v of vectors) addUnit(sum, v, (query ? f.weight : 1) / vectors.length);
  let n = 0;
  for (const x of sum) n += x * x;
  n = Math.sqrt(n);
  // The hits point exactly away from the query: no direction is left to search with.
  if (n === 0) return { vector: query, chunks: 0 };
  return { vector: Float32Array.from(sum, (x) => x / n), chunks: vectors.length };
}
