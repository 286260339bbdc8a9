// The storage interface the rest of Quiver holds. Only this folder writes SQL (the filter
// compiler's output included); the SQLite implementation is sqlite-store.ts. Another store (a
// replicated one, or a test double) implements these interfaces and nothing above changes.
import type {
  ChunkFields,
  ChunkHit,
  ChunkingSpec,
  ChunkSpan,
  CollectionInfo,
  DocumentWrite,
  EmbedderSpec,
  FittedProjection,
  HnswParams,
  IndexChanges,
  ItemOutcome,
  Job,
  JobItem,
  JobKind,
  JobStatus,
  Metric,
  Neighbor,
  ReduceSpec,
  Reduction,
  StoredDocument,
  TaskKind,
} from '../domain/types.js';

/** A filter compiled by the store; opaque to its callers, who only pass it back. */
export interface CompiledFilter {
  readonly sql: string;
  readonly params: readonly (string | number)[];
}

export interface NewCollection {
  name: string;
  metric: Metric;
  dimension: number;
  embedder: EmbedderSpec;
  hnsw: HnswParams;
  chunking?: ChunkingSpec | null;
  /** The UUID of the pending collection (CollectionCatalog) this one materialises. */
  uuid?: string;
  /** A dimensionality-reduced collection's settings (stored with it, in the same transaction). */
  reduce?: ReduceSpec;
}

/** A surface's own attributes of a collection (Chroma's metadata and configuration), by surface name. */
export type SurfaceAttributes = Record<string, unknown>;

/** A collection as the catalog knows it: stored, or pending (announced, its dimension not known yet). */
export interface CatalogEntry {
  uuid: string;
  name: string;
  /** false: pending; it becomes a collection at its first write (NewCollection.uuid). */
  stored: boolean;
  surface: SurfaceAttributes;
  createdAt: string;
}

/**
 * Every collection under a stable UUID with its surface attributes, and the collections a
 * surface announced before their dimension is known (Chroma creates collections empty). One set
 * of names: a pending collection's name is taken for CollectionStore.create too.
 */
export interface CollectionCatalog {
  /** Stored and pending collections, by name. */
  list(): CatalogEntry[];
  byUuid(uuid: string): CatalogEntry | undefined;
  byName(name: string): CatalogEntry | undefined;
  /** Announces a pending collection; undefined when the name is taken. */
  announce(name: string, surface: SurfaceAttributes): CatalogEntry | undefined;
  /** Deletes a pending collection; false when there is none with this UUID. */
  withdraw(uuid: string): boolean;
  /** Replaces the surface attributes of a stored or pending collection; false when there is none. */
  setSurface(uuid: string, surface: SurfaceAttributes): boolean;
}

export interface CollectionStore {
  /** The collection; its `seq` is as of the first lookup (rows are cached: list() reads the current one). */
  get(name: string): CollectionInfo | undefined;
  list(): CollectionInfo[];
  /** Returns undefined when the name is taken. */
  create(c: NewCollection): CollectionInfo | undefined;
  /** Deletes the collection and, by cascade, its documents, chunks and jobs. */
  delete(id: number): void;
  documentCount(id: number): number;
}

export interface DocumentVectors {
  pk: number;
  id: string;
  labels: number[];
  vectors: Float32Array[];
}

export interface AnalysisDocument {
  id: string;
  text: string | null;
  /** Mean of the document's chunk vectors. */
  vector: Float32Array;
}

