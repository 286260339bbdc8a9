// Row shapes shared by the storage repositories and their callers.

export type Metric = 'cosine' | 'l2' | 'ip';

export interface EmbedderSpec {
  provider: 'local' | 'none' | 'bedrock';
  /** Model id for providers "local" and "bedrock"; absent for "none". */
  model?: string;
  /** Bedrock Titan v2 only: output size (256, 512 or 1024). */
  dimensions?: number;
  /** Bedrock Titan v2 only: ask the model for unit-length vectors. */
  normalize?: boolean;
}

/** How documents are split into chunks before embedding (src/ingest/chunking.ts). */
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

export interface Collection {
  id: number;
  name: string;
  metric: Metric;
  dimension: number;
  embedder: EmbedderSpec;
  hnsw: HnswParams;
  /** Chunking for documents that do not say otherwise; null: the server default. */
  chunking: ChunkingSpec | null;
  /** Sequence number of the last write when this row was read (CollectionsRepo.get caches rows: use list() for the current value). */
  seq: number;
  createdAt: string;
}

export type MetadataValue = string | number | boolean | (string | number | boolean)[];
export type Metadata = Record<string, MetadataValue>;

export interface DocumentRow {
  pk: number;
  id: string;
  text: string | null;
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
}

/** What one committed write means for the vector index of its collection. */
export interface IndexChanges {
  seq: number;
  adds: { label: number; vector: Float32Array }[];
  deletes: number[];
}
