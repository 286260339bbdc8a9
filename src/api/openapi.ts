// Owns the API description: the OpenAPI 3.1 document, built with zod-to-openapi from the same zod
// schemas that validate requests (schemas.ts), the self-contained /docs page that renders it
// (no CDN: the server may have no internet), and the record of the routes the app registers,
// which a test compares with the document in both directions.
import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Config } from '../config/index.js';
import { ERROR_CODES } from '../errors/index.js';
import * as s from './v1/schemas.js';
import * as oa from './openai/schemas.js';

export interface RouteRecord {
  method: string;
  /** Express pattern, e.g. /v1/collections/:name. */
  path: string;
  /** The surface that registered it (surface.ts). */
  surface: string;
}

const VERBS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Wraps a router's (or the app's) verb methods so each registration is also recorded in `out`.
 * Registration keeps working as before; only string paths are recorded (the app uses no others).
 */
export function recordRoutes<T extends object>(target: T, prefix: string, out: RouteRecord[], surface = 'quiver'): T {
  const t = target as Record<string, unknown>;
  for (const verb of VERBS) {
    const original = t[verb] as (...args: unknown[]) => unknown;
    t[verb] = function (this: unknown, ...args: unknown[]) {
      // app.get('setting') reads a setting; it is not a route.
      if (!(verb === 'get' && args.length === 1) && typeof args[0] === 'string') {
        const route = prefix + args[0];
        out.push({ method: verb.toUpperCase(), path: route, surface });
        // Names the matched route for metrics (metrics.ts) before the route's own handlers run.
        const mark: RequestHandler = (_req, res, next) => {
          res.locals.route = route;
          next();
        };
        return original.apply(this, [args[0], mark, ...args.slice(1)]);
      }
      return original.apply(this, args);
    };
  }
  return target;
}

/** /v1/collections/:name → /v1/collections/{name} */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const errorBody = z
  .object({ error: z.object({ code: z.enum(ERROR_CODES).meta({ description: 'From the closed catalogue in src/errors/index.ts' }), message: z.string(), details: z.unknown().optional() }) })
  .meta({ id: 'Error', description: 'Every error has this shape; code is from a closed catalogue.' });
const collection = z
  .object({
    name: z.string(),
    metric: z.enum(['cosine', 'l2', 'ip']),
    dimension: z.number().int(),
    embedder: z.object({ provider: z.string(), model: z.string().optional() }),
    document_count: z.number().int(),
    vector_count: z.number().int().nullable(),
    index_memory_bytes: z.number().int().nullable().meta({ description: "Rough bytes the collection's vector index holds in memory: vectors, links and labels" }),
    hnsw: z.object({ m: z.number().int(), ef_construction: z.number().int() }),
    chunking: z.object({ strategy: z.string(), max_tokens: z.number().int().optional(), max_chars: z.number().int().optional(), overlap: z.number().int() }).nullable(),
    reduce: z
      .object({
        method: z.literal('pca'),
        dimensions: z.number().int(),
        fit_on: z.number().int(),
        keep_full: z.boolean(),
        status: z.enum(['pending', 'fitted']).meta({ description: 'pending: fewer than fit_on vectors so far, the index holds full vectors' }),
        fitted_on: z.number().int().nullable(),
        fitted_at: z.string().nullable(),
        explained_variance: z.number().nullable().meta({ description: "The fraction of the fit sample's variance the components keep" }),
      })
      .nullable()
      .meta({ description: 'Dimensionality reduction, null for a collection created without it' }),
    created_at: z.string(),
  })
  .meta({ id: 'Collection' });
