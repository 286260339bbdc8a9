// Request schemas (zod), one per route body or query string. The same schemas validate requests
// and, later, describe the API (OpenAPI), so they are the single statement of what is accepted.
import { z } from 'zod';
import { PROVIDERS } from '../../embedding/index.js';

/** zod's discriminatedUnion wants object schemas with a literal `provider`; each provider's schema is one. */
type ProviderSchema = z.ZodObject<{ provider: z.ZodLiteral<string> }>;
// Every string that is stored, or compared with what is stored, is one of these (src/text/well-formed.ts).
import { metadataKeyString, textString, wellFormedString } from '../../text/well-formed.js';
import { BEDROCK_MODEL_ID } from '../../config/index.js';

export const collectionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 characters from A-Z, a-z, 0-9, "_" and "-"');
export const documentId = wellFormedString().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

const scalar = z.union([wellFormedString(), z.number().refine(Number.isFinite, 'must be finite'), z.boolean()]);
export const metadata = z
  .record(
    metadataKeyString().min(1, 'metadata keys must not be empty').max(128, 'metadata keys must be at most 128 characters').refine((k) => !k.startsWith('$'), 'metadata keys must not start with "$"'),
    z.union([scalar, z.array(scalar).max(1024)], { error: 'expected a string, number, boolean or an array of them' }),
  )
  .refine((m) => Object.keys(m).length <= 256, 'at most 256 keys');

/** The most components a vector may have (as the largest collection dimension). */
const MAX_VECTOR_LENGTH = 65_536;

/** What a value is, in the words zod uses in "expected array, received …". */
function received(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * A vector: an array of finite numbers. Checked by a plain loop, not z.array(z.number()), which
 * parsed every component as a schema and copied the array: for a 100-number query vector that was
 * about half of the request's validation (benchmarks/FINDINGS.md, the lean request path). The messages
 * are the ones the zod array schema gave: the whole field when it is no array, is empty or too
 * long; each bad component by its index ("vector.3: expected numbers"). The OpenAPI document
 * still describes an array of numbers (the meta below; openapi.ts).
 */
const vector = z
  .unknown()
  .transform((v, ctx): number[] => {
    if (!Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: `Invalid input: expected array, received ${received(v)}` });
      return z.NEVER;
    }
    if (v.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must not be empty' });
      return z.NEVER;
    }
    if (v.length > MAX_VECTOR_LENGTH) {
      ctx.addIssue({ code: 'custom', message: `Too big: expected array to have <=${MAX_VECTOR_LENGTH} items` });
      return z.NEVER;
    }
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      // JSON has no NaN or Infinity; 1e999 parses to Infinity and is refused here, as a string "NaN" is.
      if (typeof x !== 'number' || !Number.isFinite(x)) ctx.addIssue({ code: 'custom', message: 'expected numbers', path: [i] });
    }
    return v as number[];
  })
  .meta({ type: 'array', items: { type: 'number' }, minItems: 1, maxItems: MAX_VECTOR_LENGTH });

/** `{strategy, max_tokens | max_chars, overlap}` (src/text/chunking.ts). */
export const chunkingInput = z
  .strictObject({
    strategy: z.enum(['none', 'fixed', 'sentence']),
    max_tokens: z.number().int().min(8).max(8192).optional(),
    max_chars: z.number().int().min(32).max(100_000).optional(),
    overlap: z.number().int().min(0).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.max_tokens !== undefined && c.max_chars !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['max_chars'], message: 'give max_tokens or max_chars, not both' });
    }
    const max = c.max_chars ?? c.max_tokens ?? 256;
    if (c.overlap !== undefined && c.overlap >= max) ctx.addIssue({ code: 'custom', path: ['overlap'], message: `must be less than the chunk size (${max})` });
  });

/** Vectors fitted by default before a reduced collection's projection is fitted: at least twice its dimensions. */
export const defaultFitOn = (dimensions: number): number => Math.max(1000, 2 * dimensions);

