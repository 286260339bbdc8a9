// JSON shapes of collections and documents as the API returns them, and opaque cursors.
import type { Engine } from '../engine/index.js';
import { createError } from '../errors/index.js';
import type { Collection, DocumentRow } from '../storage/index.js';
import type { Request } from 'express';
import { chunkingView } from '../ingest/chunking.js';
import { isWellFormed } from '../text/well-formed.js';

export function collectionView(engine: Engine, c: Collection) {
  return {
    name: c.name,
    metric: c.metric,
    dimension: c.dimension,
    embedder: c.embedder,
    document_count: engine.collections.documentCount(c.id),
    vector_count: engine.indexes.get(c.id)?.size ?? null,
    hnsw: { m: c.hnsw.m, ef_construction: c.hnsw.efConstruction },
    chunking: c.chunking ? chunkingView(c.chunking) : null,
    created_at: c.createdAt,
  };
}

export function documentView(d: DocumentRow, vector?: Float32Array | null) {
  return {
    id: d.id,
    text: d.text,
    metadata: d.metadata,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    ...(vector !== undefined ? { vector: vector ? Array.from(vector) : null } : {}),
  };
}

/** Opaque cursors: clients pass back what they got; the encoding may change. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ a: lastId })).toString('base64url');
}
export function decodeCursor(cursor: string | undefined): string {
  if (cursor === undefined) return '';
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    // Ids are well-formed, so a cursor holding a lone surrogate was not made here.
    if (typeof v.a === 'string' && isWellFormed(v.a)) return v.a;
  } catch {
    // fall through
  }
  throw createError('VALIDATION_FAILED', { issues: [{ field: 'cursor', message: 'not a cursor returned by this endpoint' }] });
}

export function param(req: Request, name: string): string {
  return String(req.params[name]);
}