// The answers below are described field by field (not as open records) because the typed client
// (src/client/) is generated from this document: a field left out here is a field a client cannot see.
const hit = z.object({
  id: z.string().meta({ description: 'The document id (kept for clients of the first API version; equals document_id)' }),
  document_id: z.string(),
  chunk_index: z.number().int(),
  score: z.number().meta({ description: 'Higher is better, for every metric and mode' }),
  vector_rank: z.number().int().nullable().optional().meta({ description: 'Hybrid mode: 1-based rank in the vector ranking, null when absent from it' }),
  keyword_rank: z.number().int().nullable().optional().meta({ description: 'Hybrid mode: 1-based rank in the keyword ranking, null when absent from it' }),
  vector_score: z.number().nullable().optional().meta({ description: 'Hybrid mode: the score in the vector ranking (cosine for cosine collections), null when absent from it' }),
  keyword_score: z.number().nullable().optional().meta({ description: 'Hybrid mode: the keyword score (share of the query\'s term weight matched, in [0, 1)), null when absent from it' }),
  text: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  vector: z.array(z.number()).optional(),
  image: z.string().nullable().optional().meta({ description: 'With include ["image"]: the document\'s image, base64, as it was written; null when it has none' }),
});
const queryResult = z
  .object({
    hits: z.array(hit),
    mode: z.enum(['vector', 'keyword', 'hybrid']),
    plan: z.object({ vector: z.enum(['hnsw', 'hnsw_filtered', 'exact']).optional(), filtered_chunks: z.number().int().optional(), feedback_chunks: z.number().int().optional() }),
    took_ms: z.number(),
    warning: z.string().optional(),
  })
  .meta({ id: 'QueryResult' });
const clusterResult = z
  .object({
    clusters: z.array(
      z.object({
        id: z.number().int(),
        size: z.number().int(),
        centroid_document_ids: z.array(z.string()),
        top_terms: z.array(z.string()),
        members: z.array(z.string()).optional().meta({ description: 'With include_members' }),
      }),
    ),
    k: z.number().int(),
    silhouette: z.number().nullable(),
    documents: z.number().int().meta({ description: 'Documents clustered (the sample)' }),
    total: z.number().int().meta({ description: 'Documents that pass the filter' }),
  })
  .meta({ id: 'ClusterResult' });
const projectResult = z
  .object({
    method: z.enum(['pca', 'umap']),
    points: z.array(z.object({ id: z.string(), x: z.number(), y: z.number(), z: z.number().optional(), metadata: z.record(z.string(), z.unknown()).optional().meta({ description: 'With include: ["metadata"]' }) })),
    explained_variance: z.array(z.number()).meta({ description: 'PCA: the fraction of the variance on each axis; UMAP: empty' }),
    total: z.number().int().meta({ description: 'Documents that pass the filter (points holds a seeded sample of at most limit)' }),
    seed: z.number().int(),
  })
  .meta({ id: 'ProjectResult' });
const contextResult = z.object({
  context: z.string().meta({ description: 'The passages, each headed [n] (document_id#chunk_index)' }),
  chunks: z.array(z.object({ document_id: z.string(), chunk_index: z.number().int(), score: z.number(), tokens: z.number().int(), text: z.string(), metadata: z.record(z.string(), z.unknown()) })),
  tokens: z.number().int(),
  mode: z.enum(['vector', 'keyword', 'hybrid']),
  warning: z.string().optional(),
});
const answerMeta = {
  citations: z
    .array(z.object({ n: z.number().int().meta({ description: 'The [n] the answer cites it by' }), document_id: z.string(), chunk_index: z.number().int(), text: z.string() }))
    .meta({ description: 'The passages the answer cites, in the order first cited; empty when it cites none' }),
  usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int(), total_tokens: z.number().int() }),
  model: z.string(),
  stop_reason: z.string().meta({ description: "The model's (end_turn, max_tokens, ...), or no_passages when nothing matched and the model was not asked" }),
  passages: z.number().int().meta({ description: 'Passages given to the model' }),
  trimmed: z.number().int().meta({ description: "Retrieved passages dropped (lowest-ranked first) to fit the model's context" }),
  mode: z.enum(['vector', 'keyword', 'hybrid']),
  took_ms: z.number(),
  warning: z.string().optional(),
};
const answerResult = z.object({ answer: z.string(), ...answerMeta }).meta({ id: 'AnswerResult' });
const answerEvents = z.string().meta({
  description:
    'Server-sent events: "event: delta" with data {"text"} as the model writes, then "event: done" with data ' +
    '{citations, usage, model, stop_reason, passages, trimmed, mode, took_ms, warning?}, or "event: error" with data {"status", "error": {code, message, details?}} (status: what the error would have had as a JSON answer)',
});
const refitResult = z
  .object({
    dimensions: z.number().int(),
    fitted_on: z.number().int().meta({ description: 'Vectors in the fit sample' }),
    vectors: z.number().int().meta({ description: 'Vectors projected' }),
    explained_variance: z.number(),
  })
  .meta({ id: 'RefitResult' });