/** `reduce: {method, dimensions, fit_on?, keep_full?}`: a dimensionality-reduced collection (src/collection/reduce.ts). */
export const reduceInput = z
  .strictObject({
    method: z.literal('pca').default('pca').meta({ description: 'PCA: the first `dimensions` principal components of the fit sample' }),
    dimensions: z.number().int().min(2).meta({ description: "Dimensions the index keeps; less than the embedder's" }),
    fit_on: z
      .number()
      .int()
      .max(1_000_000)
      .optional()
      .meta({ description: 'The projection is fitted once this many vectors are written, on those vectors (default max(1000, 2·dimensions)); until then the collection holds full vectors' }),
    keep_full: z.boolean().default(true).meta({ description: 'Keep the full vectors beside the projected ones: a refit needs them' }),
  })
  .superRefine((r, ctx) => {
    if (r.fit_on !== undefined && r.fit_on <= r.dimensions) {
      ctx.addIssue({ code: 'custom', path: ['fit_on'], message: `must be more than dimensions (${r.dimensions}): a fit onto ${r.dimensions} components needs more vectors than that` });
    }
  });

export const createCollectionBody = z.strictObject({
  name: collectionName,
  metric: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
  // One arm per registered provider (src/embedding/providers/index.ts), each with its own schema.
  embedder: z.discriminatedUnion('provider', PROVIDERS.map((p) => p.schema) as unknown as [ProviderSchema, ...ProviderSchema[]]).optional(),
  dimension: z.number().int().min(1).max(65_536).optional(),
  chunking: chunkingInput.optional(),
  reduce: reduceInput.optional(),
  shards: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'Cluster mode only: how many shards the collection is split into by document id (default 1; docs/cluster.md, "Sharding")' }),
});

const jobDocuments = <T extends z.ZodType>(item: T, maxDocuments: number) =>
  z.array(item).min(1, 'must hold at least one document').max(maxDocuments, `at most ${maxDocuments} documents per job (QUIVER_INGEST_MAX_DOCUMENTS)`);

export const ingestBody = (maxDocuments: number) =>
  z.strictObject({
    documents: jobDocuments(documentInput, maxDocuments),
    chunking: chunkingInput.optional(),
  });

/** ingestBody with each document left unchecked: api/v1/ingest.ts checks them with documentInput one at a time. */
export const ingestEnvelope = (maxDocuments: number) => ingestBody(maxDocuments).extend({ documents: jobDocuments(z.unknown(), maxDocuments) });

/** An NDJSON ingest's chunking, in the query string: ?chunking=sentence&max_tokens=200 (api/v1/ingest.ts). */
const wholeNumber = z.string().regex(/^\d{1,9}$/, 'expected a whole number').transform(Number).optional();
export const ingestNdjsonQuery = z.strictObject({
  chunking: z.enum(['none', 'fixed', 'sentence']).optional(),
  max_tokens: wholeNumber,
  max_chars: wholeNumber,
  overlap: wholeNumber,
});

export const listJobsQuery = z.strictObject({
  collection: collectionName.optional(),
  kind: z.enum(['ingest', 'cluster', 'project', 'refit']).optional(),
  status: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(1024).optional(),
});

/**
 * A base64 PNG or JPEG. Its size (QUIVER_MAX_IMAGE_BYTES), base64 and format are checked where the
 * limit is known (src/collection/image.ts), which answers 413 or 400 naming the field.
 */
const imageInput = z.string().meta({
  description: 'a PNG or JPEG image, standard base64 without a data: prefix; at most QUIVER_MAX_IMAGE_BYTES (5 MiB) decoded',
  contentEncoding: 'base64',
});

export const documentInput = z.strictObject({
  id: documentId,
  text: textString()
    .max(1_000_000, 'must be at most 1,000,000 characters')
    .refine((t) => t.trim() !== '', 'must not be blank (leave it out and send a vector instead)')
    .optional(),
  image: imageInput.optional(),
  vector: vector.optional(),
  metadata: metadata.optional(),
});

export const upsertBody = (maxDocuments: number) =>
  z.strictObject({
    documents: z.array(documentInput).min(1, 'must hold at least one document').max(maxDocuments, `at most ${maxDocuments} documents per request (QUIVER_MAX_DOCUMENTS_PER_REQUEST)`),
    chunking: chunkingInput.optional(),
  });

