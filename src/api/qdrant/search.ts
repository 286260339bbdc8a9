// Routes that rank points: the universal points/query (a vector, a point id, a {text, model}
// document, {nearest, mmr}, {recommend}), the older points/search and points/recommend, and
// their /batch forms. Each maps onto Quiver's query layer: vector search, recommend
// (average_vector, best_score; examples by id or as vectors) and MMR re-ranking. Scores follow
// Qdrant's convention (views.ts).
import type { RequestHandler, Router } from 'express';
import type { Collection } from '../../collection/index.js';
import type { Hit, IncludeField, Metric } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import { mmr, recommend, requestDeadline, search } from '../../query/index.js';
import type { RouteContext } from '../context.js';
import { parse } from '../errors.js';
import { nameOf } from './collections.js';
import { filterFor } from './filter.js';
import { shown } from './points.js';
import { ok } from './reply.js';
import * as s from './schemas.js';
import type { Resolved } from './vectors.js';
import { resolveVectors } from './vectors.js';
import type { Shown } from './views.js';
import { qdrantScore, quiverThreshold, scoredView } from './views.js';

function refuse(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

const given = (v: unknown) => v !== undefined && v !== null;

interface Ranking {
  limit: number;
  offset: number;
  threshold: number | null | undefined;
  ef: number | undefined;
  show: Shown;
  filter: unknown;
}

/** The points of a ranking as Qdrant shows them; `scoreMetric` is the metric the scores are in (best_score's are not distances). */
type Points = { points: Record<string, unknown>[]; warnings: string[] };

const QUERY_KINDS = ['discover', 'context', 'order_by', 'fusion', 'rrf', 'formula', 'sample', 'relevance_feedback'];

export function searchRoutes(r: Router, { config, collections, embedders, json, log, requireJson }: RouteContext): void {
  const include = (show: Shown): IncludeField[] => [...(show.payload === false ? [] : (['metadata'] as const)), ...(show.vector ? (['vector'] as const) : [])];
  const view = (c: Collection, hits: Hit[], show: Shown, scoreMetric: Metric = c.info.metric) => hits.map((h) => scoredView(h, scoreMetric, show));

  async function nearest(c: Collection, vector: Float32Array, w: Ranking): Promise<Points> {
    if (w.limit === 0) return { points: [], warnings: [] };
    const out = await search(c, {
      vector: Array.from(vector),
      k: w.limit,
      offset: w.offset,
      include: include(w.show),
      filter: w.filter,
      mode: 'vector',
      scoreThreshold: quiverThreshold(c.info.metric, w.threshold),
      ef: w.ef,
    });
    return { points: view(c, out.hits, w.show), warnings: out.warning ? [out.warning] : [] };
  }

  async function recommendPoints(c: Collection, positive: Resolved[], negative: Resolved[], strategy: string | null | undefined, w: Ranking, at: string): Promise<Points> {
    if (strategy === 'sum_scores') refuse(`${at}.strategy`, 'sum_scores is not supported (average_vector and best_score are)');
    if (positive.length === 0) refuse(`${at}.positive`, 'at least one positive example is needed');
    if (w.limit === 0) return { points: [], warnings: [] };
    const ids = (xs: Resolved[]) => xs.flatMap((x) => (x.kind === 'id' ? [x.id] : []));
    const vectors = (xs: Resolved[]) => xs.flatMap((x) => (x.kind === 'vector' ? [x.vector] : []));
    const best = strategy === 'best_score';
    const out = await recommend(
      c,
      {
        positive: ids(positive),
        negative: ids(negative),
        positiveVectors: vectors(positive),
        negativeVectors: vectors(negative),
        k: w.offset + w.limit,
        filter: w.filter,
        strategy: best ? 'best_score' : 'average_vector',
        include: include(w.show),
        ef: w.ef,
      },
      requestDeadline(config.requestTimeoutMs),
    );
    // best_score's scores are squashed similarities (higher is better) whatever the metric.
    const metric: Metric = best ? 'cosine' : c.info.metric;
    let hits = out.hits.slice(w.offset);
    if (given(w.threshold)) hits = hits.filter((h) => (metric === 'l2' ? qdrantScore(metric, h.score) <= w.threshold! : h.score >= w.threshold!));
    return { points: view(c, hits, w.show, metric), warnings: [] };
  }

  async function mmrPoints(c: Collection, vector: Float32Array, spec: unknown, w: Ranking, at: string): Promise<Points> {
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) refuse(at, 'expected {"diversity": 0..1, "candidates_limit": n}');
    const { diversity, candidates_limit: candidates } = spec as { diversity?: unknown; candidates_limit?: unknown };
    if (given(diversity) && (typeof diversity !== 'number' || !(diversity >= 0 && diversity <= 1))) refuse(`${at}.diversity`, 'expected a number from 0 to 1');
    if (given(candidates) && (typeof candidates !== 'number' || !Number.isInteger(candidates) || candidates < 0 || candidates > 1000)) {
      refuse(`${at}.candidates_limit`, 'expected an integer from 0 to 1000');
    }
    const k = w.offset + w.limit;
    if (k === 0) return { points: [], warnings: [] };
    const hits = await mmr(c, {
      vector,
      k,
      candidates: Math.max(k, (candidates) ?? k),
      diversity: (diversity) ?? 0.5,
      filter: w.filter,
      include: include(w.show),
      ef: w.ef,
    });
    let out = hits.slice(w.offset);
    if (given(w.threshold)) out = out.filter((h) => h.score >= w.threshold!);
    // MMR values are relevance minus redundancy: Quiver's similarities, not distances.
    return { points: view(c, out, w.show, c.info.metric === 'l2' ? 'cosine' : c.info.metric), warnings: [] };
  }

  /** The vector of a stored point (for {nearest: id, mmr}). */
  function vectorOfPoint(c: Collection, id: string, at: string): Float32Array {
    const d = c.get(id);
    if (!d) throw createError('DOCUMENTS_NOT_FOUND', { field: at, collection: c.name, ids: [id] });
    const v = c.vectorOf(d);
    if (!v) refuse(at, `point "${id}" has no vector`);
    return v;
  }

  async function runQuery(c: Collection, raw: unknown, at: string): Promise<Points> {
    const body = parse(s.queryBody, raw, at);
    const field = (f: string) => (at === '' ? f : `${at}.${f}`);
    if (given(body.prefetch)) refuse(field('prefetch'), 'prefetch (multi-stage queries) is not supported');
    if (given(body.using) && body.using !== '') refuse(field('using'), 'named vectors are not supported');
    if (given(body.lookup_from)) refuse(field('lookup_from'), 'lookup in another collection is not supported');
    const f = filterFor(c, body.filter, field('filter'));
    const w: Ranking = {
      limit: body.limit ?? 10,
      offset: body.offset ?? 0,
      threshold: body.score_threshold,
      ef: body.params?.hnsw_ef ?? undefined,
      show: shown(body.with_payload, body.with_vector, false),
      filter: f.filter,
    };
    const withWarnings = (p: Points): Points => ({ ...p, warnings: [...f.warnings, ...p.warnings] });
    const q = body.query;
    if (!given(q)) {
      // No query: points in id order, as Qdrant answers it (score 0).
      const docs = c.page('', w.offset + w.limit, f.compiled).slice(w.offset);
      return withWarnings({ points: docs.map((d) => scoredView({ documentId: d.id, chunkIndex: 0, score: 0, metadata: d.metadata, ...(w.show.vector ? { vector: Array.from(c.vectorOf(d) ?? []) } : {}) }, 'cosine', w.show)), warnings: [] });
    }
    const qf = field('query');
    if (typeof q === 'object' && !Array.isArray(q)) {
      const kind = QUERY_KINDS.find((k) => k in q);
      if (kind !== undefined) refuse(`${qf}.${kind}`, `"${kind}" queries are not supported (vectors, point ids, {text, model}, {nearest, mmr} and {recommend} are)`);
      if ('recommend' in q) {
        const rec = q.recommend as { positive?: unknown; negative?: unknown; strategy?: unknown } | null;
        if (typeof rec !== 'object' || rec === null) refuse(`${qf}.recommend`, 'expected {"positive": [...], "negative": [...]}');
        const list = (v: unknown, name: string): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : refuse(`${qf}.recommend.${name}`, 'expected a list'));
        const pos = list(rec.positive, 'positive');
        const neg = list(rec.negative, 'negative');
        const resolved = await resolveVectors(embedders, c, [...pos, ...neg].map((value, i) => ({ value, field: i < pos.length ? `${qf}.recommend.positive.${i}` : `${qf}.recommend.negative.${i - pos.length}` })), true);
        const strategy = parse(s.recommendStrategy, rec.strategy, `${qf}.recommend.strategy`);
        return withWarnings(await recommendPoints(c, resolved.slice(0, pos.length), resolved.slice(pos.length), strategy, w, `${qf}.recommend`));
      }
      if ('nearest' in q) {
        const mmrSpec = (q as { mmr?: unknown }).mmr;
        const [target] = await resolveVectors(embedders, c, [{ value: q.nearest, field: `${qf}.nearest` }], true);
        if (given(mmrSpec)) {
          const v = target!.kind === 'vector' ? target!.vector : vectorOfPoint(c, target!.id, `${qf}.nearest`);
          return withWarnings(await mmrPoints(c, v, mmrSpec, w, `${qf}.mmr`));
        }
        return withWarnings(target!.kind === 'vector' ? await nearest(c, target!.vector, w) : await recommendPoints(c, [target!], [], 'average_vector', w, qf));
      }
    }
    const [target] = await resolveVectors(embedders, c, [{ value: q, field: qf }], true);
    // A point id: the points nearest to it, itself left out (Qdrant's query by id).
    return withWarnings(target!.kind === 'vector' ? await nearest(c, target!.vector, w) : await recommendPoints(c, [target!], [], 'average_vector', w, qf));
  }

  async function runSearch(c: Collection, raw: unknown, at: string): Promise<Points> {
    const body = parse(s.searchBody, raw, at);
    const field = (f: string) => (at === '' ? f : `${at}.${f}`);
    let vector = body.vector;
    // {name, vector}: a named vector; only the unnamed one ("") exists.
    if (typeof vector === 'object' && vector !== null && !Array.isArray(vector) && 'name' in vector && 'vector' in vector) {
      if ((vector as { name: unknown }).name !== '') refuse(field('vector.name'), 'named vectors are not supported');
      vector = (vector as { vector: unknown }).vector;
    }
    const f = filterFor(c, body.filter, field('filter'));
    const [target] = await resolveVectors(embedders, c, [{ value: vector, field: field('vector') }], false);
    const w: Ranking = { limit: body.limit, offset: body.offset ?? 0, threshold: body.score_threshold, ef: body.params?.hnsw_ef ?? undefined, show: shown(body.with_payload, body.with_vector, false), filter: f.filter };
    const out = await nearest(c, (target as { vector: Float32Array }).vector, w);
    return { ...out, warnings: [...f.warnings, ...out.warnings] };
  }

  async function runRecommend(c: Collection, raw: unknown, at: string): Promise<Points> {
    const body = parse(s.recommendBody, raw, at);
    const field = (f: string) => (at === '' ? f : `${at}.${f}`);
    if (given(body.using) && body.using !== '') refuse(field('using'), 'named vectors are not supported');
    if (given(body.lookup_from)) refuse(field('lookup_from'), 'lookup in another collection is not supported');
    const pos = body.positive ?? [];
    const neg = body.negative ?? [];
    const f = filterFor(c, body.filter, field('filter'));
    const resolved = await resolveVectors(embedders, c, [...pos, ...neg].map((value, i) => ({ value, field: i < pos.length ? field(`positive.${i}`) : field(`negative.${i - pos.length}`) })), true);
    const w: Ranking = { limit: body.limit, offset: body.offset ?? 0, threshold: body.score_threshold, ef: body.params?.hnsw_ef ?? undefined, show: shown(body.with_payload, body.with_vector, false), filter: f.filter };
    const out = await recommendPoints(c, resolved.slice(0, pos.length), resolved.slice(pos.length), body.strategy, w, at === '' ? 'body' : at);
    return { ...out, warnings: [...f.warnings, ...out.warnings] };
  }

  type Run = (c: Collection, raw: unknown, at: string) => Promise<Points>;
  const single =
    (run: Run, wrap: (p: Points) => unknown): RequestHandler =>
    async (req, res) => {
      const c = collections.get(nameOf(req.params.name));
      const out = await run(c, req.body, '');
      ok(res, wrap(out), out.warnings, log);
    };
  const batch =
    (run: Run, wrap: (p: Points) => unknown): RequestHandler =>
    async (req, res) => {
      const c = collections.get(nameOf(req.params.name));
      const body = parse(s.batchBody, req.body);
      const outs: Points[] = [];
      for (const [i, one] of body.searches.entries()) outs.push(await run(c, one, `searches.${i}`));
      ok(res, outs.map(wrap), outs.flatMap((o) => o.warnings), log);
    };

  r.post('/collections/:name/points/query', requireJson, json, single(runQuery, (p) => ({ points: p.points })));
  r.post('/collections/:name/points/query/batch', requireJson, json, batch(runQuery, (p) => ({ points: p.points })));
  r.post('/collections/:name/points/search', requireJson, json, single(runSearch, (p) => p.points));
  r.post('/collections/:name/points/search/batch', requireJson, json, batch(runSearch, (p) => p.points));
  r.post('/collections/:name/points/recommend', requireJson, json, single(runRecommend, (p) => p.points));
  r.post('/collections/:name/points/recommend/batch', requireJson, json, batch(runRecommend, (p) => p.points));
}