const job = z
  .object({
    id: z.string(),
    kind: z.enum(['ingest', 'cluster', 'project', 'refit']),
    collection: z.string(),
    status: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
    total: z.number().int(),
    done: z.number().int().meta({ description: 'Documents committed, unchanged ones included' }),
    skipped: z.number().int().meta({ description: 'Of done: unchanged content, nothing embedded' }),
    failed: z.number().int(),
    errors: z.array(z.object({ document_id: z.string(), message: z.string() })).meta({ description: 'The first 100 failed documents' }),
    error: z.string().nullable().meta({ description: 'Why the whole job failed' }),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    result: z
      .union([clusterResult, projectResult, refitResult])
      .nullable()
      .optional()
      .meta({ description: 'Cluster and project jobs: the same answer as the synchronous request once done (ClusterResult, ProjectResult, RefitResult by kind), null before' }),
    log: z
      .object({ stream: z.string(), seq: z.number().int() })
      .optional()
      .meta({ description: 'Ingest jobs in cluster mode: the log position of the last batch published so far; pass seq back as min_seq to read the documents' }),
  })
  .meta({ id: 'Job' });
const document = z
  .object({
    id: z.string(),
    text: z.string().nullable(),
    image_sha256: z.string().optional().meta({ description: 'The sha-256 of the document\'s image (stored once however many documents carry it); absent without one' }),
    image: z.string().nullable().optional().meta({ description: 'With include=image: the image, base64; null when the document has none' }),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
    vector: z.array(z.number()).nullable().optional(),
    chunks: z
      .array(
        z.object({
          index: z.number().int(),
          start: z.number().int(),
          end: z.number().int(),
          text: z.string().nullable(),
          embedded: z.boolean(),
          modality: z.literal('image').optional().meta({ description: 'The chunk of the document\'s image (no text of its own)' }),
        }),
      )
      .optional()
      .meta({ description: 'With include=chunks: how the text was split; start/end index the text' }),
  })
  .meta({ id: 'Document' });
const upsertResult = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  embedded: z.number().int(),
  not_embedded: z.array(z.string()),
});
const backupResult = z.object({
  backup: z.object({ path: z.string(), bytes: z.number().int(), collections: z.number().int(), documents: z.number().int(), took_ms: z.number() }),
});

const snapshotResult = z.object({
  snapshot: z.object({
    id: z.string(),
    node: z.string(),
    created_at: z.string(),
    bytes: z.number().int(),
    collections: z.array(z.object({ name: z.string(), stream: z.string(), seq: z.number().int() })),
  }),
});

const clusterNodes = z
  .object({
    nodes: z
      .array(
        z.object({
          id: z.string(),
          role: z.enum(['api', 'replica', 'worker', 'all']),
          shards: z.union([z.literal('all'), z.array(z.number().int())]).nullable().meta({ description: 'The shards of every collection it holds (QUIVER_CLUSTER_SHARDS); null on api and worker nodes' }),
          applied: z.record(z.string(), z.number().int()).meta({ description: 'Last applied sequence per collection stream' }),
          at: z.string().meta({ description: 'Its last heartbeat' }),
        }),
      )
      .meta({ description: 'Nodes whose heartbeat is at most 15 s old' }),
    placement: z.array(z.object({ collection: z.string(), shards: z.number().int(), holders: z.array(z.object({ shard: z.number().int(), nodes: z.array(z.string()) })) })),
  })
  .meta({ id: 'ClusterNodes' });

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, json(errorBody, { 400: 'Bad input; the message names the field', 401: 'Missing or invalid API key', 403: 'The key lacks the role or the collection scope', 404: 'Not found', 409: 'Conflict', 413: 'Body over QUIVER_MAX_BODY, or an image over QUIVER_MAX_IMAGE_BYTES (IMAGE_TOO_LARGE)', 415: 'Body is not JSON', 429: 'The ingest queue is full; retry after the Retry-After header', 503: 'Not ready, shutting down, or out of time (REQUEST_TIMEOUT, ANALYSIS_TIMEOUT); in cluster mode, NATS or a shard out of reach (CLUSTER_UNAVAILABLE, SHARD_UNAVAILABLE) or min_seq not applied in time (NOT_YET_APPLIED)' }[c] ?? 'Error')]));
const openaiErrors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, json(oa.openaiError, { 400: 'Bad input; param names the field', 401: 'Missing or invalid API key', 403: 'The key lacks the role', 404: 'No such model', 413: 'Body over QUIVER_MAX_BODY', 415: 'Body is not JSON' }[c] ?? 'Error')]));
const nameParam = z.object({ name: s.collectionName });
const docParams = z.object({ name: s.collectionName, id: s.documentId });
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } }, required: true });
/** Cluster mode (docs/cluster.md): writes on an api node answer 202 with the log position; reads may wait for one. */
const logPosition = {
  stream: z.string().meta({ description: "The collection's stream in NATS JetStream" }),
  seq: z.number().int().meta({ description: 'Its sequence in the stream: pass it as min_seq to read the write back' }),
};
const minSeq = z.object({
  min_seq: z
    .string()
    .optional()
    .meta({ description: 'Cluster mode: answer only once this node (or the replica asked) has applied the log up to this sequence, waiting up to QUIVER_CLUSTER_MIN_SEQ_WAIT_MS (then 503 NOT_YET_APPLIED)' }),
});
const clusterErrors = {
  501: json(errorBody, 'Cluster mode: not available on this node or through the log (CLUSTER_UNSUPPORTED, naming what)'),
};

