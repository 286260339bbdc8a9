// The vector index seam. `VectorIndex` is what the rest of Quiver holds: asynchronous, with
// filters passed as data (label allow- and exclude-sets, never closures), so an implementation
// may live in this thread, a worker thread or another process without its callers knowing.
// `IndexCore` is the synchronous in-memory structure an implementation is built on (HNSW graph,
// exact scan); it stays inside one thread.
//
// Scores are "higher is better" for every metric, mapped here and nowhere else:
//   cosine: score = cosine similarity, in [-1, 1]
//   ip:     score = inner product
//   l2:     score = -(euclidean distance), so 0 is identical and scores fall with distance
import type { IndexChanges, Metric, Neighbor } from '../domain/types.js';

export type { Neighbor };

export interface SearchOptions {
  /** HNSW search breadth (never below k); ignored by exact scans. */
  ef?: number;
  /** Only these labels may be returned. */
  allow?: ReadonlySet<number>;
  /** These labels are never returned (e.g. the examples of a recommendation). */
  exclude?: ReadonlySet<number>;
}

/** How a search was answered: hnsw (graph), hnsw_filtered (graph restricted to allow), exact (a scan). */
export type SearchPlan = 'hnsw' | 'hnsw_filtered' | 'exact';

export interface SearchOutcome {
  neighbors: Neighbor[];
  plan: SearchPlan;
}

export interface IndexStats {
  /** Live (not deleted) vectors. */
  size: number;
  /** Rough bytes held: vectors, links and labels. */
  memoryBytes: number;
  /** Sequence number of the last write applied. */
  appliedSeq: number;
}

export interface VectorIndex {
  readonly dimension: number;
  readonly metric: Metric;
  /** Up to k neighbours, best first. */
  search(query: Float32Array, k: number, opts?: SearchOptions): Promise<SearchOutcome>;
  /** Applies one committed write; calls are applied in the order they are made. */
  apply(changes: IndexChanges): Promise<void>;
  stats(): Promise<IndexStats>;
  /** Persists a snapshot if anything changed since the last one; true when one was written. */
  save(): Promise<boolean>;
  /** Brings the snapshot up to date and copies its files into destDir; returns its seq. */
  copySnapshot(destDir: string): Promise<number | undefined>;
  /** Forgets the index and deletes its files. */
  drop(): Promise<void>;
}

/** The synchronous structure behind an index: one thread, no persistence of its own. */
export interface IndexCore {
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
  /** The stored vector of a live label (cosine cores may store it normalised). */
  vector(label: number): Float32Array | undefined;
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

/** The label test for a core search, built from the data-only options. */
export function labelTest(opts: SearchOptions): ((label: number) => boolean) | undefined {
  const { allow, exclude } = opts;
  const excluding = exclude !== undefined && exclude.size > 0;
  if (allow && excluding) return (l) => allow.has(l) && !exclude.has(l);
  if (allow) return (l) => allow.has(l);
  if (excluding) return (l) => !exclude.has(l);
  return undefined;
}
