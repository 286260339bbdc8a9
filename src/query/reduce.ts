// Owns fitting a reduced collection's projection: the 'refit' job's task (registered in
// server.ts). The first fit is queued by the collection itself once it holds `fit_on` vectors
// and is fitted on the first `fit_on` written; a refit (POST .../reduce/refit) is fitted on the
// kept full vectors (an even sample of at most REFIT_SAMPLE_MAX of them). The arithmetic runs in
// a worker (reduce-worker.mjs, with the job's deadline); the collection then installs the result
// under its lock (collection.ts installProjection) and rebuilds its index.
import type { Collection } from '../collection/index.js';
import { createError } from '../errors/index.js';
import type { Deadline } from './analysis.js';
import { pcaFitProject } from './analysis.js';

/** The most vectors a refit is fitted on: the fit costs n·d² (d×d scatter), and 20,000 vectors pin down 1024 components well. */
export const REFIT_SAMPLE_MAX = 20_000;

export interface RefitResult {
  dimensions: number;
  /** Vectors in the fit sample. */
  fittedOn: number;
  /** Vectors projected (every chunk with a vector). */
  vectors: number;
  /** The fit sample's variance the components keep, 0..1. */
  explainedVariance: number;
  seq: number;
}

/** Why a collection cannot be refitted now, or undefined (the route answers 409 before queueing a job). */
export function refitRefusal(c: Collection): string | undefined {
  const r = c.reduction;
  if (!r) return 'it was not created with "reduce"';
  if (r.fitted && !r.spec.keepFull) return 'it was created with "keep_full": false, so the full vectors a fit needs were not kept';
  return undefined;
}

export async function refit(c: Collection, deadline: Deadline): Promise<RefitResult> {
  const refusal = refitRefusal(c);
  if (refusal) throw createError('REFIT_REFUSED', { collection: c.name, reason: refusal });
  const { spec, fitted } = c.reduction!;
  const rows = [...c.fullVectors()];
  const n = rows.length;
  if (n <= spec.dimensions) {
    throw createError('REFIT_REFUSED', { collection: c.name, reason: `it holds ${n} vectors; a fit onto ${spec.dimensions} dimensions needs more than ${spec.dimensions}` });
  }
  const d = c.info.dimension;
  // The sample first: the first fit_on written for the first fit, an even spread for a refit.
  const fitN = fitted ? Math.min(n, REFIT_SAMPLE_MAX) : Math.min(n, spec.fitOn);
  const order = fitted && n > fitN ? spread(n, fitN) : rows.map((_, i) => i);
  const flat = new Float32Array(n * d);
  order.forEach((row, i) => flat.set(rows[row]!.vector, i * d));
  const labels = order.map((row) => rows[row]!.label);
  rows.length = 0; // the flat copy is what goes to the worker
  // Cosine and inner product compare inner products, which centring changes (a collection of
  // embeddings shares a large mean direction): their components are fitted uncentred (a truncated
  // SVD), so y·y' ≈ x·x'. Distances do not move with the mean: l2 is centred, PCA proper.
  const centre = c.info.metric === 'l2';
  const out = await pcaFitProject(flat, { n, d, dims: spec.dimensions, fitN, centre }, deadline);
  const projected = new Map<number, Float32Array>();
  labels.forEach((label, i) => projected.set(label, out.projected.subarray(i * spec.dimensions, (i + 1) * spec.dimensions)));
  const fit = await c.installProjection({
    fit: { mean: out.mean, components: out.components, explained: out.explained, fittedOn: fitN, fittedAt: new Date().toISOString() },
    projected,
  });
  return { dimensions: spec.dimensions, fittedOn: fitN, vectors: n, explainedVariance: sum(fit.explained), seq: fit.seq };
}

/** Row indexes: `k` spread evenly over 0..n-1 first, then the rest. */
function spread(n: number, k: number): number[] {
  const chosen = new Set<number>();
  for (let i = 0; i < k; i++) chosen.add(Math.floor((i * n) / k));
  const rest: number[] = [];
  for (let i = 0; i < n; i++) if (!chosen.has(i)) rest.push(i);
  return [...chosen, ...rest];
}

function sum(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}