/** Every route the server serves. A test checks this list against the routes the app registers. */
function routes(config: Config): RouteConfig[] {
  const auth: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
  const v1 = (r: Omit<RouteConfig, 'security'>): RouteConfig => ({ ...r, security: auth });
  return [
    { method: 'get', path: '/healthz', summary: 'The process is up', tags: ['operations'], responses: { 200: json(z.object({ status: z.literal('ok') }), 'Up') } },
    {
      method: 'get',
      path: '/readyz',
      summary: 'Ready: database open, indexes and models loaded, not shutting down',
      tags: ['operations'],
      responses: { 200: json(z.object({ status: z.string() }), 'Ready'), 503: json(z.object({ status: z.string() }), 'Starting or shutting down') },
    },
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (needs a key without collection scope when keys are configured)',
      tags: ['operations'],
      security: auth,
      responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } }, ...errors(401, 403) },
    },
    { method: 'get', path: '/openapi.json', summary: 'This document', tags: ['operations'], responses: { 200: json(z.record(z.string(), z.unknown()), 'OpenAPI 3.1') } },
    { method: 'get', path: '/docs', summary: 'A page that renders this document', tags: ['operations'], responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } } },
    v1({
      method: 'post',
      path: '/v1/collections',
      summary: 'Create a collection (admin)',
      tags: ['collections'],
      request: { body: body(s.createCollectionBody) },
      responses: { 201: json(z.object({ collection }), 'Created'), ...errors(400, 401, 403, 409, 413, 415) },
    }),
    v1({ method: 'get', path: '/v1/collections', summary: 'List the collections the key may see', tags: ['collections'], responses: { 200: json(z.object({ collections: z.array(collection) }), 'The collections'), ...errors(401, 403) } }),
    v1({
      method: 'get',
      path: '/v1/collections/{name}',
      summary: 'One collection',
      tags: ['collections'],
      request: { params: nameParam },
      responses: { 200: json(z.object({ collection }), 'The collection'), ...errors(401, 403, 404) },
    }),
    v1({
      method: 'delete',
      path: '/v1/collections/{name}',
      summary: 'Delete a collection with its documents and index (admin)',
      tags: ['collections'],
      request: { params: nameParam },
      responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404) },
    }),
    v1({
      method: 'put',
      path: '/v1/collections/{name}/documents',
      summary: 'Upsert documents; answers once the write is durable',
      tags: ['documents'],
      request: { params: nameParam, body: body(s.upsertBody(config.maxDocumentsPerRequest)) },
      responses: {
        200: json(upsertResult, 'Written'),
        202: json(z.object({ accepted: z.number().int(), ...logPosition }), 'Cluster mode: acknowledged by the log (replicated); the replicas apply it'),
        ...errors(400, 401, 403, 404, 413, 415, 503),
        ...clusterErrors,
      },
    }),
    v1({
      method: 'get',
      path: '/v1/collections/{name}/documents',
      summary: 'Page through documents in id order',
      tags: ['documents'],
      request: { params: nameParam, query: s.listDocumentsQuery.extend(minSeq.shape) },
      responses: { 200: json(z.object({ documents: z.array(document), next_cursor: z.string().nullable() }), 'A page'), ...errors(400, 401, 403, 404, 503) },
    }),
    v1({
      method: 'get',
      path: '/v1/collections/{name}/documents/{id}',
      summary: 'One document',
      tags: ['documents'],
      request: { params: docParams, query: z.object({ include: z.string().optional().meta({ description: 'comma-separated: "vector" adds the vector, "chunks" the chunks, "image" the image (base64)' }) }).extend(minSeq.shape) },
      responses: { 200: json(z.object({ document }), 'The document'), ...errors(400, 401, 403, 404, 503) },
    }),
    v1({
      method: 'delete',
      path: '/v1/collections/{name}/documents/{id}',
      summary: 'Delete a document',
      tags: ['documents'],
      request: { params: docParams },
      responses: {
        204: { description: 'Deleted' },
        202: json(z.object({ accepted: z.number().int(), ...logPosition }), 'Cluster mode: the delete is in the log; the replicas apply it'),
        ...errors(400, 401, 403, 404, 503),
      },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/query',
      summary: 'Nearest documents to a text, a vector or an image',
      tags: ['search'],
      request: { params: nameParam, query: minSeq, body: body(s.queryBody) },
      responses: { 200: json(queryResult, 'Hits, best first'), ...errors(400, 401, 403, 404, 413, 415, 503) },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/context',
      summary: 'Retrieval-augmented generation context: the best passages for a text, within a token budget',
      tags: ['search'],
      request: { params: nameParam, body: body(s.contextBody) },
      responses: { 200: json(contextResult, 'The context and the passages it was built from'), ...errors(400, 401, 403, 404, 415) },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/answer',
      summary: 'Answer a question from the collection: retrieved passages, a Bedrock model (Converse), numbered citations',
      description:
        'Retrieves the passages /context would, fits them to the model\'s context (lowest-ranked dropped first) and asks the model, ' +
        'passing them as quoted material or document blocks, never as instructions. With "stream": true the answer comes as server-sent events.',
      tags: ['search'],
      request: { params: nameParam, body: body(s.answerBody) },
      responses: {
        200: { description: 'The answer and the passages it cites', content: { 'application/json': { schema: answerResult }, 'text/event-stream': { schema: answerEvents } } },
        ...errors(400, 401, 403, 404, 415),
        502: json(errorBody, 'The model failed or refused (GENERATION_FAILED)'),
        503: json(errorBody, 'Bedrock is not configured here (ANSWER_NOT_CONFIGURED: no region or credentials), or out of time'),
      },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/documents/delete',
      summary: 'Delete every document a filter selects',
      tags: ['documents'],
      request: { params: nameParam, body: body(s.deleteByFilterBody) },
      responses: {
        200: json(z.object({ deleted: z.number().int() }), 'How many were deleted'),
        202: json(z.object(logPosition), 'Cluster mode: the delete is in the log; how many it deletes is known when the replicas apply it'),
        ...errors(400, 401, 403, 404, 415, 503),
      },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/recommend',
      summary: 'Documents like the positive examples and unlike the negative ones',
      tags: ['explore'],
      request: { params: nameParam, body: body(s.recommendBody) },
      responses: { 200: json(queryResult, 'Hits, best first'), ...errors(400, 401, 403, 404, 415, 503) },
    }),
    v1({
      method: 'get',
      path: '/v1/collections/{name}/documents/{id}/similar',
      summary: 'Documents similar to one document',
      tags: ['explore'],
      request: { params: docParams, query: s.similarQuery },
      responses: { 200: json(queryResult, 'Hits, best first'), ...errors(400, 401, 403, 404) },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/cluster',
      summary: 'k-means clusters of a collection or of the documents a filter selects',
      tags: ['explore'],
      request: { params: nameParam, body: body(s.clusterBody) },
      responses: { 200: json(clusterResult, 'The clusters'), 202: json(z.object({ job }), 'With "async": true, the queued job'), ...errors(400, 401, 403, 404, 415, 503) },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/project',
      summary: '2-D or 3-D projection (PCA at once, or UMAP as a job) of document vectors, for plotting',
      tags: ['explore'],
      request: { params: nameParam, body: body(s.projectBody) },
      responses: { 200: json(projectResult, 'The projected points'), 202: json(z.object({ job }), 'With "async": true (always for UMAP), the queued job'), ...errors(400, 401, 403, 404, 415, 503) },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/reduce/refit',
      summary: "Refit a reduced collection's projection on its kept full vectors and rebuild its index, as a job",
      description: 'Answers 409 REFIT_REFUSED for a collection created without reduce, or with keep_full false once fitted.',
      tags: ['collections'],
      request: { params: nameParam },
      responses: { 202: json(z.object({ job }), 'The queued refit job'), ...errors(401, 403, 404, 409) },
    }),
    v1({
      method: 'post',
      path: '/v1/collections/{name}/ingest',
      summary: 'Queue documents for asynchronous ingest; answers 202 once the job is durably recorded',
      description:
        'A JSON body {documents, chunking} up to QUIVER_INGEST_MAX_BODY, or an NDJSON stream (Content-Type application/x-ndjson): one document per line, ' +
        'checked and recorded as it arrives (errors name "line N: field"), chunking in the query string (?chunking=sentence&max_tokens=200). ' +
        'Either way nothing is queued unless the whole request is valid.',
      tags: ['jobs'],
      request: {
        params: nameParam,
        query: s.ingestNdjsonQuery,
        body: {
          content: {
            'application/json': { schema: s.ingestBody(config.ingest.maxDocuments) },
            'application/x-ndjson': { schema: z.string().meta({ description: 'one document per line, as in documents[] of the JSON body' }) },
          },
          required: true,
        },
      },
      responses: {
        202: json(z.object({ job }), 'Queued; poll /v1/jobs/{id}'),
        ...errors(400, 401, 403, 404, 413, 415, 429),
        408: json(errorBody, 'The body stopped arriving (BODY_TIMEOUT): nothing was written'),
        503: json(errorBody, 'Not ready, out of time, or too many bodies held at once (BODY_MEMORY_FULL); retry after the Retry-After header'),
      },
    }),
    v1({
      method: 'get',
      path: '/v1/jobs',
      summary: 'List ingest jobs, newest first',
      tags: ['jobs'],
      request: { query: s.listJobsQuery },
      responses: { 200: json(z.object({ jobs: z.array(job), next_cursor: z.string().nullable() }), 'A page of jobs'), ...errors(400, 401, 403, 404) },
    }),
    v1({
      method: 'get',
      path: '/v1/jobs/{id}',
      summary: 'One ingest job and its progress',
      tags: ['jobs'],
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: json(z.object({ job }), 'The job'), ...errors(401, 403, 404) },
    }),
    v1({
      method: 'post',
      path: '/v1/jobs/{id}/cancel',
      summary: 'Cancel a queued or running job; documents already committed stay',
      tags: ['jobs'],
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: json(z.object({ job }), 'The job, cancelled unless it had already finished'), ...errors(401, 403, 404) },
    }),
    v1({
      method: 'post',
      path: '/v1/admin/backup',
      summary: 'Online backup: SQLite online backup plus index snapshots, consistent while writes continue (admin)',
      tags: ['operations'],
      request: { body: { content: { 'application/json': { schema: s.backupBody } }, required: false } },
      responses: { 201: json(backupResult, 'The backup was written'), ...errors(400, 401, 403, 409, 415) },
    }),
    v1({
      method: 'get',
      path: '/v1/admin/cluster/nodes',
      summary: 'Cluster mode: the live nodes (heartbeats in KV quiver-nodes: role, shards held, applied sequences) and which of them hold each shard of each collection (admin)',
      tags: ['operations'],
      responses: { 200: json(clusterNodes, 'Nodes and placement'), ...errors(401, 403, 409, 503) },
    }),
    v1({
      method: 'post',
      path: '/v1/admin/cluster/snapshot',
      summary: 'Cluster mode: take a snapshot on this replica now, upload it to the object store and make it current; the log is then purged below it (admin)',
      tags: ['operations'],
      responses: { 201: json(snapshotResult, 'The snapshot is current'), ...errors(401, 403, 409, 501, 503) },
    }),
    // --- OpenAI-compatible embeddings (api/openai): OpenAI's shapes and error shape ---
    v1({
      method: 'post',
      path: '/v1/embeddings',
      summary: "Embed texts with a model this server has, in OpenAI's request and answer shapes",
      description:
        'For clients of OpenAI\'s embeddings API (the openai package, LangChain OpenAIEmbeddings, ...): point their base URL at this server\'s /v1. ' +
        'Any key is accepted when authentication is off. A text with nothing the model knows gets the zero vector.',
      tags: ['openai'],
      request: { body: body(oa.embeddingsBody) },
      responses: {
        200: json(oa.embeddingsResponse, 'One embedding per input, in order'),
        ...openaiErrors(400, 401, 403, 404, 413, 415),
        502: json(oa.openaiError, 'The embedding model failed'),
      },
    }),
    v1({ method: 'get', path: '/v1/models', summary: 'The models POST /v1/embeddings accepts (OpenAI\'s model list)', tags: ['openai'], responses: { 200: json(oa.modelList, 'The models'), ...openaiErrors(401, 403) } }),
    v1({
      method: 'get',
      path: '/v1/models/{model}',
      summary: 'One model',
      tags: ['openai'],
      request: { params: z.object({ model: z.string() }) },
      responses: { 200: json(oa.modelObject, 'The model'), ...openaiErrors(401, 403, 404) },
    }),
  ];
}

