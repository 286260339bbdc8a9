// The types the engine speaks, free of HTTP naming (camelCase, no wire shapes): collections,
// documents and chunks, what a write changes in a vector index, searches and their hits, jobs.
// Every layer may import this file; it imports nothing.

export type Metric = 'cosine' | 'l2' | 'ip';

/**
 * Which embedding provider makes a collection's vectors, and its settings, as stored with the
 * collection. Each provider (src/embedding/providers/<name>.ts) owns the schema of its own
 * settings; `provider` names it in the registry.
 */
export interface EmbedderSpec {
  provider: string;
  /** Model id, for providers that have one. */
  model?: string;
  /** Output size, for providers whose models offer several (Titan v2: 256, 512 or 1024). */
  dimensions?: number;
  /** Ask the model for unit-length vectors (Titan v2). */
  normalize?: boolean;
  /** Where the service is (openai: an OpenAI-compatible API's base URL, e.g. https://api.openai.com/v1). */
  baseUrl?: string;
  /** The environment variable holding the service's API key, read at call time (never stored). */
  apiKeyEnv?: string;
  /** Texts per call to the service. */
  batchSize?: number;
  /** sagemaker: the name of the SageMaker endpoint, and the AWS region it is in. */
  endpoint?: string;
  region?: string;
  /** sagemaker: the container's request and answer format (tei, huggingface, jumpstart, object2vec)... */
  preset?: string;
  /** ...or, for any other container, the JSON body with a "{{texts}}" or "{{text}}" placeholder and where the vectors are in the answer. */
  requestTemplate?: unknown;
  responsePath?: string;
  /** sagemaker object2vec: the word-to-token-id file in the models folder, and its sha256 when the collection was made. */
  vocabulary?: string;
  vocabularySha256?: string;
}

/** How documents are split into chunks before embedding (src/text/chunking.ts). */
export interface ChunkingSpec {
  strategy: 'none' | 'fixed' | 'sentence';
  /** Size unit: characters, or tokens (word-like segments; each CJK character counts as one). */
  unit: 'chars' | 'tokens';
  /** Largest chunk, in `unit`. */
  max: number;
  /** How much of the previous chunk a chunk repeats at its start, in `unit`. */
  overlap: number;
}

export interface HnswParams {
  m: number;
  efConstruction: number;
}

/**
 * A dimensionality-reduced collection's settings (src/collection/reduce.ts): its vectors are
 * projected onto the first `dimensions` principal components, fitted on the first `fitOn` vectors.
 */
export interface ReduceSpec {
  method: 'pca';
  dimensions: number;
  fitOn: number;
  /** Keep the embedder's vectors beside the projected ones (a refit needs them). */
  keepFull: boolean;
}

/** A fitted projection: y = components · (x − mean). */
export interface FittedProjection {
  /** The embedder's dimension. */
  mean: Float32Array;
  /** dimensions × the embedder's dimension, row-major; each row a unit vector. */
  components: Float32Array;
  /** Each component's fraction of the fit sample's variance. */
  explained: number[];
  /** Vectors in the fit sample. */
  fittedOn: number;
  fittedAt: string;
  /** The collection seq of the fit (its vectors were rewritten then). */
  seq: number;
}

export interface Reduction {
  spec: ReduceSpec;
  /** null until fitted: the collection holds the embedder's vectors meanwhile. */
  fitted: FittedProjection | null;
}

/** A collection as stored: fixed at creation except `seq`. */
export interface CollectionInfo {
  id: number;
  name: string;
  metric: Metric;
  dimension: number;
  embedder: EmbedderSpec;
  hnsw: HnswParams;
  /** Chunking for documents that do not say otherwise; null: the server default. */
  chunking: ChunkingSpec | null;
  /** Sequence number of the last write when this row was read (rows are cached: ask the store for the current value). */
  seq: number;
  createdAt: string;
}

export type MetadataValue = string | number | boolean | (string | number | boolean)[];
export type Metadata = Record<string, MetadataValue>;

/** A document as a client gives it to a write. */
export interface DocumentInput {
  id: string;
  text?: string;
  /** A PNG or JPEG image, base64 (checked and decoded by the write: src/collection/image.ts). */
  image?: string;
  vector?: number[];
  metadata?: Metadata;
}

/** What a model can embed: every model embeds text; some (Titan Multimodal) embed images into the same space. */
export type Modality = 'text' | 'image';

/** An image as the write path holds it: decoded, checked, named by the sha-256 of its bytes. */
export interface ImageData {
  /** Hex sha-256 of `bytes`: the image's key in storage and in the embedding cache. */
  sha256: string;
  mime: 'image/png' | 'image/jpeg';
  bytes: Buffer;
}

export interface StoredDocument {
  pk: number;
  id: string;
  text: string | null;
  /** The sha-256 of the document's image (stored once in the images table), or null. */
  imageSha256: string | null;
  metadata: Metadata;
  contentHash: string;
  createdAt: string;
  updatedAt: string;
}