/** `image`: the hit's document's image, base64 (null when it has none); never returned unless asked. */
export const includeField = z.enum(['text', 'metadata', 'vector', 'image']);

/** A metadata filter; its grammar is checked where it is compiled (src/storage/filter-sql.ts), which names the bad field. */
export const filter = z.unknown();

export const queryBody = z
  .strictObject({
    text: textString()
      .max(100_000)
      .refine((t) => t.trim() !== '', 'must not be blank')
      .optional(),
    vector: vector.optional(),
    image: imageInput.optional(),
    k: z.number().int().min(1).max(1000).default(10),
    include: z.array(includeField).max(4).default(['text', 'metadata']),
    ef: z.number().int().min(1).max(10_000).optional(),
    filter: filter.optional(),
    mode: z.enum(['vector', 'keyword', 'hybrid']).optional(),
    rrf_k: z.number().min(0).max(10_000).default(60),
    fusion: z.enum(['adaptive', 'rrf', 'convex']).optional(),
    weights: z.strictObject({ vector: z.number().min(0).max(100).optional(), keyword: z.number().min(0).max(100).optional() }).optional(),
    offset: z.number().int().min(0).max(9_999).default(0),
    score_threshold: z.number().refine(Number.isFinite, 'must be finite').optional(),
    group_by: z.enum(['document', 'none']).default('document'),
    /** Maximal marginal relevance (as LangChain's lambda_mult): 1 = relevance only, 0 = diversity only; chosen among the best `candidates` hits (default 4·k, at least 20). */
    mmr: z.strictObject({ lambda: z.number().min(0).max(1), candidates: z.number().int().min(1).max(1000).optional() }).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.image !== undefined) {
      if (q.text !== undefined || q.vector !== undefined) ctx.addIssue({ code: 'custom', path: ['image'], message: 'give image alone, without text or vector' });
    } else if (q.text === undefined && q.vector === undefined) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'give text, vector or image' });
    }
    if (q.offset + q.k > 10_000) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'offset + k must be at most 10000' });
    if (q.mmr && q.offset > 0) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'not with mmr (its picks depend on the ones before)' });
    if (q.mmr?.candidates !== undefined && q.mmr.candidates < q.k) ctx.addIssue({ code: 'custom', path: ['mmr', 'candidates'], message: 'must be at least k' });
  });

export const listDocumentsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(1024).optional(),
  /** A filter as JSON, e.g. ?filter={"lang":"en"} (URL-encoded). */
  filter: z.string().max(65_536).optional(),
});

export const getDocumentQuery = z.strictObject({
  include: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',') : []))
    .pipe(z.array(z.enum(['vector', 'chunks', 'image']))),
});

export const backupBody = z.strictObject({
  path: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .meta({ description: 'folder to write, inside QUIVER_BACKUP_DIR (relative or absolute); default quiver-<timestamp>' }),
});

const k = (max: number, dflt: number) => z.number().int().min(1).max(max).default(dflt);

export const recommendBody = z.strictObject({
  positive: z.array(documentId).min(1, 'give at least one document id').max(100),
  negative: z.array(documentId).max(100).default([]),
  k: k(1000, 10),
  filter: filter.optional(),
  strategy: z.enum(['average_vector', 'best_score']).default('average_vector'),
  include: z.array(includeField).max(4).default(['text', 'metadata']),
  ef: z.number().int().min(1).max(10_000).optional(),
});

export const similarQuery = z.strictObject({
  k: z.coerce.number().int().min(1).max(1000).default(10),
  filter: z.string().max(65_536).optional(),
});

