// Routes for asynchronous ingest: submit a job under a collection, read, list and cancel jobs.
// A key scoped to collections sees only the jobs of its collections (others answer 404, so it
// does not learn that they exist).
import type { RequestHandler, Response, Router } from 'express';
import type { Job } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import type { JobStore } from '../../storage/index.js';
import { canSeeCollection } from '../auth.js';
import { jsonBody } from '../body.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import { ingestJson, ingestNdjson, isNdjson } from './ingest.js';
import * as s from './schemas.js';
import type { ClusterResult, ProjectResult, RefitResult } from '../../query/index.js';
import { clusterView, decodeCursor, encodeCursor, param, projectView, refitView } from './views.js';

/** The most failed documents a job view lists (the counts are always complete). */
const MAX_ERRORS = 100;

/** A job as the API shows it; jobs without items (cluster) carry their result once done. */
export function jobView({ jobs }: { jobs: JobStore }, j: Job) {
  return {
    id: j.id,
    kind: j.kind,
    collection: j.collection,
    status: j.status,
    total: j.total,
    done: j.done,
    skipped: j.skipped,
    failed: j.failed,
    errors: j.failed > 0 ? jobs.errors(j.id, MAX_ERRORS).map((e) => ({ document_id: e.documentId, message: e.message })) : [],
    error: j.error,
    created_at: j.createdAt,
    started_at: j.startedAt,
    finished_at: j.finishedAt,
    // A task's result is stored as the domain's answer (ClusterResult, ProjectResult), shown as the synchronous answer is.
    ...(j.kind === 'ingest' ? logView(j.result) : { result: j.result === null ? null : taskView(j.kind, j.result) }),
  };
}

/** An ingest job in cluster mode: where its last published batch is in the log (pass `seq` back as min_seq). */
function logView(result: unknown): { log?: { stream: string; seq: number } } {
  return result === null ? {} : { log: result as { stream: string; seq: number } };
}

function taskView(kind: Job['kind'], result: unknown) {
  if (kind === 'project') return projectView(result as ProjectResult);
  if (kind === 'refit') return refitView(result as RefitResult);
  return clusterView(result as ClusterResult);
}

export function jobRoutes(v1: Router, ctx: RouteContext): void {
  const { config, collections, jobs, runner } = ctx;
  // Bulk loads are larger than other requests: their own limit (QUIVER_INGEST_MAX_BODY); NDJSON is bounded per line.
  const json = jsonBody({ limit: config.ingest.maxBodyBytes, budget: ctx.bodyBudget });

  const view = (j: Job) => jobView(ctx, j);
  const visibleJob = (res: Response, id: string): Job => {
    const job = jobs.get(id);
    if (!job || !canSeeCollection(res, job.collection)) throw createError('JOB_NOT_FOUND', { id });
    return job;
  };

  // NDJSON streams (api/v1/ingest.ts); anything else must be JSON.
  const ndjsonOrJson: RequestHandler = async (req, res, next) => {
    if (isNdjson(req)) await ingestNdjson(ctx, view, req, res);
    else if (req.is('application/json')) next();
    else throw createError('UNSUPPORTED_MEDIA_TYPE', { got: req.headers['content-type'] ?? 'none', expected: 'application/json or application/x-ndjson' });
  };
  v1.post('/collections/:name/ingest', ndjsonOrJson, json, ingestJson(ctx, view));

  v1.get('/jobs', (req, res) => {
    const q = parse(s.listJobsQuery, req.query);
    let collectionIds: number[] | undefined;
    if (q.collection !== undefined) {
      const c = collections.find(q.collection);
      if (!c || !canSeeCollection(res, c.name)) throw createError('COLLECTION_NOT_FOUND', { name: q.collection });
      collectionIds = [c.info.id];
    } else {
      const all = collections.list();
      const visible = all.filter((c) => canSeeCollection(res, c.name));
      if (visible.length < all.length) collectionIds = visible.map((c) => c.info.id);
    }
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const page = jobs.list({ collectionIds, status: q.status, kind: q.kind, limit: q.limit + 1, after });
    const more = page.length > q.limit;
    const shown = more ? page.slice(0, q.limit) : page;
    res.json({ jobs: shown.map(view), next_cursor: more ? encodeCursor(shown[shown.length - 1]!.id) : null });
  });

  v1.get('/jobs/:id', (req, res) => {
    res.json({ job: view(visibleJob(res, param(req, 'id'))) });
  });

  v1.post('/jobs/:id/cancel', (req, res) => {
    const job = visibleJob(res, param(req, 'id'));
    res.json({ job: view(runner.cancel(job.id)) });
  });
}