export interface ChunkInput {
  index: number;
  start: number;
  end: number;
  /** null: nothing embeddable (e.g. only unknown words); stored, but not in the vector index. */
  vector: Float32Array | null;
  /** A reduced collection's: the embedder's vector, kept beside the projected `vector` (keep_full). */
  full?: Float32Array;
  /** 'image': the chunk stands for the document's image (no text span, no keyword row). Default 'text'. */
  modality?: Modality;
}

/** A document's chunk as stored: its span in the text and whether it has a vector. */
export interface ChunkSpan {
  index: number;
  start: number;
  end: number;
  hasVector: boolean;
  /** 'image': the chunk of the document's image; absent for text. */
  modality?: 'image';
}

/** One document of a write, after the write pipeline decided what to do with it. */
export type DocumentWrite =
  | { kind: 'metadata'; pk: number; metadata: Metadata }
  | { kind: 'content'; id: string; existingPk?: number; text: string | null; image?: ImageData | null; metadata: Metadata; contentHash: string; chunks: ChunkInput[] };

/** What one committed write means for the vector index of its collection. */
export interface IndexChanges {
  seq: number;
  adds: { label: number; vector: Float32Array }[];
  deletes: number[];
}

/** A chunk joined with its document, as search results need it. */
export interface ChunkHit {
  label: number;
  documentId: string;
  chunkIndex: number;
  start: number;
  end: number;
  /** Present when asked for (ChunkFields). */
  text?: string | null;
  metadata?: Metadata;
  vector: Float32Array | null;
  /** The document's image bytes, when asked for (null: it has none). */
  image?: Buffer | null;
}

/** Which columns a join of hits reads. */
export interface ChunkFields {
  text: boolean;
  metadata: boolean;
  vector: boolean;
  image?: boolean;
}

/** One (chunk label, score) of a ranking; higher scores are better for every metric. */
export interface Neighbor {
  label: number;
  score: number;
}

export type IncludeField = 'text' | 'metadata' | 'vector' | 'image';
export type SearchMode = 'vector' | 'keyword' | 'hybrid';
export type GroupBy = 'document' | 'none';
/** rrf: reciprocal rank fusion; convex: weighted sum of min-max normalised scores. */
export type Fusion = 'adaptive' | 'rrf' | 'convex';

export interface SearchQuery {
  text?: string;
  vector?: number[];
  /** A base64 PNG or JPEG to search with (vector mode; the collection's model must embed images). */
  image?: string;
  k: number;
  offset?: number;
  include: IncludeField[];
  ef?: number;
  filter?: unknown;
  mode?: SearchMode;
  rrfK?: number;
  fusion?: Fusion;
  weights?: { vector?: number; keyword?: number };
  scoreThreshold?: number;
  groupBy?: GroupBy;
  /** Maximal marginal relevance over the best `candidates` hits: lambda 1 = relevance only, 0 = diversity only. */
  mmr?: { lambda: number; candidates?: number };
  /** Pseudo-relevance feedback (query/feedback.ts): the query vector moved toward the best keyword hits before the vector ranking. */
  feedback?: { keywordHits?: number; weight?: number };
}

export interface Hit {
  documentId: string;
  chunkIndex: number;
  score: number;
  /** 1-based rank in each component ranking (hybrid only); null when absent from it. */
  vectorRank?: number | null;
  keywordRank?: number | null;
  /** Hybrid only: the chunk's score in each ranking (cosine; keyword share), null when absent from it. */
  vectorScore?: number | null;
  keywordScore?: number | null;
  text?: string | null;
  metadata?: Metadata;
  vector?: number[];
  /** The document's image, base64 (include "image"); null when it has none. */
  image?: string | null;
}

export interface Plan {
  /** hnsw: plain HNSW; hnsw_filtered: HNSW restricted to an allow-set; exact: a scan of the allowed set. */
  vector?: 'hnsw' | 'hnsw_filtered' | 'exact';
  /** Chunks with a vector that pass the filter (only counted when there is a filter). */
  filteredChunks?: number;
  /** Keyword-hit chunks the query vector was moved toward (feedback); 0 when none matched. */
  feedbackChunks?: number;
}

export interface SearchResult {
  hits: Hit[];
  mode: SearchMode;
  plan: Plan;
  tookMs: number;
  /** Present when the query text had nothing the model could embed. */
  warning?: string;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
/** ingest: documents to write (job items); cluster: one computation whose answer is `result`. */
export type JobKind = 'ingest' | 'cluster' | 'project' | 'refit';
export type TaskKind = Exclude<JobKind, 'ingest'>;
export type ItemState = 'pending' | 'done' | 'skipped' | 'failed';

export interface Job {
  id: string;
  kind: JobKind;
  /** The request of a job without items (cluster), as given. */
  params: unknown;
  /** The answer of a finished job without items. */
  result: unknown;
  collectionId: number;
  collection: string;
  status: JobStatus;
  chunking: ChunkingSpec | null;
  total: number;
  done: number;
  skipped: number;
  failed: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobItem {
  position: number;
  /** The document as the client sent it (parsed JSON). */
  document: unknown;
}

export interface ItemOutcome {
  position: number;
  state: Exclude<ItemState, 'pending'>;
  error?: string;
}
