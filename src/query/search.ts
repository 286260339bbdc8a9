// Owns search over a collection: vector (HNSW, or an exact scan when a filter leaves few chunks),
// keyword (FTS5 BM25 over chunk text) and hybrid (reciprocal rank fusion of the two), with
// metadata filters, grouping of chunks by document, offset and score threshold; and the join of
// ranked chunk labels with their rows. Recommendation and RAG context build on rankChunks.
import type { Engine } from '../engine/index.js';
import { checkVector } from '../engine/index.js';
import { createError } from '../errors/index.js';
import type { Collection, Metadata, SqlWhere } from '../storage/index.js';
import { SearchRepo } from '../storage/index.js';
import type { Neighbor } from '../index/vector-index.js';
import { exactSearch } from '../index/exact-index.js';
import { ftsQuery } from '../text/segment.js';
import { compileOptionalFilter } from './filter.js';

export type IncludeField = 'text' | 'metadata' | 'vector';
export type SearchMode = 'vector' | 'keyword' | 'hybrid';
export type GroupBy = 'document' | 'none';
/** rrf: reciprocal rank fusion; convex: weighted sum of min-max normalised scores. */
export type Fusion = 'rrf' | 'convex';

/** For collections with a model: hybrid ties keyword on fiori and, unlike keyword, finds paraphrases (see DEFAULT_FUSION). */
export const DEFAULT_TEXT_MODE: SearchMode = 'hybrid';
/** How deep each ranking goes before fusion: RRF needs more than the k it returns. */
const FUSION_DEPTH = 100;
/** The largest window (offset + k) a query may ask for. */
export const MAX_WINDOW = 10_000;

export interface QueryInput {
  text?: string;
  vector?: number[];
  k: number;
  offset?: number;
  include: IncludeField[];
  ef?: number;
  filter?: unknown;
  mode?: SearchMode;
  rrf_k?: number;
  fusion?: Fusion;
  weights?: { vector?: number; keyword?: number };
  score_threshold?: number;
  group_by?: GroupBy;
}

export interface Hit {
  /** The document id (kept as `id` for clients of the first API version). */
  id: string;
  document_id: string;
  chunk_index: number;
  score: number;
  /** 1-based rank in each component ranking (hybrid only); null when absent from it. */
  vector_rank?: number | null;
  keyword_rank?: number | null;
  text?: string | null;
  metadata?: Metadata;
  vector?: number[];
}

export interface Plan {
  /** hnsw: plain HNSW; hnsw_filtered: HNSW with the filter as a callback; exact: a scan of the filtered set. */
  vector?: 'hnsw' | 'hnsw_filtered' | 'exact';
  /** Chunks with a vector that pass the filter (only counted when there is a filter). */
  filtered_chunks?: number;
}

export interface QueryResult {
  hits: Hit[];
  mode: SearchMode;
  plan: Plan;
  took_ms: number;
  /** Present when the query text had nothing the model could embed. */
  warning?: string;
}

const repos = new WeakMap<Engine, SearchRepo>();
export function searchRepo(engine: Engine): SearchRepo {
  let r = repos.get(engine);
  if (!r) repos.set(engine, (r = new SearchRepo(engine.db, engine.docs)));
  return r;
}

export function defaultMode(c: Collection): SearchMode {
  return c.embedder.provider === 'none' ? 'vector' : DEFAULT_TEXT_MODE;
}

interface Ranked {
  label: number;
  score: number;
  vectorRank?: number | null;
  keywordRank?: number | null;
}

/**
 * Vector candidates under a filter. The planner counts the chunks that pass it (SQLite): a small
 * set is scanned exactly (HNSW with a very selective filter walks a graph whose neighbours are
 * mostly filtered out, and recall collapses); a large one goes through HNSW with the filter as a
 * callback and a search breadth widened by 1/selectivity.
 */
