// Owns the closed catalogue of errors Quiver reports. Every layer throws QuiverError with a
// code from this catalogue; the API maps it to HTTP in one place (api/errors.ts).
// "client" errors are the caller's fault (4xx), "server" errors are ours (5xx).

export interface FieldIssue {
  /** Dotted path into the request, e.g. "documents.3.vector". */
  field: string;
  message: string;
}

const catalogue = {
  VALIDATION_FAILED: { status: 400, message: (a: { issues: FieldIssue[] }) => a.issues.map((i) => `${i.field}: ${i.message}`).join('; ') },
  INVALID_JSON: { status: 400, message: (a: { reason: string }) => `request body is not valid JSON: ${a.reason}` },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: (a: { got: string; expected?: string }) => `expected Content-Type ${a.expected ?? 'application/json'}, got ${a.got}` },
  DIMENSION_MISMATCH: {
    status: 400,
    message: (a: { field: string; expected: number; got: number }) =>
      `${a.field}: vector has ${a.got} dimensions but the collection has ${a.expected}`,
  },
  ZERO_VECTOR: { status: 400, message: (a: { field: string }) => `${a.field}: a zero vector has no direction and cannot be compared by cosine` },
  TEXT_REQUIRED: { status: 400, message: (a: { field: string }) => `${a.field}: each document needs text, image or vector` },
  NO_EMBEDDER: {
    status: 400,
    message: (a: { field: string; collection: string }) =>
      `${a.field}: collection "${a.collection}" has no embedding model (provider "none"); send a vector instead`,
  },
  // Images (issue 16 part 3): a model that embeds text only, and the image size limit.
  IMAGE_NOT_SUPPORTED: {
    status: 400,
    message: (a: { field: string; collection: string; embedder: string }) =>
      `${a.field}: the model of collection "${a.collection}" (${a.embedder}) embeds text only; images need a collection with embedder {"provider": "bedrock", "model": "amazon.titan-embed-image-v1"}`,
  },
  IMAGE_TOO_LARGE: {
    status: 413,
    message: (a: { field: string; bytes: number; limit: number }) => `${a.field}: the image is ${a.bytes} bytes, over the limit of ${a.limit} bytes (QUIVER_MAX_IMAGE_BYTES)`,
  },
  MODEL_NOT_FOUND: {
    status: 400,
    message: (a: { model: string; folder: string }) =>
      `embedder.model: model "${a.model}" was not found in ${a.folder} (expected config.json, tokenizer.json and onnx/model.onnx there)`,
  },
  MODEL_LOAD_FAILED: { status: 400, message: (a: { model: string; reason: string }) => `embedder.model: model "${a.model}" could not be loaded: ${a.reason}` },
  // A model id a request names that this server cannot embed with (the OpenAI surface's `model`).
  MODEL_UNAVAILABLE: { status: 404, message: (a: { model: string; reason: string }) => `model "${a.model}" is not available here: ${a.reason}` },
  COLLECTION_NOT_FOUND: { status: 404, message: (a: { name: string }) => `collection "${a.name}" does not exist` },
  DOCUMENT_NOT_FOUND: { status: 404, message: (a: { collection: string; id: string }) => `document "${a.id}" does not exist in collection "${a.collection}"` },
  DOCUMENTS_NOT_FOUND: {
    status: 404,
    message: (a: { field: string; collection: string; ids: string[] }) =>
      `${a.field}: no document ${a.ids.map((i) => JSON.stringify(i)).join(', ')} in collection "${a.collection}"`,
  },
  ROUTE_NOT_FOUND: { status: 404, message: (a: { method: string; path: string }) => `no route for ${a.method} ${a.path}` },
  JOB_NOT_FOUND: { status: 404, message: (a: { id: string }) => `job "${a.id}" does not exist` },
  // Chroma's tenants and databases: Quiver has one namespace (api/chroma/system.ts).
  NAMESPACE_NOT_FOUND: { status: 404, message: (a: { kind: string; name: string; only: string }) => `${a.kind} "${a.name}" does not exist: ${a.only}` },
  NAMESPACE_EXISTS: { status: 409, message: (a: { kind: string; name: string }) => `${a.kind} "${a.name}" already exists` },
  COLLECTION_EXISTS: { status: 409, message: (a: { name: string }) => `collection "${a.name}" already exists` },
  // Auth messages never contain the key the client sent.
  UNAUTHORIZED: { status: 401, message: (a: { reason: string }) => `${a.reason}; send "Authorization: Bearer <key>" or "x-api-key: <key>"` },
  FORBIDDEN: { status: 403, message: (a: { reason: string }) => `this API key may not do that: ${a.reason}` },
  BACKUP_IN_PROGRESS: { status: 409, message: (_a: Record<string, never>) => 'another backup is running; try again when it has finished' },
  BACKUP_TARGET_EXISTS: { status: 409, message: (a: { path: string }) => `backup target ${a.path} already exists and is not empty` },
  REQUEST_TIMEOUT: {
    status: 503,
    message: (a: { ms: number }) => `the request took longer than ${a.ms} ms (QUIVER_REQUEST_TIMEOUT_MS); a write may still complete, so read before retrying`,
  },
  // 503, not 422: whether a projection or clustering fits its deadline depends on this server's
  // load and configuration, not only on the request (the same body can pass on an idle machine),
  // and it is the same condition as REQUEST_TIMEOUT: the server ran out of its time budget.
  ANALYSIS_TIMEOUT: {
    status: 503,
    message: (a: { task: 'projection' | 'clustering' | 'recommendation' | 'fit'; ms: number; setting: string }) =>
      `the ${a.task} did not finish within ${a.ms} ms (${a.setting}) and was stopped; ` +
      {
        projection: 'project fewer documents (limit)',
        clustering: a.setting === 'QUIVER_REQUEST_TIMEOUT_MS' ? 'cluster fewer documents (sample) or send "async": true' : 'cluster fewer documents (sample)',
        recommendation: 'give fewer positive and negative examples or a smaller k',
        fit: 'raise QUIVER_ANALYSIS_JOB_TIMEOUT_MS, or create the collection with a smaller reduce.fit_on',
      }[a.task],
  },
  // The body was still arriving when the time ran out: no handler had the whole request, so nothing was kept.
  BODY_TIMEOUT: {
    status: 408,
    message: (a: { ms: number }) =>
      `the request body had not all arrived after ${a.ms} ms (QUIVER_REQUEST_TIMEOUT_MS); nothing of this request was written, so it is safe to send it again`,
  },
  BODY_MEMORY_FULL: {
    status: 503,
    message: (a: { capacity: number; retryAfter: number }) =>
      `the server is holding as many request bodies as it may at once (QUIVER_MAX_BODY_MEMORY, ${a.capacity} bytes); nothing of this request was written; retry after ${a.retryAfter} s`,
  },
  LINE_TOO_LONG: {
    status: 413,
    message: (a: { line: number; limit: number }) => `line ${a.line} is longer than ${a.limit} bytes (QUIVER_MAX_BODY limits one NDJSON line)`,
  },
  PAYLOAD_TOO_LARGE: { status: 413, message: (a: { limit: number }) => `request body is larger than the limit of ${a.limit} bytes (QUIVER_MAX_BODY; QUIVER_INGEST_MAX_BODY for ingest jobs)` },
  QUEUE_FULL: {
    status: 429,
    message: (a: { pending: number; max: number; requested: number; retryAfter: number }) =>
      `the ingest queue holds ${a.pending} documents and ${a.requested} more would pass its bound of ${a.max} (QUIVER_INGEST_MAX_PENDING); retry after ${a.retryAfter} s`,
  },
  // A full disk (storage/disk-health.ts): the request was fine and succeeds once space is freed.
  INSUFFICIENT_STORAGE: {
    status: 507,
    message: (a: { dir: 'data dir' | 'backup dir' }) =>
      a.dir === 'data dir'
        ? 'the disk holding the data dir is full: writes are refused until space is freed there; reads still work'
        : 'the disk holding the backup dir (QUIVER_BACKUP_DIR) is full: the backup was not written; free space there and try again',
  },
  // Cluster mode (docs/cluster.md): the log could not take a write, so it was not acknowledged.
  CLUSTER_UNAVAILABLE: {
    status: 503,
    message: (a: { reason: string }) =>
      `the cluster's log (NATS JetStream) did not acknowledge the write: ${a.reason}; it may or may not have been stored, and sending it again is safe (applying a write twice changes nothing)`,
  },
  NOT_YET_APPLIED: {
    status: 503,
    message: (a: { collection: string; wanted: number; applied: number; ms: number }) =>
      `min_seq: this node has applied collection "${a.collection}" up to sequence ${a.applied}, not yet ${a.wanted}, after waiting ${a.ms} ms; retry, or read from another replica`,
  },
  SHARD_UNAVAILABLE: {
    status: 503,
    message: (a: { collection: string; shard: number; reason: string }) =>
      `no replica of shard ${a.shard} of collection "${a.collection}" answered the read: ${a.reason}; start a replica holding that shard (QUIVER_CLUSTER_SHARDS) or retry`,
  },
  CLUSTER_UNSUPPORTED: { status: 501, message: (a: { what: string }) => `${a.what} is not available in cluster mode yet (docs/cluster.md lists what is)` },
  NOT_CLUSTER_MODE: { status: 409, message: (a: { what: string }) => `${a.what} exists only in cluster mode (QUIVER_NATS_URL); this server is standalone` },
  NOT_READY: { status: 503, message: (a: { reason: string }) => `not ready: ${a.reason}` },
  // 503, not 501: the route is there and works once the operator gives Bedrock a region and
  // credentials (no new release); until then this server cannot answer, as with NOT_READY.
  ANSWER_NOT_CONFIGURED: { status: 503, message: (a: { reason: string }) => `answers need Amazon Bedrock, which is not configured on this server: ${a.reason}` },
  GENERATION_FAILED: {
    status: 502,
    message: (a: { model: string; reason: string; bedrock_error: string; bedrock_status: number | null }) => `the generation model ${a.model} failed: ${a.reason}`,
  },
  // A reduced collection cannot be refitted now (src/query/reduce.ts says why: not reduced, no full vectors kept, too few vectors).
  REFIT_REFUSED: { status: 409, message: (a: { collection: string; reason: string }) => `collection "${a.collection}" cannot be refitted: ${a.reason}` },
  EMBEDDING_FAILED: { status: 502, message: (a: { reason: string }) => `the embedding model failed: ${a.reason}` },
  INTERNAL: { status: 500, message: (_a: Record<string, never>) => 'internal error (see the server log)' },
} as const;

export type ErrorCode = keyof typeof catalogue;
/** Every code, for the API description: the OpenAPI document (and so the typed client) lists them. */
export const ERROR_CODES = Object.keys(catalogue) as [ErrorCode, ...ErrorCode[]];
type ArgsOf<C extends ErrorCode> = Parameters<(typeof catalogue)[C]['message']>[0];

export class QuiverError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'QuiverError';
    this.status = catalogue[code].status;
  }
}

/** Makes a catalogued error: `createError('DIMENSION_MISMATCH', {field, expected, got})`. */
export function createError<C extends ErrorCode>(code: C, args: ArgsOf<C>): QuiverError {
  const render = catalogue[code].message as (a: ArgsOf<C>) => string;
  return new QuiverError(code, render(args), args);
}
