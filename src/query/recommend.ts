// Owns recommendation: "more like these, less like those" from stored documents. The input
// documents never come back. average_vector searches with avg(pos) + (avg(pos) − avg(neg));
// best_score ranks candidates by their best similarity to a positive, and pushes below every
// such candidate those closer to a negative (Qdrant's best_score).
import type { Collection } from '../collection/index.js';
import type { IncludeField, Neighbor, Plan, SearchResult } from '../domain/types.js';
import { createError } from '../errors/index.js';
import type { DocumentVectors } from '../storage/index.js';
import { bestScores } from './analysis.js';
import type { Deadline } from './analysis.js';
import { toHits, vectorCandidates } from './search.js';

export interface RecommendInput {
  positive: string[];
  negative: string[];
  /** Examples given as vectors rather than as stored documents (Qdrant allows both); checked by the caller. */
  positiveVectors?: Float32Array[];
  negativeVectors?: Float32Array[];
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

function load(c: Collection, ids: string[], field: string): DocumentVectors[] {
  const found = c.documentVectors([...new Set(ids)]);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw createError('DOCUMENTS_NOT_FOUND', { field, collection: c.name, ids: missing });
  const docs = ids.map((id) => found.get(id)!);
  const empty = docs.findIndex((d) => d.vectors.length === 0);
  if (empty >= 0) {
    throw createError('VALIDATION_FAILED', { issues: [{ field: `${field}.${empty}`, message: `document "${docs[empty]!.id}" has no vector (its text had nothing to embed)` }] });
  }
  return docs;
}

export async function recommend(c: Collection, r: RecommendInput, deadline: Deadline): Promise<SearchResult> {
  const started = performance.now();
  const filter = c.compileFilter(r.filter);
  const given = (vectors: Float32Array[] | undefined): DocumentVectors[] => (vectors ?? []).map((v) => ({ pk: -1, id: '', labels: [], vectors: [v] }));
  const pos = [...load(c, r.positive, 'positive'), ...given(r.positiveVectors)];
  const neg = [...load(c, r.negative, 'negative'), ...given(r.negativeVectors)];
  if (pos.length === 0) throw createError('VALIDATION_FAILED', { issues: [{ field: 'positive', message: 'at least one positive example is needed' }] });
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
    if (c.info.metric === 'cosine' && q.every((x) => x === 0)) ranked = [];
    else ranked = await vectorCandidates(c, q, depth, { filter, ef: r.ef, exclude }, plan);
  } else {
    const posVectors = pos.flatMap((d) => d.vectors);
    const negVectors = neg.flatMap((d) => d.vectors);
    const candidates = new Set<number>();
    for (const v of [...posVectors, ...negVectors]) {
      for (const n of await vectorCandidates(c, v, depth, { filter, ef: r.ef, exclude }, plan)) candidates.add(n.label);
    }
    const vectors = [...c.vectorsByLabel([...candidates])];
    // Candidates × examples × dimensions can hold the event loop for seconds: best-score.mjs, in
    // a worker with a deadline when it is large (analysis.ts).
    const scores = await bestScores(c.info.metric, vectors.map(([, v]) => v), posVectors, negVectors, deadline);
    ranked = vectors.map(([label], i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score || a.label - b.label);
  }
  const { hits } = toHits(c, ranked, { include: r.include, groupBy: 'document', offset: 0, k: r.k, hybrid: false });
  return { hits, mode: 'vector', plan, tookMs: Math.round((performance.now() - started) * 1000) / 1000 };
}
