// Routes for collections and their documents.
import type { Router } from 'express';
import { createError } from '../../errors/index.js';
import { canSeeCollection } from '../auth.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import { refitRefusal } from '../../query/index.js';
import { jobView } from './jobs.js';
import * as s from './schemas.js';
import { routedGet, routedPage } from './shard-reads.js';
import { collectionView, decodeCursor, documentBody, documentView, encodeCursor, filterFromQueryString, param, toChunkingSpec } from './views.js';

export function collectionRoutes(v1: Router, ctx: RouteContext): void {
  const { config, collections, runner, json, requireJson, cluster } = ctx;
  const upsertSchema = s.upsertBody(config.maxDocumentsPerRequest);

  v1.post('/collections', requireJson, json, async (req, res) => {
    const body = parse(s.createCollectionBody, req.body);
    const input = {
      name: body.name,
      metric: body.metric,
      embedder: body.embedder ?? { provider: config.defaultEmbedder },
      dimension: body.dimension,
      chunking: body.chunking && toChunkingSpec(body.chunking),
      reduce: body.reduce && {
        method: body.reduce.method,
        dimensions: body.reduce.dimensions,
        fitOn: body.reduce.fit_on ?? s.defaultFitOn(body.reduce.dimensions),
        keepFull: body.reduce.keep_full,
      },
    };
    // Each replica would fit its own projection, and the refit job is local: not through the log yet.
    if (cluster && input.reduce) throw createError('CLUSTER_UNSUPPORTED', { what: 'a reduced collection' });
    if (!cluster && body.shards !== undefined) {
      throw createError('VALIDATION_FAILED', { issues: [{ field: 'shards', message: 'a collection is sharded in cluster mode only (QUIVER_NATS_URL); leave shards out' }] });
    }
    const c = cluster ? await cluster.createCollection(input, { shards: body.shards }) : await collections.create(input);
    res.status(201).json({ collection: await collectionView(c) });
  });
  v1.get('/collections', async (_req, res) => {
    // A key scoped to collections does not learn that others exist.
    const visible = collections.list().filter((c) => canSeeCollection(res, c.name));
    res.json({ collections: await Promise.all(visible.map(collectionView)) });
  });
  v1.get('/collections/:name', async (req, res) => {
    res.json({ collection: await collectionView(collections.get(param(req, 'name'))) });
  });
  // Refits a reduced collection's projection on its kept full vectors and rebuilds its index (query/reduce.ts), as a job.
  v1.post('/collections/:name/reduce/refit', (req, res) => {
    const c = collections.get(param(req, 'name'));
    const refusal = refitRefusal(c);
    if (refusal) throw createError('REFIT_REFUSED', { collection: c.name, reason: refusal });
    const job = runner.submitTask(c.name, 'refit', { reason: 'requested' });
    res.status(202).location(`/v1/jobs/${job.id}`).json({ job: jobView(ctx, job) });
  });
  v1.delete('/collections/:name', async (req, res) => {
    if (cluster) await cluster.deleteCollection(param(req, 'name'));
    else await collections.delete(param(req, 'name'));
    res.status(204).end();
  });

  v1.put('/collections/:name/documents', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name')); // 404 before 400: an unknown collection is the first thing to fix
    const body = parse(upsertSchema, req.body);
    if (cluster) {
      // Cluster mode: 202 once the log acknowledged the batch; the replicas apply it (docs/cluster.md).
      c.validate(body.documents);
      await c.embedder(); // a missing model is the caller's 4xx now, as standalone
      const at = await cluster.publishUpsert(c, body.documents, body.chunking && toChunkingSpec(body.chunking));
      res.status(202).json({ accepted: body.documents.length, stream: at.stream, seq: at.seq });
      return;
    }
    const r = await c.write(body.documents, { onError: 'reject-batch', chunking: body.chunking && toChunkingSpec(body.chunking) });
    res.json({ created: r.created, updated: r.updated, unchanged: r.unchanged, embedded: r.embedded, not_embedded: r.notEmbedded });
  });
  v1.get('/collections/:name/documents', async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const q = parse(s.listDocumentsQuery, req.query);
    const filter = filterFromQueryString(q.filter);
    const compiled = c.compileFilter(filter);
    const after = decodeCursor(q.cursor);
    const page = cluster?.role === 'api' ? await routedPage(cluster, c, after, q.limit + 1, filter, res.locals.minSeq as number | undefined) : c.page(after, q.limit + 1, compiled).map((d) => documentView(d));
    const more = page.length > q.limit;
    const docs = more ? page.slice(0, q.limit) : page;
    res.json({ documents: docs, next_cursor: more ? encodeCursor(docs[docs.length - 1]!.id) : null });
  });
  v1.get('/collections/:name/documents/:id', async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const id = parse(s.documentId, param(req, 'id'), 'id');
    const q = parse(s.getDocumentQuery, req.query);
    if (cluster?.role === 'api') {
      res.json(await routedGet(cluster, c, id, q.include, res.locals.minSeq as number | undefined));
      return;
    }
    res.json(documentBody(c, id, q.include));
  });
  v1.delete('/collections/:name/documents/:id', async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const id = parse(s.documentId, param(req, 'id'), 'id');
    if (cluster) {
      const at = await cluster.publishDelete(c, [id]);
      res.status(202).json({ accepted: 1, stream: at.stream, seq: at.seq });
      return;
    }
    await c.deleteDocument(id);
    res.status(204).end();
  });
}
