// Provider "local": a model run in-process (worker threads) with transformers.js or USE-lite,
// loaded from the models folder with no network (src/embedding/local.ts). The built-in model
// is the default; its size is the model's, so finding it loads the model.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LocalEmbedder, MODEL_ID_PATTERN, PACKAGED_MODELS, localModalities } from '../local.js';
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
  // A CLIP-style folder (config.json model_type "clip", text and vision graphs) also embeds images.
  modalities: (spec, ctx) => {
    const model = spec.model ?? ctx.config.defaultModel;
    if (PACKAGED_MODELS.has(model)) return ['text'];
    const dir = localModelDirs(ctx.config.modelsDir).find((d) => fs.existsSync(path.join(d, model, 'config.json')));
    return dir === undefined ? ['text'] : localModalities(dir, model);
  },
  key: (spec) => `local:${spec.model ?? ''}`,
};