export function vectorCandidates(
  engine: Engine,
  c: Collection,
  query: Float32Array,
  n: number,
  opts: { where?: SqlWhere; ef?: number; exclude?: Set<number> },
  plan: Plan,
): Neighbor[] {
  const index = engine.indexes.get(c.id);
  if (!index) throw createError('NOT_READY', { reason: `index of "${c.name}" is not loaded` });
  const ef = Math.max(opts.ef ?? engine.config.hnsw.efSearch, n);
  const exclude = opts.exclude;
  if (!opts.where) {
    plan.vector = 'hnsw';
    if (!exclude || exclude.size === 0) return index.search(query, n, { ef });
    return index.search(query, n, { ef: ef + exclude.size, filter: (l) => !exclude.has(l) });
  }
  const repo = searchRepo(engine);
  const labels = repo.labelsWhere(c.id, opts.where);
  plan.filtered_chunks = labels.length;
  if (labels.length <= engine.config.exactSearchThreshold || index.size === 0) {
    plan.vector = 'exact';
    // By primary key: cheaper than evaluating the filter a second time.
    const vectors = repo.vectorsByLabel(labels);
    return exactSearch(c.metric, query, vectors, n, exclude && exclude.size > 0 ? (l) => !exclude.has(l) : undefined);
  }
  plan.vector = 'hnsw_filtered';
  const allowed = new Set(labels);
  if (exclude) for (const l of exclude) allowed.delete(l);
  const selectivity = Math.max(allowed.size / index.size, 1e-6);
  const wideEf = Math.min(10_000, Math.max(ef, Math.ceil(ef / selectivity)));
  return index.search(query, n, { ef: wideEf, filter: (l) => allowed.has(l) });
}

async function embedQuery(engine: Engine, c: Collection, q: QueryInput, needed: boolean): Promise<{ query: Float32Array | null; warning?: string }> {
  if (q.vector) return { query: checkVector(c, q.vector, 'vector') };
  const embedder = await engine.embedderFor(c);
  if (!embedder) {
    if (!needed) return { query: null, warning: 'the collection has no embedding model and no vector was given; only the keyword ranking was used' };
    throw createError('NO_EMBEDDER', { field: 'text', collection: c.name });
  }
  const [v = null] = await embedder.embed([q.text ?? '']);
  if (!v) return { query: null, warning: 'the query text has no words the model knows; no vector ranking was made' };
  return { query: v };
}

/** Ranks chunks for a query, best first, at least `depth` deep when there are that many. */
async function rankChunks(engine: Engine, c: Collection, q: QueryInput, mode: SearchMode, depth: number, where: SqlWhere | undefined, plan: Plan) {
  let warning: string | undefined;
  const vectorList = async (n: number): Promise<Neighbor[]> => {
    const e = await embedQuery(engine, c, q, mode === 'vector' || q.vector !== undefined);
    warning = e.warning;
    if (!e.query) return [];
    return vectorCandidates(engine, c, e.query, n, { where, ef: q.ef }, plan);
  };
  const keywordList = (n: number): Neighbor[] => {
    if (q.text === undefined) throw createError('VALIDATION_FAILED', { issues: [{ field: 'text', message: `required in ${mode} mode` }] });
    const match = ftsQuery(q.text);
    if (!match) return [];
    return searchRepo(engine).keyword(c.id, match, where, n);
  };

  let ranked: Ranked[];
  if (mode === 'vector') ranked = await vectorList(depth);
  else if (mode === 'keyword') ranked = keywordList(depth);
  else {
    const n = Math.max(depth, FUSION_DEPTH);
    const [v, k] = [await vectorList(n), keywordList(n)];
    ranked =
      (q.fusion ?? DEFAULT_FUSION) === 'rrf'
        ? fuse(v, k, q.rrf_k ?? 60, { vector: q.weights?.vector ?? 1, keyword: q.weights?.keyword ?? 1 })
        : fuseConvex(v, k, { vector: q.weights?.vector ?? DEFAULT_CONVEX_WEIGHTS.vector, keyword: q.weights?.keyword ?? DEFAULT_CONVEX_WEIGHTS.keyword });
  }
  return { ranked, warning };
}

/**
 * Measured on the fiori texts (title → body, MRR@10; benchmarks/server-quality.ts): keyword 0.713,
 * vector 0.289; RRF at rrf_k 60 with equal weights 0.494 (the weak static model's ranks pull
 * BM25's good first places down), RRF at rrf_k 60 with vector weight 0.02 0.700; convex with
 * vector 0.1–0.2 / keyword 0.9–0.8 0.714–0.715. So hybrid defaults to convex 0.2/0.8: it ties
 * keyword on keyword-friendly queries and still answers by meaning when no word matches.
 */
export const DEFAULT_FUSION: Fusion = 'convex';
export const DEFAULT_CONVEX_WEIGHTS = { vector: 0.2, keyword: 0.8 };

