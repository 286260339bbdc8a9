// Request schemas of the Chroma surface (zod), in Chroma's wire names. Objects are not strict:
// newer chromadb clients add optional fields (read_level, schema) that Quiver can ignore.
import { z } from 'zod';
import { metadataKeyString, textString, wellFormedString } from '../../text/well-formed.js';

export const collectionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Quiver collection names are 1-64 characters from A-Z, a-z, 0-9, "_" and "-"');
const recordId = wellFormedString().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

/** The most ids one get, query or delete may name (each is a parameter of one SQL statement). */
export const MAX_IDS = 20_000;

const scalar = z.union([wellFormedString(), z.number().refine(Number.isFinite, 'must be finite'), z.boolean()]);
const metadataValue = z.union([scalar, z.array(scalar).max(1024), z.null()], {
  error: 'expected a string, number, boolean, null or an array of them (sparse vectors are not supported)',
});
/** A record's or a collection's metadata; null values delete a key in update and upsert. */
export const metadata = z
  .record(
    metadataKeyString().min(1, 'metadata keys must not be empty').max(128, 'metadata keys must be at most 128 characters').refine((k) => !k.startsWith('$'), 'metadata keys must not start with "$"'),
    metadataValue,
  )
  .refine((m) => Object.keys(m).length <= 256, 'at most 256 keys');
export type ChromaMetadata = z.output<typeof metadata>;

const space = z.enum(['l2', 'cosine', 'ip']);

/** configuration as the client sends it: embedding_function is kept as given, hnsw.space chooses the metric. */
export const configuration = z.object({
  embedding_function: z.unknown().optional(),
  hnsw: z.object({ space: space.nullish() }).loose().nullish(),
  spann: z.object({ space: space.nullish() }).loose().nullish(),
});

export const createCollectionBody = z.object({
  name: collectionName,
  configuration: configuration.nullish(),
  metadata: metadata.nullish(),
  get_or_create: z.boolean().default(false),
});

export const updateCollectionBody = z.object({
  new_name: collectionName.nullish(),
  new_metadata: metadata.nullish(),
  new_configuration: z.object({ embedding_function: z.unknown().optional() }).loose().nullish(),
});

export const listQuery = z.object({
  limit: z.coerce.number().int().min(0).max(100_000).optional(),
  offset: z.coerce.number().int().min(0).optional(),
});

/** An embedding: finite numbers (base64 strings are refused: pre-flight-checks says supports_base64_encoding false). */
const embedding = z.array(z.number().refine(Number.isFinite, 'must be finite'), { error: 'expected an array of numbers (base64 embeddings are not supported)' }).min(1, 'must not be empty').max(65_536);
const ids = (max: number) => z.array(recordId).max(max, `at most ${max} ids per request`);
const document = textString().max(1_000_000, 'must be at most 1,000,000 characters').refine((t) => t.trim() !== '', 'must not be blank');

/** add, upsert and update: parallel arrays, one entry a record. */
export const recordsBody = (maxBatch: number, update: boolean) =>
  z
    .object({
      ids: ids(maxBatch).min(1, 'must hold at least one id'),
      embeddings: update ? z.array(embedding.nullable()).nullish() : z.array(embedding, { error: 'expected an array of embeddings (arrays of numbers)' }),
      documents: z.array(document.nullable()).nullish(),
      metadatas: z.array(metadata.nullable()).nullish(),
      uris: z.array(z.null(), { error: 'uris are not supported by Quiver' }).nullish(),
    })
    .superRefine((b, ctx) => {
      for (const field of ['embeddings', 'documents', 'metadatas', 'uris'] as const) {
        const list = b[field];
        if (list != null && list.length !== b.ids.length) {
          ctx.addIssue({ code: 'custom', path: [field], message: `has ${list.length} entries but ids has ${b.ids.length}` });
        }
      }
      const seen = new Map<string, number>();
      b.ids.forEach((id, i) => {
        const first = seen.get(id);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['ids', i], message: `"${id}" also appears at ids.${first}` });
        seen.set(id, i);
      });
    });

export type IncludeField = 'documents' | 'embeddings' | 'metadatas' | 'distances' | 'uris';
export const include = z.array(z.enum(['documents', 'embeddings', 'metadatas', 'distances', 'uris'])).max(5);
const where = z.record(z.string(), z.unknown()).nullish();

export const getBody = z.object({
  ids: ids(MAX_IDS).nullish(),
  where,
  where_document: where,
  limit: z.number().int().min(0).nullish(),
  offset: z.number().int().min(0).nullish(),
  include: include.default(['documents', 'metadatas']).refine((i) => !i.includes('distances'), 'distances are only for query'),
});

export const queryBody = z.object({
  ids: ids(MAX_IDS).nullish(),
  where,
  where_document: where,
  query_embeddings: z.array(embedding).min(1, 'give at least one query embedding').max(1000),
  n_results: z.number().int().min(1).max(10_000).default(10),
  include: include.default(['documents', 'metadatas', 'distances']),
});

export const deleteBody = z.object({
  ids: ids(MAX_IDS).nullish(),
  where,
  where_document: where,
  limit: z.number().int().min(0).nullish(),
});

export const namedBody = z.object({ name: z.string().min(1).max(256) });
