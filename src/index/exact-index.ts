// Exact nearest neighbours by scanning every vector: the reference that HNSW recall is measured
// against, and (through exactSearch) the scan the planner uses for small or heavily filtered sets.
import type { Metric, Neighbor } from '../domain/types.js';
import type { IndexCore, SearchOptions } from './vector-index.js';
import { labelTest, similarity } from './vector-index.js';

export class ExactIndex implements IndexCore {
  private readonly vectors = new Map<number, Float32Array>();

  constructor(
    readonly dimension: number,
    readonly metric: Metric,
  ) {}

  get size(): number {
    return this.vectors.size;
  }

  has(label: number): boolean {
    return this.vectors.has(label);
  }

  add(label: number, vector: Float32Array): void {
    if (vector.length !== this.dimension) throw new RangeError(`expected ${this.dimension} dimensions, got ${vector.length}`);
    this.vectors.set(label, vector);
  }

  remove(label: number): void {
    this.vectors.delete(label);
  }

  vector(label: number): Float32Array | undefined {
    return this.vectors.get(label);
  }

  search(query: Float32Array, k: number, opts: SearchOptions = {}): Neighbor[] {
    return exactSearch(this.metric, query, this.vectors, k, labelTest(opts));
  }

  labels(): Iterable<number> {
    return this.vectors.keys();
  }
}

/** Top k of (label, vector) pairs by similarity to the query, best first. */
export function exactSearch(
  metric: Metric,
  query: Float32Array,
  vectors: Iterable<[number, Float32Array]>,
  k: number,
  test?: (label: number) => boolean,
): Neighbor[] {
  const top: Neighbor[] = [];
  if (k <= 0) return top;
  for (const [label, v] of vectors) {
    if (test && !test(label)) continue;
    const score = similarity(metric, query, v);
    if (top.length < k) {
      top.push({ label, score });
      if (top.length === k) top.sort((a, b) => b.score - a.score);
    } else if (score > top[k - 1]!.score) {
      // Insertion into a sorted array of k: k is small (≤ 1000), scans are long.
      let i = k - 1;
      while (i > 0 && top[i - 1]!.score < score) {
        top[i] = top[i - 1]!;
        i--;
      }
      top[i] = { label, score };
    }
  }
  if (top.length < k) top.sort((a, b) => b.score - a.score);
  return top;
}
