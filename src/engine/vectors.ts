// Checks on client-supplied vectors, shared by writes and queries.
import { createError } from '../errors/index.js';
import type { Collection } from '../storage/index.js';

/** Checks a client vector against the collection; returns it as float32. */
export function checkVector(c: Collection, v: number[], field: string): Float32Array {
  if (v.length !== c.dimension) throw createError('DIMENSION_MISMATCH', { field, expected: c.dimension, got: v.length });
  const out = Float32Array.from(v);
  if (c.metric === 'cosine' && out.every((x) => x === 0)) throw createError('ZERO_VECTOR', { field });
  for (const x of out) {
    if (!Number.isFinite(x)) {
      throw createError('VALIDATION_FAILED', { issues: [{ field, message: 'a component is out of float32 range' }] });
    }
  }
  return out;
}

