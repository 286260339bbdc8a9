// Owns how the CPU-heavy analyses (PCA and UMAP projection, k-means clustering, recommend's
// best_score over many examples) are run: each in its own worker thread (pca-worker.mjs,
// umap-worker.mjs, cluster-worker.mjs, best-score-worker.mjs) under a deadline that terminates it, a missed deadline becoming the
// catalogued ANALYSIS_TIMEOUT. Plain data in and out (rows of numbers, no Engine), so the query
// modules only hand over vectors and read back numbers.
import { createError } from '../errors/index.js';
import type { Metric } from '../domain/types.js';
import { WorkerTimeoutError, runWorkerTask } from '../util/worker-task.js';
import { bestScores as bestScoresHere } from './best-score.mjs';

/** When an analysis must have finished, and where that bound comes from (for the error). */
export interface Deadline {
  /** performance.now() value at which the worker is terminated. */
  at: number;
  /** The whole budget, as reported in the error. */
  ms: number;
  setting: 'QUIVER_REQUEST_TIMEOUT_MS' | 'QUIVER_ANALYSIS_JOB_TIMEOUT_MS';
}

/**
 * The deadline of an analysis answering a request, starting now. It ends a little before the
 * request's own timeout (app.ts answers REQUEST_TIMEOUT then) so the client learns it was the
 * analysis that ran out, and the worker is gone by the time the request is.
 */
export function requestDeadline(requestTimeoutMs: number): Deadline {
  const ms = requestTimeoutMs - Math.min(1000, Math.ceil(requestTimeoutMs / 10));
  return { at: performance.now() + ms, ms, setting: 'QUIVER_REQUEST_TIMEOUT_MS' };
}

/** The deadline of an analysis job (no client waiting), starting now. */
export function jobDeadline(jobTimeoutMs: number): Deadline {
  return { at: performance.now() + jobTimeoutMs, ms: jobTimeoutMs, setting: 'QUIVER_ANALYSIS_JOB_TIMEOUT_MS' };
}

/** Rows as one flat float64 buffer: moved to the worker, not copied number by number. */
function pack(rows: ArrayLike<number>[], d: number): Float64Array<ArrayBuffer> {
  const flat = new Float64Array(rows.length * d);
  rows.forEach((row, i) => flat.set(row, i * d));
  return flat;
}

/** The same for float32 vectors, which are copied exactly. */
function pack32(rows: Float32Array[], d: number): Float32Array<ArrayBuffer> {
  const flat = new Float32Array(rows.length * d);
  rows.forEach((row, i) => flat.set(row, i * d));
  return flat;
}

/**
 * Workers are kept for the next task only after inputs up to this many bytes: an idle worker does
 * not collect its garbage, and a large projection leaves a few times its input behind.
 */
const REUSE_MAX_BYTES = 32 * 1024 * 1024;

async function inWorker<T>(task: 'projection' | 'clustering' | 'recommendation' | 'fit', file: string, input: unknown, transfer: ArrayBuffer[], deadline: Deadline): Promise<T> {
  const timeoutError = () => createError('ANALYSIS_TIMEOUT', { task, ms: deadline.ms, setting: deadline.setting });
  const left = Math.floor(deadline.at - performance.now());
  if (left <= 0) throw timeoutError(); // reading the documents used the budget up
  try {
    const bytes = transfer.reduce((sum, b) => sum + b.byteLength, 0);
    return await runWorkerTask<T>(new URL(file, import.meta.url), input, { timeoutMs: left, transfer, reuse: bytes <= REUSE_MAX_BYTES });
  } catch (err) {
    if (err instanceof WorkerTimeoutError) throw timeoutError();
    throw err;
  }
}

export interface Projection {
  /** n×dims, row-major. */
  coords: Float64Array;
  /** `dims` fractions of the total variance, 0 where there is none (never NaN). */
  explained: number[];
}

