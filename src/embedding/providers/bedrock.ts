// Provider "bedrock": Amazon Bedrock Titan Text Embeddings v1/v2 through InvokeModel
// (src/embedding/bedrock.ts). The size is known from the spec, so creating a collection makes
// no call to AWS.
import { z } from 'zod';
import { BedrockEmbedder, TITAN_MODELS, titanDimensions } from '../bedrock.js';
import type { TitanModel } from '../bedrock.js';
import type { EmbeddingProvider } from '../provider.js';

const V1 = 'amazon.titan-embed-text-v1';

export const bedrockProvider: EmbeddingProvider = {
  name: 'bedrock',
  hasModel: true,
  schema: z
    .strictObject({
      provider: z.literal('bedrock'),
      model: z.enum(TITAN_MODELS),
      dimensions: z.union([z.literal(256), z.literal(512), z.literal(1024)], { error: 'expected 256, 512 or 1024' }).optional(),
      normalize: z.boolean().optional(),
    })
    .superRefine((e, ctx) => {
      if (e.model === V1 && (e.dimensions !== undefined || e.normalize !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['dimensions'], message: 'dimensions and normalize are Titan v2 options' });
      }
    }),
  normalize: (spec) => {
    const model = spec.model as TitanModel;
    if (model === V1) return { provider: 'bedrock', model };
    return { provider: 'bedrock', model, dimensions: titanDimensions(model, spec.dimensions), normalize: spec.normalize ?? true };
  },
  dimensions: (spec) => Promise.resolve(titanDimensions(spec.model as TitanModel, spec.dimensions)),
  create: (spec, ctx) =>
    Promise.resolve(
      new BedrockEmbedder({
        ...ctx.config.bedrock,
        retry: { retries: ctx.config.ingest.retries, baseMs: ctx.config.ingest.retryBaseMs },
        model: spec.model as TitanModel,
        dimensions: spec.dimensions,
        normalize: spec.normalize,
      }),
    ),
  key: (spec) => `bedrock:${spec.model ?? ''}:${spec.dimensions ?? ''}:${String(spec.normalize ?? '')}`,
};
