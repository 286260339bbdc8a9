// Owns the vector path of a dimensionality-reduced collection (collection `reduce` setting): where
// vectors change space. Until its projection is fitted the collection holds the embedder's full
// vectors and its index is a full-dimension one, like any other collection's; the fit (a 'refit'
// job, queued by itself once `fitOn` vectors are written) rewrites every chunk's vector as its
// projection in one transaction and the index is rebuilt at the reduced dimension. After it:
// - a write's chunk vectors are projected in its transaction (Reducer.prepare), the full ones
//   kept beside them with keepFull;
// - a query vector is projected where it enters the index (ReducedIndex.search): a vector of the
//   embedder's dimension is a full one (from the model or a client), one of the reduced dimension
//   is already in the index's space (a stored vector, as recommend uses). The reduced dimension
//   is always smaller, so the length tells them apart.
// chunks.vector is always what the index holds, so the index opens, replays and rebuilds from
// SQLite as for any collection; a snapshot older than the fit is not used (LocalIndexOptions.validFrom).
import type { DocumentWrite, FittedProjection, IndexChanges, Metric, Reduction, ReduceSpec } from '../domain/types.js';
import type { IndexStats, SearchOptions, SearchOutcome, VectorIndex } from '../index/index.js';

/** y = components · (x − mean), in float64 sums. */
export function projectVector(fit: Pick<FittedProjection, 'mean' | 'components'>, x: Float32Array): Float32Array {
  const d = fit.mean.length;
  const dims = fit.components.length / d;
  const centred = new Float64Array(d);
  for (let j = 0; j < d; j++) centred[j] = x[j]! - fit.mean[j]!;
  const y = new Float32Array(dims);
  for (let r = 0; r < dims; r++) {
    const o = r * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += fit.components[o + j]! * centred[j]!;
    y[r] = s;
  }
  return y;
}

export class Reducer {
  constructor(
    readonly spec: ReduceSpec,
    /** The embedder's dimension (the collection's). */
    readonly fullDimension: number,
    private fit: FittedProjection | null,
  ) {}

  get fitted(): FittedProjection | null {
    return this.fit;
  }

  get reduction(): Reduction {
    return { spec: this.spec, fitted: this.fit };
  }

  /** The dimension of the vectors the index holds now. */
  get indexDimension(): number {
    return this.fit ? this.spec.dimensions : this.fullDimension;
  }

  /** Call under the collection's lock, once the fit's transaction committed. */
  installed(fit: FittedProjection): void {
    this.fit = fit;
  }

  /**
   * Puts a write's chunk vectors into the index's space, in the write's transaction (under the
   * lock, so the fit cannot come between): projected once fitted, the full vector kept aside with
   * keepFull; unchanged before.
   */
  prepare(writes: DocumentWrite[]): void {
    const fit = this.fit;
    if (!fit) return;
    for (const w of writes) {
      if (w.kind !== 'content') continue;
      for (const c of w.chunks) {
        if (!c.vector || c.vector.length !== this.fullDimension) continue;
        if (this.spec.keepFull) c.full = c.vector;
        c.vector = projectVector(fit, c.vector);
      }
    }
  }

  /** A query vector in the index's space (see the header: the length says which space it is in). */
  queryVector(v: Float32Array): Float32Array {
    return this.fit && v.length === this.fullDimension ? projectVector(this.fit, v) : v;
  }
}

/**
 * The index of a reduced collection: the collection's index (a LocalVectorIndex at the current
 * dimension) behind a seam that projects query vectors and can be replaced by one rebuilt at a
 * new dimension. Searches arriving during a rebuild wait for it; those in flight finish first.
 */
export class ReducedIndex implements VectorIndex {
  private rebuilding: Promise<void> | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(
    private inner: VectorIndex,
    private readonly reducer: Reducer,
    /** Opens the collection's index anew at a dimension, not trusting snapshots older than `validFrom`. */
    private readonly reopen: (dimension: number, validFrom: number) => Promise<VectorIndex>,
  ) {}

  get dimension(): number {
    return this.inner.dimension;
  }

  get metric(): Metric {
    return this.inner.metric;
  }

  async search(query: Float32Array, k: number, opts?: SearchOptions): Promise<SearchOutcome> {
    while (this.rebuilding) await this.rebuilding;
    this.inFlight++;
    try {
      return await this.inner.search(this.reducer.queryVector(query), k, opts);
    } finally {
      if (--this.inFlight === 0) this.idle?.();
    }
  }

  apply(changes: IndexChanges): Promise<void> {
    return this.inner.apply(changes);
  }

  stats(): Promise<IndexStats> {
    return this.inner.stats();
  }

  save(): Promise<boolean> {
    return this.inner.save();
  }

  copySnapshot(destDir: string): Promise<number | undefined> {
    return this.inner.copySnapshot(destDir);
  }

  drop(): Promise<void> {
    return this.inner.drop();
  }

  /**
   * Replaces the index by one built from SQLite at the current dimension, after a fit rewrote the
   * vectors at `seq`, and snapshots it. Call under the collection's lock (no write is applied
   * meanwhile). If the process dies before the snapshot, the next open rebuilds from SQLite: the
   * old snapshot is gone, or older than `seq`.
   */
  async rebuild(seq: number): Promise<void> {
    let done!: () => void;
    this.rebuilding = new Promise<void>((resolve) => (done = resolve));
    try {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      this.idle = undefined;
      await this.inner.drop();
      this.inner = await this.reopen(this.reducer.indexDimension, seq);
      await this.inner.save();
    } finally {
      this.rebuilding = undefined;
      done();
    }
  }
}
