// Provider "bedrock": Amazon Bedrock Titan Text Embeddings v1/v2 and Titan Multimodal Embeddings
// G1 (texts and images) through InvokeModel (src/embedding/bedrock.ts). The size is known from the
// spec, so creating a collection makes no call to AWS.
import { z } from 'zod';
import { BedrockEmbedder, TITAN_IMAGE_MODEL, TITAN_MODELS, titanDimensions, titanModalities } from '../bedrock.js';
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
      dimensions: z.union([z.literal(256), z.literal(384), z.literal(512), z.literal(1024)], { error: 'expected 256, 512 or 1024 (256, 384 or 1024 for amazon.titan-embed-image-v1)' }).optional(),
      normalize: z.boolean().optional(),
    })
    .superRefine((e, ctx) => {
      if (e.model === V1 && (e.dimensions !== undefined || e.normalize !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['dimensions'], message: 'dimensions and normalize are Titan v2 options' });
      }
      if (e.model === TITAN_IMAGE_MODEL) {
        if (e.dimensions === 512) ctx.addIssue({ code: 'custom', path: ['dimensions'], message: `expected 256, 384 or 1024 for ${TITAN_IMAGE_MODEL}` });
        if (e.normalize !== undefined) ctx.addIssue({ code: 'custom', path: ['normalize'], message: `not an option of ${TITAN_IMAGE_MODEL}` });
      } else if (e.dimensions === 384) {
        ctx.addIssue({ code: 'custom', path: ['dimensions'], message: 'expected 256, 512 or 1024 (384 is for amazon.titan-embed-image-v1)' });
      }
    }),
  normalize: (spec) => {
    const model = spec.model as TitanModel;
    if (model === V1) return { provider: 'bedrock', model };
    if (model === TITAN_IMAGE_MODEL) return { provider: 'bedrock', model, dimensions: titanDimensions(model, spec.dimensions) };
    return { provider: 'bedrock', model, dimensions: titanDimensions(model, spec.dimensions), normalize: spec.normalize ?? true };
  },
  dimensions: (spec) => Promise.resolve(titanDimensions(spec.model as TitanModel, spec.dimensions)),
  modalities: (spec) => titanModalities(spec.model as TitanModel),
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
