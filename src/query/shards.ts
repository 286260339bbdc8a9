// Owns search over a sharded collection (docs/cluster.md, "Sharding"): what a shard answers (its
// rankings with scores, its part of the keyword statistics, the rows of chosen chunks) and how
// the api node turns every shard's answers into the answer a single node holding all the
// documents would give. Vector and keyword lists are merged by score (keyword scored with the
// whole collection's statistics, as Elasticsearch's dfs_query_then_fetch); hybrid fuses the
// merged lists with the single-node fusion step. The transport (NATS request/reply) is the
// caller's `ask`.
import { z } from 'zod';
import type { Collection } from '../collection/index.js';
import type { ChunkHit, Hit, IncludeField, Metadata, Neighbor, Plan, SearchQuery, SearchResult } from '../domain/types.js';
import type { KeywordStats } from '../storage/index.js';
import type { Components } from './search.js';
import { FUSION_DEPTH, MAX_WINDOW, fillHit, fuseLists, mmrCandidates, queryVector, resolveMode, vectorCandidates, windowHits } from './search.js';
import type { Ranked } from './fusion.js';
import { mmrSelect } from './mmr-select.js';

const include = z.array(z.enum(['text', 'metadata', 'vector', 'image']));
const stats = z.object({ chunks: z.number(), terms: z.number(), df: z.array(z.number()), phrases: z.array(z.number()) });

/** What the api node asks one shard (JSON over the cluster's request/reply). */
export const shardSearchRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('stats'), text: z.string() }),
  z.object({
    op: z.literal('rank'),
    mode: z.enum(['vector', 'keyword', 'hybrid']),
    depth: z.number().int().positive(),
    vector: z.array(z.number()).nullable(),
    text: z.string().optional(),
    filter: z.unknown().optional(),
    ef: z.number().int().positive().optional(),
    stats: stats.optional(),
  }),
  z.object({ op: z.literal('chunks'), labels: z.array(z.number().int()), include }),
]);
export type ShardSearchRequest = z.infer<typeof shardSearchRequest>;

/** One candidate chunk of a shard's ranking. */
interface Candidate {
  label: number;
  doc: string;
  chunk: number;
  score: number;
}

interface RankAnswer {
  vector?: Candidate[];
  keyword?: Candidate[];
  plan: Plan;
}

interface ChunkRow {
  label: number;
  text?: string | null;
  metadata?: Metadata;
  vector?: number[] | null;
  image?: string | null;
}

/** A shard's answer to one request, on the replica holding it. */
export async function answerShardSearch(c: Collection, body: unknown): Promise<unknown> {
  const r = shardSearchRequest.parse(body);
  if (r.op === 'stats') return c.keywordStats(r.text);
  if (r.op === 'chunks') {
    const rows = c.chunks(r.labels, { text: r.include.includes('text'), metadata: r.include.includes('metadata'), vector: r.include.includes('vector'), image: r.include.includes('image') });
    return [...rows.values()].map(
      (row): ChunkRow => ({
        label: row.label,
        ...(r.include.includes('text') ? { text: row.text ?? null } : {}),
        ...(r.include.includes('metadata') ? { metadata: row.metadata } : {}),
        ...(r.include.includes('vector') ? { vector: row.vector && Array.from(row.vector) } : {}),
        ...(r.include.includes('image') ? { image: row.image ? row.image.toString('base64') : null } : {}),
      }),
    );
  }
  const filter = c.compileFilter(r.filter);
  const plan: Plan = {};
  const out: RankAnswer = { plan };
  const labelled = (list: Neighbor[]): Candidate[] => {
    const rows = c.chunks(
      list.map((n) => n.label),
      { text: false, metadata: false, vector: false },
    );
    return list.flatMap((n) => {
      const row = rows.get(n.label);
      return row ? [{ label: n.label, doc: row.documentId, chunk: row.chunkIndex, score: n.score }] : [];
    });
  };
  if (r.mode !== 'keyword' && r.vector) out.vector = labelled(await vectorCandidates(c, Float32Array.from(r.vector), r.depth, { filter, ef: r.ef }, plan));
  if (r.mode !== 'vector') out.keyword = labelled(c.keyword(r.text ?? '', filter, r.depth, r.stats));
  return out;
}

/** Sends one request to one shard (a replica of it answers); throws the shard's error, or 503 when none answers. */
export type AskShard = (shard: number, request: ShardSearchRequest) => Promise<unknown>;

