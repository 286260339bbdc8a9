// Owns vector search over a collection: embed the query text (or take the client's vector),
// search the HNSW index, join the hits with their rows from SQLite.
import type { Engine } from '../engine/index.js';
import { createError } from '../errors/index.js';
import type { Metadata } from '../storage/index.js';
import { checkVector } from '../engine/index.js';

export type IncludeField = 'text' | 'metadata' | 'vector';

export interface QueryInput {
  text?: string;
  vector?: number[];
  k: number;
  include: IncludeField[];
  ef?: number;
}

export interface Hit {
  id: string;
  score: number;
  text?: string | null;
  metadata?: Metadata;
  vector?: number[];
}

export interface QueryResult {
  hits: Hit[];
  took_ms: number;
  /** Present when the query text had nothing the model could embed. */
  warning?: string;
}

export async function queryCollection(engine: Engine, collectionName: string, q: QueryInput): Promise<QueryResult> {
  const started = performance.now();
  const c = engine.collection(collectionName);
  let query: Float32Array | null;
  if (q.vector) {
    query = checkVector(c, q.vector, 'vector');
  } else {
    const embedder = await engine.embedderFor(c);
    if (!embedder) throw createError('NO_EMBEDDER', { field: 'text', collection: c.name });
    [query = null] = await embedder.embed([q.text ?? '']);
  }
  const took = () => Math.round((performance.now() - started) * 1000) / 1000;
  if (!query) return { hits: [], took_ms: took(), warning: 'the query text has no words the model knows; nothing to compare' };

  const index = engine.indexes.get(c.id);
  if (!index) throw createError('NOT_READY', { reason: `index of "${c.name}" is not loaded` });
  const neighbors = index.search(query, q.k, { ef: Math.max(q.ef ?? engine.config.hnsw.efSearch, q.k) });
  const rows = engine.docs.chunksByLabel(
    neighbors.map((n) => n.label),
    q.include.includes('vector'),
  );
  const hits: Hit[] = [];
  for (const n of neighbors) {
    const row = rows.get(n.label);
    if (!row) continue; // deleted between the search and the join
    const hit: Hit = { id: row.documentId, score: n.score };
    if (q.include.includes('text')) hit.text = row.text;
    if (q.include.includes('metadata')) hit.metadata = row.metadata;
    if (q.include.includes('vector') && row.vector) hit.vector = Array.from(row.vector);
    hits.push(hit);
  }
  return { hits, took_ms: took() };
}
