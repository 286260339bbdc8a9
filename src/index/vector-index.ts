// The VectorIndex contract shared by the HNSW index and the exact (brute-force) index, and the
// one place where a metric's distance becomes a score. Scores are "higher is better" for every
// metric:
//   cosine: score = cosine similarity, in [-1, 1]
//   ip:     score = inner product
//   l2:     score = -(euclidean distance), so 0 is identical and scores fall with distance
import type { Metric } from '../storage/index.js';

export interface Neighbor {
  label: number;
  score: number;
}

export interface SearchOptions {
  /** HNSW search breadth; ignored by exact search. */
  ef?: number;
  /** Only labels for which this returns true are returned. */
  filter?: (label: number) => boolean;
}

export interface VectorIndex {
  readonly dimension: number;
  readonly metric: Metric;
  /** Number of live (not deleted) vectors. */
  readonly size: number;
  has(label: number): boolean;
  /** Adds a vector, or replaces the one under this label. */
  add(label: number, vector: Float32Array): void;
  /** Removes a label; a missing label is not an error (replays may repeat deletes). */
  remove(label: number): void;
  /** Up to k neighbours, best first. */
  search(query: Float32Array, k: number, opts?: SearchOptions): Neighbor[];
  labels(): Iterable<number>;
}

/** hnswlib reports 1 - cos for "cosine", 1 - dot for "ip" and the squared distance for "l2". */
export function hnswDistanceToScore(metric: Metric, distance: number): number {
  switch (metric) {
    case 'cosine':
    case 'ip':
      return 1 - distance;
    case 'l2':
      return -Math.sqrt(Math.max(0, distance));
  }
}

export function similarity(metric: Metric, a: Float32Array, b: Float32Array): number {
  let dot = 0;
  if (metric === 'l2') {
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!;
      dot += d * d;
    }
    return -Math.sqrt(dot);
  }
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (metric === 'ip') return dot;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
