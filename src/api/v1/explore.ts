// Routes that explore a collection by example and by shape: recommend, similar, cluster, project.
import type { Router } from 'express';
import { createError } from '../../errors/index.js';
import { cluster, project, recommend, requestDeadline } from '../../query/index.js';
import type { ClusterInput, ProjectInput } from '../../query/index.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import { jobView } from './jobs.js';
import * as s from './schemas.js';
import { clusterView, filterFromQueryString, param, projectView, searchView } from './views.js';

export function exploreRoutes(v1: Router, ctx: RouteContext): void {
  const { config, collections, runner, json, requireJson } = ctx;
  // Analyses end just before the request's own timeout, in their worker (query/analysis.ts).
  const deadline = () => requestDeadline(config.requestTimeoutMs);
  v1.post('/collections/:name/recommend', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name'));
    res.json(searchView(await recommend(c, parse(s.recommendBody, req.body), deadline())));
  });

  v1.get('/collections/:name/documents/:id/similar', async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const id = parse(s.documentId, param(req, 'id'), 'id');
    const q = parse(s.similarQuery, req.query);
    const filter = filterFromQueryString(q.filter);
    try {
      res.json(searchView(await recommend(c, { positive: [id], negative: [], k: q.k, filter, strategy: 'average_vector', include: ['text', 'metadata'] }, deadline())));
    } catch (err) {
      // The id is in the path here: answer as for GET .../documents/{id}.
      if ((err as { code?: string }).code === 'DOCUMENTS_NOT_FOUND') throw createError('DOCUMENT_NOT_FOUND', { collection: c.name, id });
      throw err;
    }
  });

  v1.post('/collections/:name/cluster', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const { async: asJob, include_members: includeMembers, ...rest } = parse(s.clusterBody, req.body);
    const input: ClusterInput = { ...rest, includeMembers };
    if (asJob) {
      c.compileFilter(input.filter); // a bad filter is a 400 now, not a failed job later
      const job = runner.submitTask(c.name, 'cluster', input);
      res.status(202).location(`/v1/jobs/${job.id}`).json({ job: jobView(ctx, job) });
      return;
    }
    res.json(clusterView(await cluster(c, input, deadline())));
  });

  v1.post('/collections/:name/project', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const { async: asJob, n_neighbors: neighbours = 15, min_dist: minDist = 0.1, include, ...rest } = parse(s.projectBody, req.body);
    const input: ProjectInput = { ...rest, neighbours, minDist, includeMetadata: include.includes('metadata') };
    if (asJob) {
      c.compileFilter(input.filter); // a bad filter is a 400 now, not a failed job later
      const job = runner.submitTask(c.name, 'project', input);
      res.status(202).location(`/v1/jobs/${job.id}`).json({ job: jobView(ctx, job) });
      return;
    }
    res.json(projectView(await project(c, input, deadline())));
  });
}
