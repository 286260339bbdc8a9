// Request schemas (zod), one per route body or query string. The same schemas validate requests
// and, later, describe the API (OpenAPI), so they are the single statement of what is accepted.
import { z } from 'zod';
import { MODEL_ID_PATTERN } from '../embedding/index.js';

export const collectionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 characters from A-Z, a-z, 0-9, "_" and "-"');
export const documentId = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

const scalar = z.union([z.string(), z.number().refine(Number.isFinite, 'must be finite'), z.boolean()]);
export const metadata = z
  .record(
    z.string().min(1, 'metadata keys must not be empty').max(128, 'metadata keys must be at most 128 characters').refine((k) => !k.startsWith('$'), 'metadata keys must not start with "$"'),
    z.union([scalar, z.array(scalar).max(1024)], { error: 'expected a string, number, boolean or an array of them' }),
  )
  .refine((m) => Object.keys(m).length <= 256, 'at most 256 keys');

const vector = z.array(z.number({ error: 'expected numbers' })).min(1, 'must not be empty').max(65_536);

export const createCollectionBody = z.strictObject({
  name: collectionName,
  metric: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
  embedder: z
    .strictObject({
      provider: z.enum(['local', 'none']),
      model: z.string().regex(MODEL_ID_PATTERN, 'expected a model id such as "my-model" or "org/my-model"').optional(),
    })
    .optional(),
  dimension: z.number().int().min(1).max(65_536).optional(),
});

export const documentInput = z.strictObject({
  id: documentId,
  text: z
    .string()
    .max(1_000_000, 'must be at most 1,000,000 characters')
    .refine((t) => t.trim() !== '', 'must not be blank (leave it out and send a vector instead)')
    .optional(),
  vector: vector.optional(),
  metadata: metadata.optional(),
});

export const upsertBody = (maxDocuments: number) =>
  z.strictObject({
    documents: z.array(documentInput).min(1, 'must hold at least one document').max(maxDocuments, `at most ${maxDocuments} documents per request (QUIVER_MAX_DOCUMENTS_PER_REQUEST)`),
  });

export const includeField = z.enum(['text', 'metadata', 'vector']);

export const queryBody = z
  .strictObject({
    text: z
      .string()
      .max(100_000)
      .refine((t) => t.trim() !== '', 'must not be blank')
      .optional(),
    vector: vector.optional(),
    k: z.number().int().min(1).max(1000).default(10),
    include: z.array(includeField).max(3).default(['text', 'metadata']),
    ef: z.number().int().min(1).max(10_000).optional(),
  })
  .superRefine((q, ctx) => {
    if ((q.text === undefined) === (q.vector === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'give exactly one of text or vector' });
    }
  });

export const listDocumentsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(1024).optional(),
});

export const getDocumentQuery = z.strictObject({
  include: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',') : []))
    .pipe(z.array(includeField)),
});
