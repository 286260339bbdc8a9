// Request shapes of the Qdrant surface (the fields of Qdrant's OpenAPI schemas that Quiver
// serves). Unknown fields are dropped, as Qdrant's clients send many optional ones (shard_key,
// consistency, timeout...); fields whose meaning Quiver cannot honour are refused by the routes
// with a 400 naming them. Filters and vector inputs are checked where they are translated
// (filter.ts, vectors.ts), which name the offending field.
import { z } from 'zod';

export const collectionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Quiver collection names are 1-64 characters from A-Z, a-z, 0-9, "_" and "-"');

const uint = z.number().int().nonnegative();
const distance = z.enum(['Cosine', 'Euclid', 'Dot', 'Manhattan'], { error: 'expected one of Cosine, Euclid, Dot, Manhattan' });
const hnswConfig = z.object({ m: z.number().int().min(4).max(128).nullish(), ef_construct: z.number().int().min(10).max(2000).nullish() }).nullish();

export const vectorParams = z.object({
  size: z.number().int().min(1).max(65_536),
  distance,
  hnsw_config: hnswConfig,
  datatype: z.enum(['float32', 'float16', 'uint8']).nullish(),
  multivector_config: z.unknown().optional(),
  on_disk: z.boolean().nullish(),
});

export const createCollectionBody = z.object({
  vectors: z.unknown(),
  hnsw_config: hnswConfig,
  sparse_vectors: z.record(z.string(), z.unknown()).nullish(),
  sharding_method: z.enum(['auto', 'custom']).nullish(),
});

export const withPayload = z
  .union([z.boolean(), z.array(z.string()).max(256), z.object({ include: z.array(z.string()).max(256) }), z.object({ exclude: z.array(z.string()).max(256) })])
  .nullish();
export const withVector = z.union([z.boolean(), z.array(z.string()).max(16)]).nullish();

export const upsertBody = (maxPoints: number) =>
  z.union(
    [
      z.object({
        points: z.array(z.object({ id: z.unknown(), vector: z.unknown(), payload: z.record(z.string(), z.unknown()).nullish() })).max(maxPoints, `at most ${maxPoints} points in one request (QUIVER_MAX_DOCUMENTS_PER_REQUEST)`),
        update_filter: z.unknown().optional(),
        update_mode: z.enum(['upsert', 'insert_only', 'update_only']).nullish(),
      }),
      z.object({
        batch: z.object({
          ids: z.array(z.unknown()).max(maxPoints, `at most ${maxPoints} points in one request (QUIVER_MAX_DOCUMENTS_PER_REQUEST)`),
          vectors: z.unknown(),
          payloads: z.array(z.record(z.string(), z.unknown()).nullable()).nullish(),
        }),
        update_filter: z.unknown().optional(),
        update_mode: z.enum(['upsert', 'insert_only', 'update_only']).nullish(),
      }),
    ],
    { error: 'expected {"points": [...]} or {"batch": {"ids", "vectors", "payloads"}}' },
  );

export const retrieveBody = z.object({ ids: z.array(z.unknown()).max(10_000), with_payload: withPayload, with_vector: withVector });

export const deleteBody = z.object({ points: z.array(z.unknown()).max(100_000).nullish(), filter: z.unknown().optional() });

export const scrollBody = z.object({
  offset: z.unknown().optional(),
  limit: uint.max(10_000).nullish(),
  filter: z.unknown().optional(),
  with_payload: withPayload,
  with_vector: withVector,
  order_by: z.unknown().optional(),
});

export const countBody = z.object({ filter: z.unknown().optional(), exact: z.boolean().nullish() });

const searchParams = z.object({ hnsw_ef: z.number().int().min(1).max(5000).nullish(), exact: z.boolean().nullish() }).nullish();
const window = { limit: uint.max(1000), offset: uint.max(10_000).nullish() };
const shape = { filter: z.unknown().optional(), with_payload: withPayload, with_vector: withVector, score_threshold: z.number().nullish(), params: searchParams };

export const searchBody = z.object({ vector: z.unknown(), ...window, ...shape });

export const recommendStrategy = z.enum(['average_vector', 'best_score', 'sum_scores'], { error: 'expected average_vector, best_score or sum_scores' }).nullish();

export const recommendBody = z.object({
  positive: z.array(z.unknown()).max(100).nullish(),
  negative: z.array(z.unknown()).max(100).nullish(),
  strategy: recommendStrategy,
  using: z.unknown().optional(),
  lookup_from: z.unknown().optional(),
  ...window,
  ...shape,
});

export const queryBody = z.object({
  query: z.unknown().optional(),
  prefetch: z.unknown().optional(),
  using: z.unknown().optional(),
  lookup_from: z.unknown().optional(),
  limit: uint.max(1000).nullish(),
  offset: uint.max(10_000).nullish(),
  ...shape,
});

export const batchBody = z.object({ searches: z.array(z.unknown()).min(1).max(100) });
