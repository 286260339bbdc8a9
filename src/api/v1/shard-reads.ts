// The /v1 reads an api-role node routes to replicas in cluster mode (docs/cluster.md, "Read
// path"), both ends: answerShardRead is what a replica answers for a shard it holds (the
// composition root hands it to the cluster node), and routedSearch / routedGet / routedPage are
// what the api node's routes call instead of reading locally. Query: every shard, merged exactly
// (query/shards.ts); get: the shard of the id; list: every shard's next page, merged in id order.
import { z } from 'zod';
import type { Collection, CollectionRegistry } from '../../collection/index.js';
import type { SearchQuery, SearchResult } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import { answerShardSearch, requestDeadline, shardedSearch } from '../../query/index.js';
import type { ClusterHooks } from '../deps.js';
import { contextAnswer, recommendAnswer } from './answers.js';
import { documentBody, documentView } from './views.js';

/**
 * Reads a replica answers whole, with its own route's code (answers.ts), for an unsharded
 * collection: their answer needs every document in one place (recommend reads the examples'
 * vectors; context packs passages by the search's order), so a sharded collection refuses them.
 */
type WholeRead = 'context' | 'recommend';
/** How long a replica gives a routed recommend (the api node waits a little longer for the answer). */
const ROUTED_ANALYSIS_MS = 14_000;

const documentRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('get'), id: z.string(), include: z.array(z.enum(['vector', 'chunks', 'image'])) }),
  z.object({ op: z.literal('page'), after: z.string(), limit: z.number().int().positive(), filter: z.unknown().optional() }),
]);
type DocumentRequest = z.infer<typeof documentRequest>;
type DocumentView = ReturnType<typeof documentView>;

/** A replica's answer to one read request of a shard it holds. */
export async function answerShardRead(collections: CollectionRegistry, name: string, body: unknown): Promise<unknown> {
  const c = collections.get(name);
  const op = (body as { op?: unknown } | null)?.op;
  if (op === 'context' || op === 'recommend') {
    const request = (body as { request?: unknown }).request;
    return op === 'context' ? contextAnswer(c, request) : recommendAnswer(c, request, requestDeadline(ROUTED_ANALYSIS_MS));
  }
  if (op === 'get' || op === 'page') {
    const r = documentRequest.parse(body);
    if (r.op === 'get') return documentBody(c, r.id, r.include);
    return c.page(r.after, r.limit, c.compileFilter(r.filter)).map((d) => documentView(d));
  }
  return answerShardSearch(c, body);
}

export function routedSearch(cluster: ClusterHooks, c: Collection, q: SearchQuery, minSeq: number | undefined): Promise<SearchResult> {
  return shardedSearch(c, q, cluster.shardCount(c.name), (shard, request) => cluster.ask(c.name, shard, request, minSeq));
}

export async function routedGet(cluster: ClusterHooks, c: Collection, id: string, include: ('vector' | 'chunks' | 'image')[], minSeq: number | undefined): Promise<unknown> {
  return cluster.ask(c.name, cluster.shardOf(c.name, id), { op: 'get', id, include } satisfies DocumentRequest, minSeq);
}

/** The next `limit` documents after `after` in id order over every shard (each shard's page is in that order). */
export async function routedPage(cluster: ClusterHooks, c: Collection, after: string, limit: number, filter: unknown, minSeq: number | undefined): Promise<DocumentView[]> {
  const shards = Array.from({ length: cluster.shardCount(c.name) }, (_, k) => k);
  const pages = await Promise.all(shards.map((k) => cluster.ask(c.name, k, { op: 'page', after, limit, filter } satisfies DocumentRequest, minSeq) as Promise<DocumentView[]>));
  // SQLite orders ids by their UTF-8 bytes (BINARY): the merge compares the same way.
  return pages
    .flat()
    .sort((a, b) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)))
    .slice(0, limit);
}

/** A whole read (context, recommend) of an unsharded collection, answered by a replica holding it. */
export function routedWhole(cluster: ClusterHooks, c: Collection, op: WholeRead, request: unknown, minSeq: number | undefined): Promise<unknown> {
  const shards = cluster.shardCount(c.name);
  if (shards > 1) throw createError('CLUSTER_UNSUPPORTED', { what: `${op} over a sharded collection (${shards} shards) on an api-role node (ask a replica, which answers for the shards it holds)` });
  return cluster.ask(c.name, 0, { op, request }, minSeq);
}
