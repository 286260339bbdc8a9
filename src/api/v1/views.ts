// The v1 JSON shapes: domain types to what the API returns (snake_case), the API's chunking and
// query shapes to domain types, and opaque cursors.
import type { Request } from 'express';
import type { Collection } from '../../collection/index.js';
import type { ChunkingSpec, EmbedderSpec, Hit, Reduction, SearchQuery, SearchResult, StoredDocument } from '../../domain/types.js';
import type { ClusterResult, ProjectResult, RefitResult } from '../../query/index.js';
import { createError } from '../../errors/index.js';
import { DEFAULT_CHUNKING } from '../../text/chunking.js';
import { isWellFormed } from '../../text/well-formed.js';
import type { z } from 'zod';
import type { chunkingInput, queryBody } from './schemas.js';

type ChunkingInput = z.output<typeof chunkingInput>;

export function toChunkingSpec(input: ChunkingInput): ChunkingSpec {
  if (input.strategy === 'none') return { strategy: 'none', unit: 'chars', max: 0, overlap: 0 };
  if (input.max_chars !== undefined) return { strategy: input.strategy, unit: 'chars', max: input.max_chars, overlap: input.overlap ?? 0 };
  return { strategy: input.strategy, unit: 'tokens', max: input.max_tokens ?? DEFAULT_CHUNKING.max, overlap: input.overlap ?? 0 };
}

export function chunkingView(spec: ChunkingSpec): ChunkingInput {
  if (spec.strategy === 'none') return { strategy: 'none' };
  return { strategy: spec.strategy, [spec.unit === 'chars' ? 'max_chars' : 'max_tokens']: spec.max, overlap: spec.overlap };
}

