// Chroma's answer shapes: collections (with the embedding-function configuration a client
// instantiates), records and distances.
import type { Request } from 'express';
import type { Collection } from '../../collection/index.js';
import type { Config } from '../../config/index.js';
import type { Metric } from '../../domain/types.js';
import type { CatalogEntry, SurfaceAttributes } from '../../storage/index.js';
import type { ChromaMetadata } from './schemas.js';

export const TENANT = 'default_tenant';
export const DATABASE = 'default_database';

/** What the Chroma surface keeps of a collection (catalog surface attributes, key "chroma"). */
export interface ChromaAttributes {
  metadata?: ChromaMetadata | null;
  /** The configuration the client sent, its embedding_function kept as given. */
  configuration?: Record<string, unknown> | null;
  /** The metric of a pending collection (a stored one has its own). */
  space?: Metric;
}

export function chromaAttributes(surface: SurfaceAttributes): ChromaAttributes {
  const a = surface.chroma;
  return typeof a === 'object' && a !== null ? (a) : {};
}

/**
 * The environment variable the embedding function reads its key from: the Quiver key (any
 * non-empty value when Quiver has no keys). Not OPENAI_API_KEY, which would send a real OpenAI
 * key to Quiver.
 */
export const API_KEY_ENV_VAR = 'QUIVER_API_KEY';

/** Configurations of Chroma's default function (@chroma-core/default-embed, not installed with Quiver's clients). */
const DEFAULT_EF_NAMES = new Set(['default', 'onnx_mini_lm_l6_v2', 'default-embed']);

/**
 * The embedding function a client should use. Chroma clients embed on their side; one that asked
 * for nothing or for Chroma's default is pointed at Quiver's own /v1/embeddings (the `openai`
 * known function, @chroma-core/openai) with the collection's model, or the server's default
 * model, at the base URL the client reached this server by. One the client chose is kept.
 */
function embeddingFunction(req: Request, config: Config, given: unknown, c: Collection | undefined): unknown {
  const g = given as { type?: unknown; name?: unknown } | null | undefined;
  const chosen = g != null && (g.type !== 'known' || typeof g.name !== 'string' || !DEFAULT_EF_NAMES.has(g.name));
  if (chosen) return given;
  const spec = c?.info.embedder;
  const model = spec?.provider === 'local' ? (spec.model ?? config.defaultModel) : config.defaultEmbedder === 'local' ? config.defaultModel : undefined;
  if (model === undefined) return { type: 'legacy' };
  return {
    type: 'known',
    name: 'openai',
    config: { api_base: `${req.protocol}://${req.get('host') ?? 'localhost'}/v1`, model_name: model, api_key_env_var: API_KEY_ENV_VAR },
  };
}

export function collectionView(req: Request, config: Config, entry: CatalogEntry, c: Collection | undefined) {
  const a = chromaAttributes(entry.surface);
  const configuration = a.configuration ?? {};
  const space: Metric = c?.info.metric ?? a.space ?? 'l2';
  const hnsw = typeof configuration.hnsw === 'object' && configuration.hnsw !== null ? configuration.hnsw : {};
  return {
    id: entry.uuid,
    name: entry.name,
    tenant: TENANT,
    database: DATABASE,
    metadata: a.metadata ?? null,
    dimension: c?.info.dimension ?? null,
    configuration_json: {
      hnsw: {
        ...hnsw,
        space,
        ...(c ? { ef_construction: c.info.hnsw.efConstruction, max_neighbors: c.info.hnsw.m } : {}),
      },
      spann: null,
      embedding_function: embeddingFunction(req, config, configuration.embedding_function, c),
    },
    schema: null,
    log_position: 0,
    version: 0,
  };
}

/** Chroma's distance from Quiver's score (higher is better): l2 the squared distance, cosine 1 − cos, ip 1 − dot. */
export function distance(metric: Metric, score: number): number {
  return metric === 'l2' ? score * score : 1 - score;
}

/** Chroma answers null for a record without metadata. */
export function metadataView(m: Record<string, unknown>): Record<string, unknown> | null {
  return Object.keys(m).length === 0 ? null : m;
}
