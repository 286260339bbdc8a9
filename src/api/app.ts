// The express application: routes only wire validated requests to engine, ingest and query
// calls; errors of every kind leave through errorHandler.
import express from 'express';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../engine/index.js';
import { createError } from '../errors/index.js';
import type { Collection, DocumentRow } from '../storage/index.js';
import { deleteDocument, upsertDocuments } from '../ingest/index.js';
import { queryCollection } from '../query/index.js';
import { errorHandler, notFound, parse } from './errors.js';
import * as s from './schemas.js';

function collectionView(engine: Engine, c: Collection) {
  return {
    name: c.name,
    metric: c.metric,
    dimension: c.dimension,
    embedder: c.embedder,
    document_count: engine.collections.documentCount(c.id),
    vector_count: engine.indexes.get(c.id)?.size ?? null,
    hnsw: { m: c.hnsw.m, ef_construction: c.hnsw.efConstruction },
    created_at: c.createdAt,
  };
}

function documentView(d: DocumentRow, vector?: Float32Array | null) {
  return {
    id: d.id,
    text: d.text,
    metadata: d.metadata,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    ...(vector !== undefined ? { vector: vector ? Array.from(vector) : null } : {}),
  };
}

/** Opaque cursors: clients pass back what they got; the encoding may change. */
function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ a: lastId })).toString('base64url');
}
function decodeCursor(cursor: string | undefined): string {
  if (cursor === undefined) return '';
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    if (typeof v.a === 'string') return v.a;
  } catch {
    // fall through
  }
  throw createError('VALIDATION_FAILED', { issues: [{ field: 'cursor', message: 'not a cursor returned by this endpoint' }] });
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

export function createApp(engine: Engine, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms }, 'request');
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    res.status(engine.isReady ? 200 : 503).json({ status: engine.status });
  });

  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) throw createError('UNSUPPORTED_MEDIA_TYPE', { got: req.headers['content-type'] ?? 'none' });
    next();
  };
  const ready: RequestHandler = (_req, _res, next) => {
    if (!engine.isReady) throw createError('NOT_READY', { reason: `server is ${engine.status}` });
    next();
  };
  const json = express.json({ limit: engine.config.maxBodyBytes, type: () => true });
  const upsertSchema = s.upsertBody(engine.config.maxDocumentsPerRequest);

  const v1 = express.Router();
  v1.use(ready);

  v1.post('/collections', requireJson, json, async (req, res) => {
    const body = parse(s.createCollectionBody, req.body);
    const embedder = body.embedder ?? { provider: engine.config.defaultEmbedder };
    const c = await engine.createCollection({ name: body.name, metric: body.metric, embedder, dimension: body.dimension });
    res.status(201).json({ collection: collectionView(engine, c) });
  });
  v1.get('/collections', (_req, res) => {
    res.json({ collections: engine.collections.list().map((c) => collectionView(engine, c)) });
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
    res.json(await upsertDocuments(engine, name, body.documents));
  });
  v1.get('/collections/:name/documents', (req, res) => {
    const c = engine.collection(param(req, 'name'));
    const q = parse(s.listDocumentsQuery, req.query);
    const page = engine.docs.page(c.id, decodeCursor(q.cursor), q.limit + 1);
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
    res.json({ document: documentView(d, q.include.includes('vector') ? engine.docs.vectorOf(d.pk) : undefined) });
  });
  v1.delete('/collections/:name/documents/:id', async (req, res) => {
    await deleteDocument(engine, param(req, 'name'), parse(s.documentId, param(req, 'id'), 'id'));
    res.status(204).end();
  });
  v1.post('/collections/:name/query', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name);
    const q = parse(s.queryBody, req.body);
    res.json(await queryCollection(engine, name, q));
  });

  app.use('/v1', v1);
  app.use(notFound);
  app.use(errorHandler(log, engine.config.maxBodyBytes));
  return app;
}
