// Provider "local": a model run in-process (worker threads) with transformers.js or USE-lite,
// loaded from the models folder with no network (src/embedding/local.ts). The built-in model
// is the default; its size is the model's, so finding it loads the model.
import { z } from 'zod';
import { LocalEmbedder, MODEL_ID_PATTERN } from '../local.js';
import { localModelDirs } from '../local-models.js';
import type { EmbeddingProvider } from '../provider.js';

export const localProvider: EmbeddingProvider = {
  name: 'local',
  hasModel: true,
  schema: z.strictObject({
    provider: z.literal('local'),
    model: z.string().regex(MODEL_ID_PATTERN, 'expected a model id such as "my-model" or "org/my-model"').optional(),
  }),
  normalize: (spec, ctx) => ({ provider: 'local', model: spec.model ?? ctx.config.defaultModel }),
  dimensions: async (spec, ctx) => (await ctx.load(spec))?.dimensions,
  create: async (spec, ctx) =>
    LocalEmbedder.load({
      modelId: spec.model ?? ctx.config.defaultModel,
      searchDirs: localModelDirs(ctx.config.modelsDir),
      allowDownload: ctx.config.allowModelDownload,
      poolSize: ctx.config.ingest.embedWorkers,
    }),
  key: (spec) => `local:${spec.model ?? ''}`,
};