export interface DocumentStore {
  get(collectionId: number, id: string): StoredDocument | undefined;
  chunksOf(pk: number): ChunkSpan[];
  vectorOf(pk: number): Float32Array | null;
  /** A stored image's bytes by its sha-256 (StoredDocument.imageSha256). */
  image(sha256: string): Buffer | undefined;
  /** Documents in id order after `afterId` (exclusive), optionally those a filter selects. */
  page(collectionId: number, afterId: string, limit: number, filter?: CompiledFilter): StoredDocument[];
  /** Documents in the order they were first written, skipping `offset` (Chroma's get and peek), optionally those a filter selects. */
  slice(collectionId: number, offset: number, limit: number, filter?: CompiledFilter): StoredDocument[];
  /** Writes a batch in one transaction; `also` runs inside it. Returns what the index must do. */
  write(collectionId: number, writes: DocumentWrite[], also?: () => void): IndexChanges;
  /** Deletes documents in one transaction; returns how many existed and what the index must do. */
  delete(collectionId: number, ids: string[]): { deleted: number; changes: IndexChanges };
  /** Which of the metadata keys hold a value in some document, themselves or below them as a dotted prefix. */
  keysPresent(collectionId: number, keys: string[]): Set<string>;
  /** How many documents a filter selects. */
  countWhere(collectionId: number, filter: CompiledFilter | undefined): number;
  /** Ids of the documents a filter selects. */
  idsWhere(collectionId: number, filter: CompiledFilter | undefined): string[];
  /** Chunks joined with their documents, for the given labels (order not kept). */
  chunksByLabel(labels: number[], fields: ChunkFields): Map<number, ChunkHit>;
  /** Labels of the chunks with a vector whose document passes the filter. */
  labelsWhere(collectionId: number, filter: CompiledFilter): number[];
  vectorsByLabel(labels: number[]): Map<number, Float32Array>;
  /** BM25 over chunk text, best first; higher scores are better. */
  keyword(collectionId: number, text: string, filter: CompiledFilter | undefined, limit: number, stats?: KeywordStats): Neighbor[];
  /** This collection's part of the keyword statistics for a query (a shard's, summed by the api node). */
  keywordStats(collectionId: number, text: string): KeywordStats;
  /** The chunks (labels and vectors) of the given documents; absent ids are absent from the map. */
  documentVectors(collectionId: number, ids: string[]): Map<string, DocumentVectors>;
  /** pks of the documents with at least one vector that pass the filter, in pk order. */
  analysisPks(collectionId: number, filter: CompiledFilter | undefined): number[];
  /** Id, text and mean chunk vector of the given documents, in the order given. */
  analysisDocuments(pks: number[], maxText: number): AnalysisDocument[];
  // What a vector index reads to open, replay and rebuild itself (index/local-index.ts IndexSource).
  tombstonesAfter(collectionId: number, seq: number): number[];
  vectorsAfter(collectionId: number, seq: number): Iterable<{ label: number; vector: Float32Array }>;
  liveLabels(collectionId: number): number[];
  allVectors(collectionId: number): Iterable<{ label: number; vector: Float32Array }>;
  pruneTombstones(collectionId: number, uptoSeq: number): void;
}

/** A projection to install: the fit, and the chunks' vectors projected by it (src/collection/reduce.ts). */
export interface ReductionInstall {
  fit: Omit<FittedProjection, 'seq'>;
  /** Every chunk with a vector: its projected vector. */
  vectors: Iterable<{ label: number; vector: Float32Array }>;
  keepFull: boolean;
  /** The embedder's dimension: a stored vector this long is a full one. */
  fullDimension: number;
}

/** Dimensionality-reduced collections: their settings and projection, and the embedder's vectors kept beside the projected ones. */
export interface ReductionStore {
  /** undefined: the collection is not reduced. */
  get(collectionId: number): Reduction | undefined;
  /**
   * The embedder's vector of every chunk that has one, in label order (the order written): from
   * full_vectors, else the chunk's own vector while it is still full (not fitted yet).
   */
  fullVectors(collectionId: number, fullDimension: number): Iterable<{ label: number; vector: Float32Array }>;
  /**
   * One transaction: the chunks' vectors replaced by their projections under a new collection seq
   * (full ones copied aside first with keepFull), and the projection stored; returns the fit with its seq.
   */
  install(collectionId: number, r: ReductionInstall): FittedProjection;
}

/** One document of a receiving job as recorded: its place in the request, its JSON and its id. */
export interface ReceivedItem {
  position: number;
  document: string;
  docId: string;
}