/** A stored embedder spec in the API's snake_case (baseUrl → base_url), as a client sends it. */
export function embedderView(spec: EmbedderSpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

export async function collectionView(c: Collection) {
  const { info } = c;
  const stats = await c.stats();
  return {
    name: info.name,
    metric: info.metric,
    dimension: info.dimension,
    embedder: embedderView(info.embedder),
    document_count: c.documentCount(),
    vector_count: stats.size,
    index_memory_bytes: stats.memoryBytes,
    hnsw: { m: info.hnsw.m, ef_construction: info.hnsw.efConstruction },
    chunking: info.chunking ? chunkingView(info.chunking) : null,
    reduce: reduceView(c.reduction),
    created_at: info.createdAt,
  };
}

/** A reduced collection's settings and, once fitted, how much of the variance its components keep. */
function reduceView(r: Reduction | undefined) {
  if (!r) return null;
  const { spec, fitted } = r;
  return {
    method: spec.method,
    dimensions: spec.dimensions,
    fit_on: spec.fitOn,
    keep_full: spec.keepFull,
    status: fitted ? ('fitted' as const) : ('pending' as const),
    fitted_on: fitted?.fittedOn ?? null,
    fitted_at: fitted?.fittedAt ?? null,
    explained_variance: fitted ? Math.round(fitted.explained.reduce((a, b) => a + b, 0) * 1e6) / 1e6 : null,
  };
}

/** A refit job's answer (query/reduce.ts). */
export function refitView(r: RefitResult) {
  return { dimensions: r.dimensions, fitted_on: r.fittedOn, vectors: r.vectors, explained_variance: Math.round(r.explainedVariance * 1e6) / 1e6 };
}

/** A document; `image` (base64) only when asked for, its sha-256 whenever it has one. */
export function documentView(d: StoredDocument, vector?: Float32Array | null, image?: Buffer | null) {
  return {
    id: d.id,
    text: d.text,
    ...(d.imageSha256 === null ? {} : { image_sha256: d.imageSha256 }),
    ...(image === undefined ? {} : { image: image ? image.toString('base64') : null }),
    metadata: d.metadata,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    ...(vector !== undefined ? { vector: vector ? Array.from(vector) : null } : {}),
  };
}

/** GET /documents/{id}'s answer: the document, with its vector, image or chunks when asked for. */
export function documentBody(c: Collection, id: string, include: ('vector' | 'chunks' | 'image')[]) {
  const d = c.get(id);
  if (!d) throw createError('DOCUMENT_NOT_FOUND', { collection: c.name, id });
  const image = include.includes('image') ? (d.imageSha256 === null ? null : (c.image(d.imageSha256) ?? null)) : undefined;
  const view = documentView(d, include.includes('vector') ? c.vectorOf(d) : undefined, image);
  if (!include.includes('chunks')) return { document: view };
  // How the document was chunked: each chunk's span and text, and whether it has a vector.
  const chunks = c.chunksOf(d).map((ch) => ({
    index: ch.index,
    start: ch.start,
    end: ch.end,
    // An image chunk (a document's `image`) has no text of its own.
    text: d.text === null || ch.modality === 'image' ? null : d.text.slice(ch.start, ch.end),
    embedded: ch.hasVector,
    ...(ch.modality === 'image' ? { modality: 'image' as const } : {}),
  }));
  return { document: { ...view, chunks } };
}

export function toSearchQuery(q: z.output<typeof queryBody>): SearchQuery {
  return {
    text: q.text,
    vector: q.vector,
    ...(q.image === undefined ? {} : { image: q.image }),
    k: q.k,
    offset: q.offset,
    include: q.include,
    ef: q.ef,
    filter: q.filter,
    mode: q.mode,
    rrfK: q.rrf_k,
    fusion: q.fusion,
    weights: q.weights,
    scoreThreshold: q.score_threshold,
    groupBy: q.group_by,
    ...(q.mmr ? { mmr: { lambda: q.mmr.lambda, candidates: q.mmr.candidates } } : {}),
  };
}

export function hitView(h: Hit) {
  return {
    // `id` is the document id, kept for clients of the first API version.
    id: h.documentId,
    document_id: h.documentId,
    chunk_index: h.chunkIndex,
    score: h.score,
    ...(h.vectorRank === undefined ? {} : { vector_rank: h.vectorRank }),
    ...(h.keywordRank === undefined ? {} : { keyword_rank: h.keywordRank }),
    ...(h.vectorScore === undefined ? {} : { vector_score: h.vectorScore }),
    ...(h.keywordScore === undefined ? {} : { keyword_score: h.keywordScore }),
    ...(h.text === undefined ? {} : { text: h.text }),
    ...(h.metadata === undefined ? {} : { metadata: h.metadata }),
    ...(h.vector === undefined ? {} : { vector: h.vector }),
    ...(h.image === undefined ? {} : { image: h.image }),
  };
}

export function searchView(r: SearchResult) {
  return {
    hits: r.hits.map(hitView),
    mode: r.mode,
    plan: {
      ...(r.plan.vector === undefined ? {} : { vector: r.plan.vector }),
      ...(r.plan.filteredChunks === undefined ? {} : { filtered_chunks: r.plan.filteredChunks }),
    },
    took_ms: r.tookMs,
    ...(r.warning ? { warning: r.warning } : {}),
  };
}

export function clusterView(r: ClusterResult) {
  return {
    clusters: r.clusters.map((c) => ({
      id: c.id,
      size: c.size,
      centroid_document_ids: c.centroidDocumentIds,
      top_terms: c.topTerms,
      ...(c.members === undefined ? {} : { members: c.members }),
    })),
    k: r.k,
    silhouette: r.silhouette,
    documents: r.documents,
    total: r.total,
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

/** A filter passed in a query string, as JSON. */
export function filterFromQueryString(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'filter', message: 'expected a JSON object (URL-encoded)' }] });
  }
}

/** A projection as the API shows it, answered at once (PCA) or as a project job's result. */
export function projectView(r: ProjectResult) {
  return { method: r.method, points: r.points, explained_variance: r.explainedVariance, total: r.total, seed: r.seed };
}
