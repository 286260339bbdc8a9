// Provider "none": the client supplies every vector; the collection has no model, and its
// dimension is given at creation.
import { z } from 'zod';
import type { EmbeddingProvider } from '../provider.js';

export const noneProvider: EmbeddingProvider = {
  name: 'none',
  hasModel: false,
  schema: z.strictObject({ provider: z.literal('none') }),
  normalize: () => ({ provider: 'none' }),
  dimensions: () => Promise.resolve(undefined),
  create: () => Promise.resolve(undefined),
  key: () => 'none',
};