export interface JobStore {
  /** Records a job and all its documents in one transaction; returns the job as queued (tests seed jobs with it). */
  create(collectionId: number, chunking: ChunkingSpec | null, documents: { id: string }[]): Job;
  /** Starts a job whose documents arrive in slices; no read shows it and it does not run until seal(). */
  begin(collectionId: number): string;
  /**
   * Records a slice of a receiving job in one transaction: the first document whose id the job
   * already holds (the slice is then not recorded), 'gone' if the job was deleted, else undefined.
   */
  append(jobId: string, items: ReceivedItem[]): { position: number; id: string; first: number } | 'gone' | undefined;
  /** Makes a receiving job queued, as accepted now; false if it is gone. */
  seal(jobId: string, chunking: ChunkingSpec | null): boolean;
  /** Deletes a slice of a receiving job; true once it is all gone. */
  discard(jobId: string): boolean;
  /** Deletes every receiving job (at start-up: a crash cut their requests off). */
  discardAllReceiving(): number;
  /** Records a job without items (a computation over the collection); returns it as queued. */
  createTask(collectionId: number, kind: TaskKind, params: unknown): Job;
  get(id: string): Job | undefined;
  /** Newest first; `after` is the id of the last job of the previous page. */
  list(filter: { collectionIds?: number[]; status?: JobStatus; kind?: JobKind; limit: number; after?: string }): Job[];
  countByStatus(): Record<JobStatus, number>;
  nextRunnable(kind: JobKind): Job | undefined;
  pendingItems(jobId: string, limit: number): JobItem[];
  /** The pending items after a position (the batch after the one in flight). */
  pendingItemsAfter(jobId: string, position: number, limit: number): JobItem[];
  markStarted(jobId: string): void;
  /** Moves a job that is still queued or running to a final state; false if it already had one. */
  finish(jobId: string, status: 'done' | 'failed' | 'cancelled', error?: string | null): boolean;
  /** Stores a running task's answer and marks it done; false if it was cancelled meanwhile. */
  finishTask(jobId: string, result: unknown): boolean;
  /** Call inside the transaction that writes the batch's documents. */
  recordOutcomes(jobId: string, outcomes: ItemOutcome[], result?: unknown): void;
  /** The first `limit` failed documents with their messages. */
  errors(jobId: string, limit: number): { documentId: string; message: string }[];
  /** Documents accepted but not yet processed, over all unfinished jobs (for backpressure). */
  pendingDocuments(): number;
}

/** Vectors by (model id, sha256 of text), so the same text is never embedded twice. */
export interface VectorCache {
  /** false when the cache keeps nothing (QUIVER_EMBED_CACHE_MAX=0). */
  readonly enabled: boolean;
  getMany(modelId: string, hashes: Buffer[]): Map<string, Float32Array>;
  putMany(modelId: string, entries: { hash: Buffer; vector: Float32Array }[]): void;
}

export interface BackupSummary {
  collections: { id: number; name: string; seq: number; documents: number }[];
}

/** What a step run by `isolated` came to: its value, or the error that undid its writes. */
export type StepResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs a step inside a transaction as a savepoint: a throw undoes the step alone. */
export type Isolated = <T>(step: () => T) => StepResult<T>;

/** Cluster mode: the last stream sequence applied per collection (migrations/013). */
export interface AppliedSequences {
  /** The stream and its last sequence applied to the collection's shard (any shard when not given); undefined when nothing was. */
  get(collectionId: number, shard?: number): { stream: string; seq: number } | undefined;
  /** Call inside the transaction that writes the message's documents; shard 0 when unsharded. */
  set(collectionId: number, stream: string, seq: number, shard?: number): void;
}

export interface Store {
  readonly collections: CollectionStore;
  readonly catalog: CollectionCatalog;
  readonly documents: DocumentStore;
  readonly jobs: JobStore;
  readonly cache: VectorCache;
  readonly applied: AppliedSequences;
  readonly reductions: ReductionStore;
  /**
   * Compiles a metadata filter; throws VALIDATION_FAILED naming the offending field (e.g.
   * "filter.price.$foo"). undefined for an absent or empty filter ("everything").
   */
  compileFilter(filter: unknown, field?: string): CompiledFilter | undefined;
  /**
   * Runs `fn` as one transaction: one commit, so one fsync under QUIVER_SYNC=full, for every
   * write inside it (the repositories' own transactions become savepoints). `isolated(step)`
   * runs a step in its own savepoint: when it throws, only its writes are undone and the error is
   * returned, and the transaction goes on. If the database gave up the whole transaction (SQLite
   * rolls back by itself on some I/O errors), `isolated` rethrows, so `transaction` throws and
   * nothing of it was written. No await is possible inside: the transaction is synchronous.
   */
  transaction<T>(fn: (isolated: Isolated) => T): T;
  /** Size in bytes of the database files (metrics); 0 for a file that does not exist right now. */
  sizeBytes(): { db: number; wal: number };
  /** A consistent online copy of the database as one file; what it holds. */
  backupTo(file: string): Promise<BackupSummary>;
  close(): void;
}

/**
 * BM25's statistics for one query: chunks with text, their total term count, and per query term
 * (queryTerms order) and phrase (queryPhrases order) the chunks holding it.
 */
export interface KeywordStats {
  chunks: number;
  terms: number;
  df: number[];
  phrases: number[];
}
