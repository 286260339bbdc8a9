// Owns search over a collection: vector (the collection plans HNSW or an exact scan), keyword
// (FTS5 BM25 over chunk text) and hybrid (the two fused, fusion.ts), with metadata filters,
// grouping of chunks by document, offset and score threshold; and turning ranked chunk labels
// into hits. Recommendation and RAG context build on it.
import type { Collection } from '../collection/index.js';
import type { ChunkHit, GroupBy, Hit, IncludeField, Neighbor, Plan, SearchMode, SearchQuery, SearchResult } from '../domain/types.js';
import { EmbedError } from '../embedding/index.js';
import { createError } from '../errors/index.js';
import type { CompiledFilter } from '../storage/index.js';
import type { Ranked } from './fusion.js';
import { fuseFor } from './fusion.js';
import { mmrSelect } from './mmr-select.js';

/** For collections with a model: hybrid is at least keyword on the judged sets and, unlike keyword, finds paraphrases (see fusion.ts). */
export const DEFAULT_TEXT_MODE: SearchMode = 'hybrid';
/** How deep each ranking goes before fusion: fusion needs more than the k it returns. */
export const FUSION_DEPTH = 100;
/** The largest window (offset + k) a query may ask for. */
export const MAX_WINDOW = 10_000;

export function defaultMode(c: Collection): SearchMode {
  return c.hasModel ? DEFAULT_TEXT_MODE : 'vector';
}

/** Vector candidates under an optional filter and exclusions; records how they were found. */
export async function vectorCandidates(
  c: Collection,
  query: Float32Array,
  n: number,
  opts: { filter?: CompiledFilter; ef?: number; exclude?: ReadonlySet<number> },
  plan: Plan,
): Promise<Neighbor[]> {
  const out = await c.search(query, n, opts);
  plan.vector = out.plan;
  if (out.filtered !== undefined) plan.filteredChunks = out.filtered;
  return out.neighbors;
}

/** The query's vector: given, or embedded from its image or text (null, with a warning, when the text has nothing to embed and a vector is not needed). */
export async function queryVector(c: Collection, q: SearchQuery, needed: boolean): Promise<{ query: Float32Array | null; warning?: string }> {
  if (q.vector) return { query: c.checkVector(q.vector, 'vector') };
  if (q.image !== undefined) return { query: await embedImageQuery(c, q.image) };
  const embedder = await c.embedder();
  if (!embedder) {
    if (!needed) return { query: null, warning: 'the collection has no embedding model and no vector was given; only the keyword ranking was used' };
    throw createError('NO_EMBEDDER', { field: 'text', collection: c.name });
  }
  const [v = null] = await embedder.embed([q.text ?? '']);
  if (!v) return { query: null, warning: 'the query text has no words the model knows; no vector ranking was made' };
  return { query: v };
}

/** An image query's vector, in the space of the collection's texts and images (multimodal models only). */
async function embedImageQuery(c: Collection, base64: string): Promise<Float32Array | null> {
  const image = c.checkImage(base64, 'image');
  const embedder = await c.embedder();
  if (!embedder?.embedImages) throw createError('IMAGE_NOT_SUPPORTED', { field: 'image', collection: c.name, embedder: embedder?.id ?? 'none' });
  const [v = null] = await embedder.embedImages([image]);
  if (v instanceof EmbedError) throw v;
  return v;
}

/** Ranks chunks for a query, best first, at least `depth` deep when there are that many. */
async function rankChunks(c: Collection, q: SearchQuery, mode: SearchMode, depth: number, filter: CompiledFilter | undefined, plan: Plan) {
  let warning: string | undefined;
  const vectorList = async (n: number): Promise<Neighbor[]> => {
    const e = await queryVector(c, q, mode === 'vector' || q.vector !== undefined);
    warning = e.warning;
    if (!e.query) return [];
    return vectorCandidates(c, e.query, n, { filter, ef: q.ef }, plan);
  };
  const keywordList = (n: number): Neighbor[] => c.keyword(q.text ?? '', filter, n);

  let ranked: Ranked[];
  let components: Components | undefined;
  if (mode === 'vector') ranked = await vectorList(depth);
  else if (mode === 'keyword') ranked = keywordList(depth);
  else {
    const n = Math.max(depth, FUSION_DEPTH);
    const [v, k] = [await vectorList(n), keywordList(n)];
    ({ ranked, components } = fuseLists(q, v, k, c.info.metric === 'cosine'));
  }
  return { ranked, warning, components };
}

/**
 * Hybrid's fusion step over the two rankings, each best first: here over one node's lists, and
 * over the lists merged from every shard on a cluster's api node (query/shards.ts), which makes
 * the sharded answer the single-node one.
 */
export function fuseLists(q: SearchQuery, vector: Neighbor[], keyword: Neighbor[], vectorIsCosine: boolean): { ranked: Ranked[]; components: Components } {
  return {
    ranked: fuseFor(q, vector, keyword, vectorIsCosine),
    components: { vector: new Map(vector.map((x) => [x.label, x.score])), keyword: new Map(keyword.map((x) => [x.label, x.score])) },
  };
}

/** Each ranking's own score per chunk label (hybrid), so a hit shows what its fused score is made of. */
export interface Components {
  vector: Map<number, number>;
  keyword: Map<number, number>;
}

