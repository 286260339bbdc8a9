// Routes that write and read points by id: upsert (list and batch forms), retrieve, delete by
// ids or filter, scroll and count. A point is a Quiver document: its id as ids.ts maps it, its
// vector as the document's one chunk, its payload as flattened metadata (payload.ts), and a
// content/page_content/text string of the payload also as the document's text, so that Quiver's
// keyword and hybrid search (/v1) find Qdrant points too.
import type { Router } from 'express';
import type { DocumentInput } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import type { RouteContext } from '../context.js';
import { parse } from '../errors.js';
import { nameOf } from './collections.js';
import { filterFor } from './filter.js';
import { toDocumentId, toPointId } from './ids.js';
import type { Payload, PayloadSelector } from './payload.js';
import { textOf, toMetadata } from './payload.js';
import { ok } from './reply.js';
import * as s from './schemas.js';
import { resolveVectors } from './vectors.js';
import type { Shown } from './views.js';
import { recordView } from './views.js';

type WithVector = boolean | string[] | null | undefined;

function refuse(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

/** with_vector: true/false; a list of names asks for named vectors, of which only the unnamed one ("") exists. */
function showVector(v: WithVector, field: string): boolean {
  if (Array.isArray(v)) {
    const named = v.filter((n) => n !== '');
    if (named.length > 0) refuse(field, `named vectors are not supported (asked for "${named[0]}")`);
    return v.length > 0;
  }
  return v === true;
}

export function shown(payload: PayloadSelector | null | undefined, vector: WithVector, defaultPayload: boolean): Shown {
  return { payload: payload ?? defaultPayload, vector: showVector(vector, 'with_vector') };
}

/** A point id in a path: an unsigned integer or a UUID. */
function pathId(raw: string): string {
  return toDocumentId(/^[0-9]+$/.test(raw) ? Number(raw) : raw, 'path.id');
}

export function pointRoutes(r: Router, { config, collections, embedders, json, log, requireJson }: RouteContext): void {
  const upsertSchema = s.upsertBody(config.maxDocumentsPerRequest);

  r.put('/collections/:name/points', requireJson, json, async (req, res) => {
    const c = collections.get(nameOf(req.params.name));
    const body = parse(upsertSchema, req.body);
    if (body.update_filter !== undefined && body.update_filter !== null) refuse('update_filter', 'conditional updates are not supported');
    if (body.update_mode !== undefined && body.update_mode !== null && body.update_mode !== 'upsert') refuse('update_mode', 'only "upsert" is supported');
    let points: { id: unknown; vector: unknown; payload: Payload | null | undefined; at: string }[];
    if ('points' in body) points = body.points.map((p, i) => ({ id: p.id, vector: p.vector, payload: p.payload, at: `points.${i}` }));
    else {
      const { ids, payloads } = body.batch;
      const vectors: unknown = body.batch.vectors;
      if (!Array.isArray(vectors)) refuse('batch.vectors', 'expected a list of vectors (named vectors are not supported)');
      if (vectors.length !== ids.length) refuse('batch.vectors', `has ${vectors.length} vectors for ${ids.length} ids`);
      if (payloads && payloads.length !== ids.length) refuse('batch.payloads', `has ${payloads.length} payloads for ${ids.length} ids`);
      points = ids.map((id, i) => ({ id, vector: (vectors as unknown[])[i], payload: payloads?.[i], at: `batch.${i}` }));
    }
    const ids = points.map((p) => toDocumentId(p.id, `${p.at}.id`));
    const metadata = points.map((p) => toMetadata(p.payload ?? {}, `${p.at}.payload`));
    const vectors = await resolveVectors(
      embedders,
      c,
      points.map((p) => ({ value: p.vector, field: `${p.at}.vector` })),
      false,
    );
    // The same id twice in one request: the last one wins, as in Qdrant.
    const last = new Map(ids.map((id, i) => [id, i]));
    const docs: DocumentInput[] = [...last.values()].map((i) => {
      const v = vectors[i]!;
      const text = textOf(points[i]!.payload ?? {});
      return { id: ids[i]!, vector: v.kind === 'vector' ? Array.from(v.vector) : [], metadata: metadata[i]!, ...(text === undefined ? {} : { text }) };
    });
    if (docs.length > 0) await c.write(docs, { onError: 'reject-batch' });
    // Quiver answers a write once it is durable, with or without ?wait=true: it is completed either way.
    ok(res, { operation_id: null, status: 'completed' });
  });

  r.post('/collections/:name/points', requireJson, json, (req, res) => {
    const c = collections.get(nameOf(req.params.name));
    const body = parse(s.retrieveBody, req.body);
    const show = shown(body.with_payload, body.with_vector, true);
    const out = [];
    for (const [i, raw] of body.ids.entries()) {
      const d = c.get(toDocumentId(raw, `ids.${i}`));
      if (d) out.push(recordView(d, show, () => c.vectorOf(d)));
    }
    ok(res, out);
  });

  r.get('/collections/:name/points/:id', (req, res) => {
    const c = collections.get(nameOf(req.params.name));
    const id = pathId(req.params.id);
    const d = c.get(id);
    if (!d) throw createError('DOCUMENT_NOT_FOUND', { collection: c.name, id });
    ok(res, recordView(d, { payload: true, vector: true }, () => c.vectorOf(d)));
  });

  r.post('/collections/:name/points/delete', requireJson, json, async (req, res) => {
    const c = collections.get(nameOf(req.params.name));
    const body = parse(s.deleteBody, req.body);
    const hasPoints = body.points !== undefined && body.points !== null;
    const hasFilter = body.filter !== undefined && body.filter !== null;
    if (hasPoints === hasFilter) refuse('body', 'give either "points" (a list of ids) or "filter"');
    let warnings: string[] = [];
    if (hasPoints) {
      const ids = body.points!.map((id, i) => toDocumentId(id, `points.${i}`));
      if (ids.length > 0) await c.deleteWhere(c.compileFilter({ $id: { $in: ids } }));
    } else {
      const f = filterFor(c, body.filter);
      warnings = f.warnings;
      // An empty filter selects every point, as in Qdrant.
      await c.deleteWhere(f.compiled);
    }
    ok(res, { operation_id: null, status: 'completed' }, warnings, log);
  });

  r.post('/collections/:name/points/scroll', requireJson, json, (req, res) => {
    const c = collections.get(nameOf(req.params.name));
    const body = parse(s.scrollBody, req.body ?? {});
    if (body.order_by !== undefined && body.order_by !== null) refuse('order_by', 'ordering by a payload field is not supported; points come in id order');
    const show = shown(body.with_payload, body.with_vector, true);
    const limit = body.limit ?? 10;
    const f = filterFor(c, body.filter);
    // Pages run in Quiver's id order (ids as strings); the offset is the first id of the page.
    const docs = [];
    let after = '';
    if (body.offset !== undefined && body.offset !== null) {
      const first = toDocumentId(body.offset, 'offset');
      const f2 = f.filter === undefined ? { $id: first } : { $and: [f.filter, { $id: first }] };
      docs.push(...c.page('', 1, c.compileFilter(f2)));
      after = first;
    }
    docs.push(...c.page(after, limit + 1 - docs.length, f.compiled));
    const page = docs.slice(0, limit);
    const next = docs.length > limit ? toPointId(docs[limit]!.id) : null;
    ok(res, { points: page.map((d) => recordView(d, show, () => c.vectorOf(d))), next_page_offset: next }, f.warnings, log);
  });

  r.post('/collections/:name/points/count', requireJson, json, (req, res) => {
    const c = collections.get(nameOf(req.params.name));
    const body = parse(s.countBody, req.body ?? {});
    const f = filterFor(c, body.filter);
    ok(res, { count: c.count(f.compiled) }, f.warnings, log);
  });
}