/** PCA of the rows onto their first `dims` principal components (pca.mjs), in a worker. */
export async function pcaProject(rows: ArrayLike<number>[], dims: number, deadline: Deadline): Promise<Projection> {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  // Nothing to compute (no point, or one: at the origin); not worth a worker.
  if (n < 2) return { coords: new Float64Array(n * dims), explained: new Array<number>(dims).fill(0) };
  const flat = pack(rows, d);
  return inWorker<Projection>('projection', './pca-worker.mjs', { flat, n, d, dims }, [flat.buffer], deadline);
}

export interface FitOutcome {
  mean: Float32Array;
  /** dims×d, row-major. */
  components: Float32Array;
  explained: number[];
  /** Every row projected: n×dims, row-major. */
  projected: Float32Array;
}

/**
 * A PCA projection onto `dims` components fitted on the first `fitN` rows (centred or not, see
 * pca.mjs pcaFit), and every row projected by it (reduce-worker.mjs), in a worker: both hold a
 * core for seconds on a large collection.
 */
export async function pcaFitProject(
  flat: Float32Array<ArrayBuffer>,
  shape: { n: number; d: number; dims: number; fitN: number; centre: boolean },
  deadline: Deadline,
): Promise<FitOutcome> {
  return inWorker<FitOutcome>('fit', './reduce-worker.mjs', { flat, ...shape }, [flat.buffer], deadline);
}

export interface UmapOptions {
  dims: number;
  seed: number;
  /** Neighbours each point keeps close (umap-js nNeighbors). */
  neighbours: number;
  minDist: number;
  epochs: number;
}

/** A UMAP layout of the rows (umap.mjs), n×dims row-major in [-1, 1], in a worker. */
export async function umapProject(rows: ArrayLike<number>[], o: UmapOptions, deadline: Deadline): Promise<Float64Array> {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n < 2) return new Float64Array(n * o.dims);
  const flat = pack(rows, d);
  return inWorker<Float64Array>('projection', './umap-worker.mjs', { flat, n, d, ...o }, [flat.buffer], deadline);
}

export interface KmeansOutcome {
  /** Clusters found, every one non-empty: at most the k asked for and the distinct points. */
  k: number;
  labels: number[];
  centroids: number[][];
  /** null with one cluster. */
  silhouette: number | null;
}

/** k-means for a fixed k, or k = 2..10 chosen by the silhouette for "auto" (kmeans.mjs: the largest k within 10 % of the best), in a worker. */
export async function kmeansBest(rows: number[][], k: number | 'auto', seed: number, deadline: Deadline): Promise<KmeansOutcome> {
  const d = rows[0]?.length ?? 0;
  const flat = pack(rows, d);
  return inWorker<KmeansOutcome>('clustering', './cluster-worker.mjs', { flat, n: rows.length, d, k, seed }, [flat.buffer], deadline);
}

/**
 * Multiply-adds of best_score below which it is scored here: ~10 ms of arithmetic, less than
 * handing it to a worker costs. Beyond, a worker (200 examples over 10,000 candidates of 128
 * dimensions held the event loop ~1.6 s; it grows with candidates × examples × dimensions).
 */
const BEST_SCORE_INLINE_MAX = 2_000_000;

/** recommend's best_score for each candidate (best-score.mjs): here when small, else in a worker. */
export async function bestScores(metric: Metric, candidates: Float32Array[], positive: Float32Array[], negative: Float32Array[], deadline: Deadline): Promise<Float64Array> {
  const d = candidates[0]?.length ?? positive[0]?.length ?? 0;
  const cand = pack32(candidates, d);
  const pos = pack32(positive, d);
  const neg = pack32(negative, d);
  if (candidates.length * (positive.length + negative.length) * d <= BEST_SCORE_INLINE_MAX) return bestScoresHere(metric, cand, pos, neg, d);
  return inWorker<Float64Array>('recommendation', './best-score-worker.mjs', { metric, cand, pos, neg, d }, [cand.buffer, pos.buffer, neg.buffer], deadline);
}