/** Convex combination: each list's scores min-max normalised to [0, 1] (absent = 0), then weighted and summed. */
export function fuseConvex(vector: Neighbor[], keyword: Neighbor[], w: { vector: number; keyword: number }): Ranked[] {
  const byLabel = new Map<number, Ranked>();
  const add = (list: Neighbor[], weight: number, key: 'vectorRank' | 'keywordRank') => {
    if (list.length === 0) return;
    const max = list[0]!.score;
    const min = list[list.length - 1]!.score;
    list.forEach((n, i) => {
      let r = byLabel.get(n.label);
      if (!r) byLabel.set(n.label, (r = { label: n.label, score: 0, vectorRank: null, keywordRank: null }));
      r[key] = i + 1;
      r.score += weight * (max > min ? (n.score - min) / (max - min) : 1);
    });
  };
  add(vector, w.vector, 'vectorRank');
  add(keyword, w.keyword, 'keywordRank');
  return [...byLabel.values()].sort((a, b) => b.score - a.score || a.label - b.label);
}

/** Reciprocal rank fusion: score = Σ weight / (rrf_k + rank), ranks 1-based. */
export function fuse(vector: Neighbor[], keyword: Neighbor[], rrfK: number, w: { vector: number; keyword: number }): Ranked[] {
  const byLabel = new Map<number, Ranked>();
  const add = (list: Neighbor[], weight: number, key: 'vectorRank' | 'keywordRank') => {
    list.forEach((n, i) => {
      let r = byLabel.get(n.label);
      if (!r) byLabel.set(n.label, (r = { label: n.label, score: 0, vectorRank: null, keywordRank: null }));
      r[key] = i + 1;
      r.score += weight / (rrfK + i + 1);
    });
  };
  add(vector, w.vector, 'vectorRank');
  add(keyword, w.keyword, 'keywordRank');
  // Ties (same fused score) go to the better best rank, then to the lower label: stable answers.
  return [...byLabel.values()].sort(
    (a, b) =>
      b.score - a.score ||
      Math.min(a.vectorRank ?? Infinity, a.keywordRank ?? Infinity) - Math.min(b.vectorRank ?? Infinity, b.keywordRank ?? Infinity) ||
      a.label - b.label,
  );
}

/** Turns ranked labels into hits: joins rows, groups by document if asked, applies threshold and window. */
export function toHits(engine: Engine, ranked: Ranked[], opts: { include: IncludeField[]; groupBy: GroupBy; offset: number; k: number; scoreThreshold?: number; hybrid: boolean }): { hits: Hit[]; exhausted: boolean } {
  const rows = engine.docs.chunksByLabel(
    ranked.map((r) => r.label),
    { text: opts.include.includes('text'), metadata: opts.include.includes('metadata'), vector: opts.include.includes('vector') },
  );
  const seen = new Set<string>();
  const hits: Hit[] = [];
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
    const hit: Hit = { id: row.documentId, document_id: row.documentId, chunk_index: row.chunkIndex, score: r.score };
    if (opts.hybrid) {
      hit.vector_rank = r.vectorRank ?? null;
      hit.keyword_rank = r.keywordRank ?? null;
    }
    if (opts.include.includes('text')) hit.text = row.text;
    if (opts.include.includes('metadata')) hit.metadata = row.metadata;
    if (opts.include.includes('vector') && row.vector) hit.vector = Array.from(row.vector);
    hits.push(hit);
    if (hits.length === opts.k) return { hits, exhausted: false };
  }
  return { hits, exhausted: true };
}

export function resolveMode(c: Collection, q: QueryInput): SearchMode {
  const mode = q.mode ?? (q.text === undefined ? 'vector' : defaultMode(c));
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

export async function queryCollection(engine: Engine, collectionName: string, q: QueryInput): Promise<QueryResult> {
  const started = performance.now();
  const c = engine.collection(collectionName);
  const mode = resolveMode(c, q);
  const where = compileOptionalFilter(q.filter);
  const offset = q.offset ?? 0;
  const groupBy = q.group_by ?? 'document';
  const want = offset + q.k;
  const plan: Plan = {};
  // Grouping by document can drop chunks; fetch deeper until the window is full or the ranking ends.
  let depth = want;
  for (;;) {
    const { ranked, warning } = await rankChunks(engine, c, q, mode, depth, where, plan);
    const { hits, exhausted } = toHits(engine, ranked, {
      include: q.include,
      groupBy,
      offset,
      k: q.k,
      scoreThreshold: q.score_threshold,
      hybrid: mode === 'hybrid',
    });
    const rankingEnded = ranked.length < depth;
    if (!exhausted || rankingEnded || depth >= MAX_WINDOW * 4) {
      const took_ms = Math.round((performance.now() - started) * 1000) / 1000;
      return { hits, mode, plan, took_ms, ...(warning ? { warning } : {}) };
    }
    depth = Math.min(depth * 4, MAX_WINDOW * 4);
  }
}
