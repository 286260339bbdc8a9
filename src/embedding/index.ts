// The embedding layer's public face.
export type { Embedder } from './embedder.js';
export { usableVector, embedInBatches, EmbedError, failureKind, withRetry, type EmbedFailure, type RetryOptions } from './embedder.js';
export { LocalEmbedder, resolveModelDir, MODEL_ID_PATTERN, PACKAGED_MODELS } from './local.js';
export { BedrockEmbedder, TITAN_MODELS, TITAN_V2_DIMENSIONS, titanDimensions, classifyBedrockError, type TitanModel, type BedrockOptions } from './bedrock.js';
export { EmbedderRegistry, embedCached, sha256, type VectorCache, type CachedEmbedResult } from './registry.js';
