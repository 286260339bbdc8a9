// Routes that explore a collection by example and by shape: recommend, similar, cluster, project.
import type { Router } from 'express';
import { createError } from '../../errors/index.js';
import { recommend } from '../../query/recommend.js';
import { cluster } from '../../query/cluster.js';
import { compileOptionalFilter } from '../../query/filter.js';
import type { ClusterInput } from '../../query/cluster.js';
import { jobView } from './jobs.js';
import { project } from '../../query/project.js';
import { jobDeadline } from '../../query/analysis.js';
import { parse } from '../errors.js';
import * as s from '../schemas.js';
import type { RouteContext } from './context.js';
import { param } from '../views.js';

/** A filter passed in a query string, as JSON. */
export function filterFromQueryString(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'filter', message: 'expected a JSON object (URL-encoded)' }] });
  }
}

export function exploreRoutes(v1: Router, { engine, json, requireJson }: RouteContext): void {
  v1.post('/collections/:name/recommend', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name);
    res.json(await recommend(engine, name, parse(s.recommendBody, req.body)));
  });

  v1.get('/collections/:name/documents/:id/similar', async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name);
    const id = parse(s.documentId, param(req, 'id'), 'id');
    const q = parse(s.similarQuery, req.query);
    const filter = filterFromQueryString(q.filter);
    try {
      res.json(await recommend(engine, name, { positive: [id], negative: [], k: q.k, filter, strategy: 'average_vector', include: ['text', 'metadata'] }));
    } catch (err) {
      // The id is in the path here: answer as for GET .../documents/{id}.
      if ((err as { code?: string }).code === 'DOCUMENTS_NOT_FOUND') throw createError('DOCUMENT_NOT_FOUND', { collection: name, id });
      throw err;
    }
  });

  // Large clusterings run as jobs (the runner calls this; it is not a request any more by then).
  // Its deadline is QUIVER_ANALYSIS_JOB_TIMEOUT_MS, not the request timeout: no client is waiting.
  engine.ingest.registerTask('cluster', (c, params) => cluster(engine, c.name, params as ClusterInput, jobDeadline(engine.config.analysisJobTimeoutMs)));
  v1.post('/collections/:name/cluster', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name);
    const { async: asJob, ...input } = parse(s.clusterBody, req.body);
    if (asJob) {
      compileOptionalFilter(input.filter); // a bad filter is a 400 now, not a failed job later
      const job = engine.ingest.submitTask(name, 'cluster', input);
      res.status(202).location(`/v1/jobs/${job.id}`).json({ job: jobView(engine, job) });
      return;
    }
    res.json(await cluster(engine, name, input));
  });

  v1.post('/collections/:name/project', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name);
    res.json(await project(engine, name, parse(s.projectBody, req.body)));
  });
}
