// The embedding providers Quiver knows, one line each. The API's `embedder` schema, collection
// creation and the model cache are built from this list (see ../provider.ts).
import type { EmbeddingProvider } from '../provider.js';
import { bedrockProvider } from './bedrock.js';
import { localProvider } from './local.js';
import { noneProvider } from './none.js';
import { openaiProvider } from './openai.js';
import { sagemakerProvider } from './sagemaker.js';

export const PROVIDERS: readonly EmbeddingProvider[] = [localProvider, noneProvider, bedrockProvider, openaiProvider, sagemakerProvider];
