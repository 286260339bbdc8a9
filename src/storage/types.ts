// Row shapes shared by the storage repositories and their callers.

export type Metric = 'cosine' | 'l2' | 'ip';

export interface EmbedderSpec {
  provider: 'local' | 'none';
  /** Model id for provider "local"; absent for "none". */
  model?: string;
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
