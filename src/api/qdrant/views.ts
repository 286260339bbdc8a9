// Owns the points as Qdrant shows them: Record (retrieve, scroll) and ScoredPoint (search,
// query, recommend), built from Quiver's documents and hits, and Qdrant's score convention.
import type { Hit, Metric, StoredDocument } from '../../domain/types.js';
import { toPointId } from './ids.js';
import type { PayloadSelector } from './payload.js';
import { selectPayload, toPayload } from './payload.js';

export interface Shown {
  payload: PayloadSelector;
  vector: boolean;
}

/**
 * Qdrant's score for a Quiver score: cosine similarity and dot product are the same number; for
 * Euclid Qdrant reports the distance (smaller is better) where Quiver reports minus the distance.
 */
export function qdrantScore(metric: Metric, score: number): number {
  return metric === 'l2' ? -score : score;
}

/** The Quiver threshold for a Qdrant score_threshold: Euclid keeps distances at most the threshold. */
export function quiverThreshold(metric: Metric, threshold: number | null | undefined): number | undefined {
  if (threshold === null || threshold === undefined) return undefined;
  return metric === 'l2' ? -threshold : threshold;
}

export function recordView(d: StoredDocument, shown: Shown, vector: () => Float32Array | null): Record<string, unknown> {
  const v = shown.vector ? vector() : null;
  return {
    id: toPointId(d.id),
    payload: selectPayload(toPayload(d.metadata), shown.payload) ?? null,
    vector: v ? Array.from(v) : null,
    shard_key: null,
    order_value: null,
  };
}

export function scoredView(h: Hit, metric: Metric, shown: Shown): Record<string, unknown> {
  return {
    id: toPointId(h.documentId),
    // Quiver keeps no per-point version; 0 says so.
    version: 0,
    score: qdrantScore(metric, h.score),
    payload: h.metadata ? (selectPayload(toPayload(h.metadata), shown.payload) ?? null) : null,
    vector: shown.vector && h.vector ? h.vector : null,
    shard_key: null,
    order_value: null,
  };
}
