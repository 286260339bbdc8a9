// Routes for collections and their documents.
import type { Router } from 'express';
import { createError } from '../../errors/index.js';
import { deleteDocument, toChunkingSpec, upsertDocuments } from '../../ingest/index.js';
import { parse } from '../errors.js';
import { canSeeCollection } from '../auth.js';
import { compileOptionalFilter, searchRepo } from '../../query/index.js';
import { filterFromQueryString } from './explore.js';
import * as s from '../schemas.js';
import type { RouteContext } from './context.js';
import { collectionView, decodeCursor, documentView, encodeCursor, param } from '../views.js';

export function collectionRoutes(v1: Router, { engine, json, requireJson }: RouteContext): void {
  const upsertSchema = s.upsertBody(engine.config.maxDocumentsPerRequest);

  v1.post('/collections', requireJson, json, async (req, res) => {
    const body = parse(s.createCollectionBody, req.body);
    const embedder = body.embedder ?? { provider: engine.config.defaultEmbedder };
    const c = await engine.createCollection({
      name: body.name,
      metric: body.metric,
      embedder,
      dimension: body.dimension,
      chunking: body.chunking && toChunkingSpec(body.chunking),
    });
    res.status(201).json({ collection: collectionView(engine, c) });
  });
  v1.get('/collections', (_req, res) => {
    // A key scoped to collections does not learn that others exist.
    const visible = engine.collections.list().filter((c) => canSeeCollection(res, c.name));
    res.json({ collections: visible.map((c) => collectionView(engine, c)) });
  });
  v1.get('/collections/:name', (req, res) => {
    res.json({ collection: collectionView(engine, engine.collection(param(req, 'name'))) });
  });
  v1.delete('/collections/:name', async (req, res) => {
    await engine.deleteCollection(param(req, 'name'));
    res.status(204).end();
  });

  v1.put('/collections/:name/documents', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name); // 404 before 400: an unknown collection is the first thing to fix
    const body = parse(upsertSchema, req.body);
    res.json(await upsertDocuments(engine, name, body.documents, body.chunking && toChunkingSpec(body.chunking)));
  });
  v1.get('/collections/:name/documents', (req, res) => {
    const c = engine.collection(param(req, 'name'));
    const q = parse(s.listDocumentsQuery, req.query);
    const where = compileOptionalFilter(filterFromQueryString(q.filter));
    const page = where ? searchRepo(engine).page(c.id, decodeCursor(q.cursor), q.limit + 1, where) : engine.docs.page(c.id, decodeCursor(q.cursor), q.limit + 1);
    const more = page.length > q.limit;
    const docs = more ? page.slice(0, q.limit) : page;
    res.json({ documents: docs.map((d) => documentView(d)), next_cursor: more ? encodeCursor(docs[docs.length - 1]!.id) : null });
  });
  v1.get('/collections/:name/documents/:id', (req, res) => {
    const c = engine.collection(param(req, 'name'));
    const id = parse(s.documentId, param(req, 'id'), 'id');
    const q = parse(s.getDocumentQuery, req.query);
    const d = engine.docs.get(c.id, id);
    if (!d) throw createError('DOCUMENT_NOT_FOUND', { collection: c.name, id });
    const view = documentView(d, q.include.includes('vector') ? engine.docs.vectorOf(d.pk) : undefined);
    if (!q.include.includes('chunks')) {
      res.json({ document: view });
      return;
    }
    // How the document was chunked: each chunk's span and text, and whether it has a vector.
    const chunks = engine.docs.chunksOf(d.pk).map((ch) => ({
      index: ch.index,
      start: ch.start,
      end: ch.end,
      text: d.text === null ? null : d.text.slice(ch.start, ch.end),
      embedded: ch.hasVector,
    }));
    res.json({ document: { ...view, chunks } });
  });
  v1.delete('/collections/:name/documents/:id', async (req, res) => {
    await deleteDocument(engine, param(req, 'name'), parse(s.documentId, param(req, 'id'), 'id'));
    res.status(204).end();
  });
}
