// The embedding layer's public face: the Embedder contract, the provider plug-ins and the
// service that loads them, and embedding through the cache.
export type { Embedder, EmbedFailure, RetryOptions } from './embedder.js';
export { embedInBatches, EmbedError, failureKind, withRetry } from './embedder.js';
export type { EmbeddingProvider, ProviderContext } from './provider.js';
export { PROVIDERS } from './providers/index.js';
export { Embedders } from './embedders.js';
export { embedImagesThroughCache, embedThroughCache, sha256, type EmbedOutcome } from './cached.js';
export { LocalEmbedder, resolveModelDir, MODEL_ID_PATTERN, PACKAGED_MODELS } from './local.js';
export { listLocalModels, localModelDirs, describeLocalModel, folderSize, MODEL_FILES, TOKEN_OUTPUTS, type LocalModel, type ModelDescription } from './local-models.js';
export { BedrockEmbedder, TITAN_IMAGE_MODEL, TITAN_MODELS, TITAN_V2_DIMENSIONS, titanDimensions, classifyBedrockError, type TitanModel, type BedrockOptions } from './bedrock.js';
export { EMBED_CHANNEL, instrumentEmbedder, type EmbedEvent } from './instrument.js';
export { OpenAIEmbedder, OPENAI_MODELS, embeddingsUrl, retryAfterMs, type OpenAIEmbedderOptions } from './openai.js';
export {
  SageMakerEmbedder,
  SAGEMAKER_PRESETS,
  classifySageMakerError,
  meanPool,
  parseResponsePath,
  sagemakerFormat,
  type SageMakerOptions,
  type SageMakerPreset,
  type SageMakerFormat,
} from './sagemaker.js';
