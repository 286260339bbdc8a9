// The embedding layer's public face.
export type { Embedder } from './embedder.js';
export { usableVector, embedInBatches } from './embedder.js';
export { LocalEmbedder, resolveModelDir, MODEL_ID_PATTERN } from './local.js';
export { EmbedderRegistry, embedCached, sha256, type VectorCache, type CachedEmbedResult } from './registry.js';