export interface HitOptions {
  include: IncludeField[];
  groupBy: GroupBy;
  offset: number;
  k: number;
  scoreThreshold?: number;
  hybrid: boolean;
  components?: Components;
}

/** Turns ranked labels into hits: joins rows, groups by document if asked, applies threshold and window. */
export function toHits(c: Collection, ranked: Ranked[], opts: HitOptions): { hits: Hit[]; exhausted: boolean } {
  const rows = c.chunks(
    ranked.map((r) => r.label),
    { text: opts.include.includes('text'), metadata: opts.include.includes('metadata'), vector: opts.include.includes('vector'), image: opts.include.includes('image') },
  );
  return windowHits(ranked, rows, opts);
}

/** toHits over rows already joined; `labels` are the hits' chunk labels, in hit order. */
export function windowHits(ranked: Ranked[], rows: Map<number, ChunkHit>, opts: HitOptions): { hits: Hit[]; labels: number[]; exhausted: boolean } {
  const seen = new Set<string>();
  const hits: Hit[] = [];
  const labels: number[] = [];
  let passed = 0;
  for (const r of ranked) {
    const row = rows.get(r.label);
    if (!row) continue; // deleted between the search and the join
    if (opts.scoreThreshold !== undefined && r.score < opts.scoreThreshold) break;
    if (opts.groupBy === 'document') {
      if (seen.has(row.documentId)) continue;
      seen.add(row.documentId);
    }
    if (passed++ < opts.offset) continue;
    const hit: Hit = { documentId: row.documentId, chunkIndex: row.chunkIndex, score: r.score };
    if (opts.hybrid) {
      hit.vectorRank = r.vectorRank ?? null;
      hit.keywordRank = r.keywordRank ?? null;
      if (opts.components) {
        hit.vectorScore = opts.components.vector.get(r.label) ?? null;
        hit.keywordScore = opts.components.keyword.get(r.label) ?? null;
      }
    }
    fillHit(hit, row, opts.include);
    hits.push(hit);
    labels.push(r.label);
    if (hits.length === opts.k) return { hits, labels, exhausted: false };
  }
  return { hits, labels, exhausted: true };
}

/** The included fields of a hit, from its joined row. */
export function fillHit(hit: Hit, row: ChunkHit, include: IncludeField[]): void {
  if (include.includes('text')) hit.text = row.text;
  if (include.includes('metadata')) hit.metadata = row.metadata;
  if (include.includes('vector') && row.vector) hit.vector = Array.from(row.vector);
  if (include.includes('image')) hit.image = row.image ? row.image.toString('base64') : null;
}

export function resolveMode(c: Collection, q: SearchQuery): SearchMode {
  const mode = q.mode ?? (q.text === undefined ? 'vector' : defaultMode(c));
  // An image has no words: keyword and hybrid have nothing to match it with.
  if (q.image !== undefined && mode !== 'vector') {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'mode', message: `an image query ranks by vector only; leave mode out or send "vector", not "${mode}"` }] });
  }
  if (mode !== 'vector' && q.text === undefined) {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'text', message: `required in ${mode} mode` }] });
  }
  if (mode === 'vector' && q.text !== undefined && q.vector !== undefined) {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'text', message: 'give text or vector in vector mode, not both (both are for hybrid mode)' }] });
  }
  if (mode === 'keyword' && q.vector !== undefined) {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'vector', message: 'keyword mode ranks by text only' }] });
  }
  return mode;
}

/** Default MMR pool: 4·k, at least 20, at most 1000. */
export const mmrCandidates = (q: SearchQuery) => Math.min(1000, Math.max(q.k, q.mmr?.candidates ?? Math.max(20, 4 * q.k)));

export async function search(c: Collection, q: SearchQuery): Promise<SearchResult> {
  if (q.mmr) {
    // The best candidates of the same query (with their vectors), then MMR picks k of them; each hit keeps its own score.
    const started = performance.now();
    const inner = await search(c, { ...q, mmr: undefined, offset: 0, k: mmrCandidates(q), include: [...new Set<IncludeField>([...q.include, 'vector'])] });
    const hits = mmrSelect(inner.hits, q.k, 1 - q.mmr.lambda, c.info.metric, q.include.includes('vector'), false);
    return { ...inner, hits, tookMs: Math.round((performance.now() - started) * 1000) / 1000 };
  }
  const started = performance.now();
  const mode = resolveMode(c, q);
  const filter = c.compileFilter(q.filter);
  const offset = q.offset ?? 0;
  const groupBy = q.groupBy ?? 'document';
  const want = offset + q.k;
  const plan: Plan = {};
  // Grouping by document can drop chunks; fetch deeper until the window is full or the ranking ends.
  let depth = want;
  for (;;) {
    const { ranked, warning, components } = await rankChunks(c, q, mode, depth, filter, plan);
    const { hits, exhausted } = toHits(c, ranked, {
      include: q.include,
      groupBy,
      offset,
      k: q.k,
      scoreThreshold: q.scoreThreshold,
      hybrid: mode === 'hybrid',
      components,
    });
    const rankingEnded = ranked.length < depth;
    if (!exhausted || rankingEnded || depth >= MAX_WINDOW * 4) {
      const tookMs = Math.round((performance.now() - started) * 1000) / 1000;
      return { hits, mode, plan, tookMs, ...(warning ? { warning } : {}) };
    }
    depth = Math.min(depth * 4, MAX_WINDOW * 4);
  }
}