/** Search over a sharded collection from the api node: the single-node search() of every shard's documents. */
export async function shardedSearch(c: Collection, q: SearchQuery, shards: number, ask: AskShard): Promise<SearchResult> {
  const started = performance.now();
  if (q.mmr) {
    // As single-node: the best candidates with their vectors, then MMR picks k of them.
    const inner = await shardedSearch(c, { ...q, mmr: undefined, offset: 0, k: mmrCandidates(q), include: [...new Set<IncludeField>([...q.include, 'vector'])] }, shards, ask);
    const hits = mmrSelect(inner.hits, q.k, 1 - q.mmr.lambda, c.info.metric, q.include.includes('vector'), false);
    return { ...inner, hits, tookMs: elapsed(started) };
  }
  const mode = resolveMode(c, q);
  c.compileFilter(q.filter); // a bad filter is this node's 400, before any shard is asked
  const all = Array.from({ length: shards }, (_, k) => k);
  let vector: number[] | null = null;
  let warning: string | undefined;
  if (mode !== 'keyword') {
    // Embedded here, once: the shards search with the vector.
    const e = await queryVector(c, q, mode === 'vector' || q.vector !== undefined);
    vector = e.query && Array.from(e.query);
    warning = e.warning;
  }
  let global: KeywordStats | undefined;
  if (mode !== 'vector') {
    const parts = (await Promise.all(all.map((k) => ask(k, { op: 'stats', text: q.text ?? '' })))) as KeywordStats[];
    global = parts.reduce(sumStats);
  }
  const offset = q.offset ?? 0;
  const groupBy = q.groupBy ?? 'document';
  // Labels are each shard's chunk ids: made unique across shards as label·shards + shard.
  const globalLabel = (label: number, k: number) => label * shards + k;
  let depth = offset + q.k;
  for (;;) {
    const n = mode === 'hybrid' ? Math.max(depth, FUSION_DEPTH) : depth;
    const answers = (await Promise.all(
      all.map((k) => ask(k, { op: 'rank', mode, depth: n, vector, text: q.text, filter: q.filter, ef: q.ef, stats: global })),
    )) as RankAnswer[];
    const rows = new Map<number, ChunkHit>();
    const merged = (key: 'vector' | 'keyword'): Neighbor[] => {
      const list = answers.flatMap((a, k) =>
        (a[key] ?? []).map((x) => {
          const label = globalLabel(x.label, k);
          rows.set(label, { label, documentId: x.doc, chunkIndex: x.chunk, start: 0, end: 0, vector: null });
          return { label, score: x.score };
        }),
      );
      return list.sort((a, b) => b.score - a.score || a.label - b.label).slice(0, n);
    };
    const v = merged('vector');
    const kw = merged('keyword');
    let ranked: Ranked[];
    let components: Components | undefined;
    if (mode === 'vector') ranked = v;
    else if (mode === 'keyword') ranked = kw;
    else ({ ranked, components } = fuseLists(q, v, kw, c.info.metric === 'cosine'));
    const opts = { include: [], groupBy, offset, k: q.k, scoreThreshold: q.scoreThreshold, hybrid: mode === 'hybrid', components };
    const { hits, labels, exhausted } = windowHits(ranked, rows, opts);
    const rankingEnded = ranked.length < depth;
    if (!exhausted || rankingEnded || depth >= MAX_WINDOW * 4) {
      await fillHits(hits, labels, q.include, shards, ask);
      return { hits, mode, plan: mergePlans(answers.map((a) => a.plan)), tookMs: elapsed(started), ...(warning ? { warning } : {}) };
    }
    depth = Math.min(depth * 4, MAX_WINDOW * 4);
  }
}

/** The included fields of the chosen hits, asked from the shards holding them. */
async function fillHits(hits: Hit[], labels: number[], fields: IncludeField[], shards: number, ask: AskShard): Promise<void> {
  if (fields.length === 0 || hits.length === 0) return;
  const byShard = new Map<number, number[]>();
  for (const label of labels) {
    const k = label % shards;
    byShard.set(k, [...(byShard.get(k) ?? []), (label - k) / shards]);
  }
  const rows = new Map<number, ChunkRow>();
  await Promise.all(
    [...byShard].map(async ([k, local]) => {
      for (const row of (await ask(k, { op: 'chunks', labels: local, include: fields })) as ChunkRow[]) rows.set(row.label * shards + k, row);
    }),
  );
  hits.forEach((hit, i) => {
    const row = rows.get(labels[i]!);
    if (!row) return; // deleted meanwhile: the hit keeps its id and score
    fillHit(
      hit,
      {
        ...row,
        label: labels[i]!,
        documentId: hit.documentId,
        chunkIndex: hit.chunkIndex,
        start: 0,
        end: 0,
        vector: row.vector ? Float32Array.from(row.vector) : null,
        image: row.image === undefined ? undefined : row.image === null ? null : Buffer.from(row.image, 'base64'),
      },
      fields,
    );
  });
}

function sumStats(a: KeywordStats, b: KeywordStats): KeywordStats {
  return {
    chunks: a.chunks + b.chunks,
    terms: a.terms + b.terms,
    df: a.df.map((x, i) => x + (b.df[i] ?? 0)),
    phrases: a.phrases.map((x, i) => x + (b.phrases[i] ?? 0)),
  };
}

function mergePlans(plans: Plan[]): Plan {
  const out: Plan = {};
  const vector = plans.find((p) => p.vector)?.vector;
  if (vector) out.vector = vector;
  if (plans.some((p) => p.filteredChunks !== undefined)) out.filteredChunks = plans.reduce((s, p) => s + (p.filteredChunks ?? 0), 0);
  return out;
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 1000) / 1000;