export function buildOpenApiDocument(config: Config): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key> (when QUIVER_API_KEYS is set)' });
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'x-api-key' });
  for (const r of routes(config)) registry.registerPath(r);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Quiver', version: '1', description: 'Semantic retrieval server: SQLite + HNSW, offline embeddings.' },
  });
}

// The page fetches /openapi.json from its own origin and renders it; no outside script or font.
const DOCS_SCRIPT = `
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const root = document.getElementById('root');
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  document.title = doc.info.title + ' API';
  root.append(el('h1', doc.info.title + ' API ' + doc.info.version), el('p', doc.info.description));
  const resolve = (schema) => {
    const seen = new Set();
    const walk = (x) => {
      if (Array.isArray(x)) return x.map(walk);
      if (x && typeof x === 'object') {
        if (typeof x.$ref === 'string') { const id = x.$ref.split('/').pop(); if (seen.has(id)) return { $ref: id }; seen.add(id); const r = walk(doc.components.schemas[id]); seen.delete(id); return r; }
        return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
      }
      return x;
    };
    return walk(schema);
  };
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const d = el('details');
      const sum = el('summary');
      sum.append(el('span', method.toUpperCase(), 'm ' + method), el('code', path), el('span', ' ' + (op.summary || '')));
      d.append(sum);
      for (const p of op.parameters || []) d.append(el('div', p.in + ' ' + p.name + (p.required ? ' (required)' : '') + ': ' + JSON.stringify(resolve(p.schema))));
      const body = op.requestBody && op.requestBody.content['application/json'];
      if (body) { d.append(el('h4', 'Request body')); d.append(el('pre', JSON.stringify(resolve(body.schema), null, 2))); }
      d.append(el('h4', 'Responses'));
      for (const [status, r] of Object.entries(op.responses || {})) {
        d.append(el('div', status + ': ' + r.description));
        const c = r.content && r.content['application/json'];
        if (c && status < '300') d.append(el('pre', JSON.stringify(resolve(c.schema), null, 2)));
      }
      root.append(d);
    }
  }
}).catch(e => { document.getElementById('root').textContent = 'could not load /openapi.json: ' + e; });
`;
const SCRIPT_HASH = crypto.createHash('sha256').update(DOCS_SCRIPT).digest('base64');

export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quiver API</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
details{border:1px solid #ddd;border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer} code{margin:0 .5rem} pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:13px}
.m{display:inline-block;width:4.5rem;font-weight:bold}.get{color:#1769aa}.post{color:#2e7d32}.put{color:#a15c00}.delete{color:#b00020}
</style></head>
<body><div id="root">Loading /openapi.json ...</div><script>${DOCS_SCRIPT}</script></body></html>`;

/** The page's CSP: helmet's default forbids inline scripts, so this one script is allowed by its hash. */
export const DOCS_CSP = `default-src 'self'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'`;
