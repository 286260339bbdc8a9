// Owns recommendation: "more like these, less like those" from stored documents. The input
// documents never come back. average_vector searches with avg(pos) + (avg(pos) − avg(neg));
// best_score ranks candidates by their best similarity to a positive, and pushes below every
// such candidate those closer to a negative (Qdrant's best_score).
import type { Engine } from '../engine/index.js';
import { createError } from '../errors/index.js';
import type { Collection, DocumentVectors } from '../storage/index.js';
import type { Neighbor } from '../index/vector-index.js';
import { bestScores, requestDeadline } from './analysis.js';
import type { Deadline } from './analysis.js';
import { compileOptionalFilter } from './filter.js';
import type { IncludeField, QueryResult, Plan } from './search.js';
import { searchRepo, toHits, vectorCandidates } from './search.js';

export interface RecommendInput {
  positive: string[];
  negative: string[];
  k: number;
  filter?: unknown;
  strategy: 'average_vector' | 'best_score';
  include: IncludeField[];
  ef?: number;
}

function mean(vectors: Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < v.length; i++) out[i]! += v[i]! / vectors.length;
  return out;
}

function load(engine: Engine, c: Collection, ids: string[], field: string): DocumentVectors[] {
  const found = searchRepo(engine).documentVectors(c.id, [...new Set(ids)]);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw createError('DOCUMENTS_NOT_FOUND', { field, collection: c.name, ids: missing });
  const docs = ids.map((id) => found.get(id)!);
  const empty = docs.findIndex((d) => d.vectors.length === 0);
  if (empty >= 0) {
    throw createError('VALIDATION_FAILED', { issues: [{ field: `${field}.${empty}`, message: `document "${docs[empty]!.id}" has no vector (its text had nothing to embed)` }] });
  }
  return docs;
}

export async function recommend(
  engine: Engine,
  collectionName: string,
  r: RecommendInput,
  deadline: Deadline = requestDeadline(engine.config.requestTimeoutMs),
): Promise<QueryResult> {
  const started = performance.now();
  const c = engine.collection(collectionName);
  const where = compileOptionalFilter(r.filter);
  const pos = load(engine, c, r.positive, 'positive');
  const neg = load(engine, c, r.negative, 'negative');
  const exclude = new Set([...pos, ...neg].flatMap((d) => d.labels));
  const plan: Plan = {};
  // Chunks of one document can fill several places; ask for more than k and group.
  const depth = r.k * 4 + exclude.size;
  let ranked: Neighbor[];
  if (r.strategy === 'average_vector') {
    const p = mean(pos.map((d) => mean(d.vectors)));
    let q = p;
    if (neg.length > 0) {
      const n = mean(neg.map((d) => mean(d.vectors)));
      q = p.map((x, i) => 2 * x - n[i]!);
    }
    if (c.metric === 'cosine' && q.every((x) => x === 0)) ranked = [];
    else ranked = vectorCandidates(engine, c, q, depth, { where, ef: r.ef, exclude }, plan);
  } else {
    const posVectors = pos.flatMap((d) => d.vectors);
    const negVectors = neg.flatMap((d) => d.vectors);
    const candidates = new Set<number>();
    for (const v of [...posVectors, ...negVectors]) {
      for (const n of vectorCandidates(engine, c, v, depth, { where, ef: r.ef, exclude }, plan)) candidates.add(n.label);
    }
    const vectors = [...searchRepo(engine).vectorsByLabel([...candidates])];
    // Candidates × examples × dimensions can hold the event loop for seconds: best-score.mjs, in
    // a worker with a deadline when it is large (analysis.ts).
    const scores = await bestScores(c.metric, vectors.map(([, v]) => v), posVectors, negVectors, deadline);
    ranked = vectors.map(([label], i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score || a.label - b.label);
  }
  const { hits } = toHits(engine, ranked, { include: r.include, groupBy: 'document', offset: 0, k: r.k, hybrid: false });
  return { hits, mode: 'vector', plan, took_ms: Math.round((performance.now() - started) * 1000) / 1000 };
}