/** Documents a synchronous cluster request may sample; more only as a job (`async: true`). */
export const CLUSTER_SYNC_MAX = 20_000;
export const clusterBody = z
  .strictObject({
    k: z.union([z.number().int().min(2).max(50), z.literal('auto')]).default('auto'),
    filter: filter.optional(),
    sample: z.number().int().min(2).max(100_000).default(5000),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
    include_members: z.boolean().default(false),
    async: z.boolean().default(false).meta({ description: 'run as a job: 202 with the job; GET /v1/jobs/{id} has the result when done' }),
  })
  .superRefine((b, ctx) => {
    if (!b.async && b.sample > CLUSTER_SYNC_MAX) {
      ctx.addIssue({ code: 'custom', path: ['sample'], message: `at most ${CLUSTER_SYNC_MAX} in a synchronous request; send "async": true to cluster up to 100000 documents as a job` });
    }
  });

/** Documents a UMAP job may lay out: its exact neighbour search grows with the square of them. */
export const UMAP_MAX = 20_000;
export const projectBody = z
  .strictObject({
    method: z.enum(['pca', 'umap']).default('pca').meta({ description: 'pca: answered at once; umap: keeps neighbourhoods (topics come apart), runs as a job ("async": true)' }),
    dimensions: z.union([z.literal(2), z.literal(3)]).default(2),
    filter: filter.optional(),
    limit: z.number().int().min(1).max(UMAP_MAX).default(1000).meta({ description: 'documents projected: a seeded sample when more pass the filter' }),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42).meta({ description: 'the sample and the UMAP layout: the same seed gives the same map' }),
    n_neighbors: z.number().int().min(2).max(100).optional().meta({ description: 'UMAP: neighbours each document keeps close (default 15)' }),
    min_dist: z.number().min(0).max(1).optional().meta({ description: 'UMAP: how tightly points may pack (default 0.1)' }),
    include: z.array(z.literal('metadata')).max(1).default([]).meta({ description: '["metadata"]: each point carries its document\'s metadata (for colouring a map without fetching every document)' }),
    async: z.boolean().default(false).meta({ description: 'run as a job: 202 with the job; GET /v1/jobs/{id} has the result when done' }),
  })
  .superRefine((b, ctx) => {
    if (b.method === 'umap' && !b.async) {
      ctx.addIssue({ code: 'custom', path: ['async'], message: 'UMAP takes tens of seconds: send "async": true to run it as a job' });
    }
    if (b.method !== 'umap') {
      for (const key of ['n_neighbors', 'min_dist'] as const) {
        if (b[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'applies to "method": "umap" only' });
      }
    }
  });

export const contextBody = z.strictObject({
  text: textString()
    .max(100_000)
    .refine((t) => t.trim() !== '', 'must not be blank'),
  max_tokens: z.number().int().min(1).max(1_000_000).default(2000),
  filter: filter.optional(),
  mode: z.enum(['vector', 'keyword', 'hybrid']).optional(),
  candidates: z.number().int().min(1).max(1000).default(50),
});

export const deleteByFilterBody = z.strictObject({
  filter: z.record(z.string(), z.unknown()).refine((f) => Object.keys(f).length > 0, 'must not be empty (delete the collection to remove every document)'),
});

export const answerBody = z.strictObject({
  question: textString()
    .max(20_000)
    .refine((t) => t.trim() !== '', 'must not be blank'),
  model: z
    .string()
    .regex(BEDROCK_MODEL_ID, 'expected a Bedrock model id such as amazon.nova-micro-v1:0 (or an inference profile id or ARN)')
    .optional()
    .meta({ description: 'Any Converse model; default QUIVER_ANSWER_MODEL (amazon.nova-micro-v1:0). Known: amazon.nova-micro-v1:0, amazon.nova-lite-v1:0, amazon.nova-pro-v1:0' }),
  max_tokens: z.number().int().min(1).max(1_000_000).optional().meta({ description: "The answer's length limit, at most the model's output limit; default 1024 (or that limit if lower)" }),
  context_tokens: z.number().int().min(1).max(1_000_000).optional().meta({ description: "Tokens of passages at most (default 3000); always cut to what the model's context holds" }),
  filter: filter.optional(),
  mode: z.enum(['vector', 'keyword', 'hybrid']).optional(),
  stream: z.boolean().default(false).meta({ description: 'Answer as server-sent events (text/event-stream): delta events, then done (or error)' }),
});
