// Routes for asynchronous ingest: submit a job under a collection, read, list and cancel jobs.
// A key scoped to collections sees only the jobs of its collections (others answer 404, so it
// does not learn that they exist).
import express from 'express';
import type { Response, Router } from 'express';
import { createError } from '../../errors/index.js';
import type { JobRunner } from '../../ingest/index.js';
import { toChunkingSpec } from '../../ingest/index.js';
import type { JobRow } from '../../storage/index.js';
import type { Engine } from '../../engine/index.js';
import { canSeeCollection } from '../auth.js';
import { parse } from '../errors.js';
import * as s from '../schemas.js';
import { decodeCursor, encodeCursor, param } from '../views.js';
import type { RouteContext } from './context.js';

/** The most failed documents a job view lists (the counts are always complete). */
const MAX_ERRORS = 100;

/** A job as the API shows it; jobs without items (cluster) carry their result once done. */
export function jobView(engine: Engine, j: JobRow) {
  return {
    id: j.id,
    kind: j.kind,
    collection: j.collection,
    status: j.status,
    total: j.total,
    done: j.done,
    skipped: j.skipped,
    failed: j.failed,
    errors: j.failed > 0 ? engine.jobs.errors(j.id, MAX_ERRORS) : [],
    error: j.error,
    created_at: j.createdAt,
    started_at: j.startedAt,
    finished_at: j.finishedAt,
    ...(j.kind === 'ingest' ? {} : { result: j.result }),
  };
}

export function jobRoutes(v1: Router, { engine, requireJson }: RouteContext, runner: JobRunner): void {
  const bodySchema = s.ingestBody(engine.config.ingest.maxDocuments);
  // Bulk loads are larger than other requests: their own limit (QUIVER_INGEST_MAX_BODY).
  const json = express.json({ limit: engine.config.ingest.maxBodyBytes, type: () => true });

  const view = (j: JobRow) => jobView(engine, j);
  const visibleJob = (res: Response, id: string): JobRow => {
    const job = engine.jobs.get(id);
    if (!job || !canSeeCollection(res, job.collection)) throw createError('JOB_NOT_FOUND', { id });
    return job;
  };

  v1.post('/collections/:name/ingest', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name); // 404 before 400
    const body = parse(bodySchema, req.body);
    const job = await runner.submit(name, body.documents, body.chunking && toChunkingSpec(body.chunking));
    res.status(202).location(`/v1/jobs/${job.id}`).json({ job: view(job) });
  });

  v1.get('/jobs', (req, res) => {
    const q = parse(s.listJobsQuery, req.query);
    let collectionIds: number[] | undefined;
    if (q.collection !== undefined) {
      const c = engine.collections.get(q.collection);
      if (!c || !canSeeCollection(res, c.name)) throw createError('COLLECTION_NOT_FOUND', { name: q.collection });
      collectionIds = [c.id];
    } else {
      const all = engine.collections.list();
      const visible = all.filter((c) => canSeeCollection(res, c.name));
      if (visible.length < all.length) collectionIds = visible.map((c) => c.id);
    }
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const page = engine.jobs.list({ collectionIds, status: q.status, kind: q.kind, limit: q.limit + 1, after });
    const more = page.length > q.limit;
    const jobs = more ? page.slice(0, q.limit) : page;
    res.json({ jobs: jobs.map(view), next_cursor: more ? encodeCursor(jobs[jobs.length - 1]!.id) : null });
  });

  v1.get('/jobs/:id', (req, res) => {
    res.json({ job: view(visibleJob(res, param(req, 'id'))) });
  });

  v1.post('/jobs/:id/cancel', (req, res) => {
    const job = visibleJob(res, param(req, 'id'));
    res.json({ job: view(runner.cancel(job.id)) });
  });
}
