// Routes that explore a collection by example and by shape: recommend, similar, cluster, project.
import type { Router } from 'express';
import { createError } from '../../errors/index.js';
import { cluster, project, requestDeadline } from '../../query/index.js';
import type { ClusterInput, ProjectInput } from '../../query/index.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import { recommendAnswer } from './answers.js';
import { jobView } from './jobs.js';
import { routedWhole } from './shard-reads.js';
import * as s from './schemas.js';
import { clusterView, filterFromQueryString, param, projectView } from './views.js';

export function exploreRoutes(v1: Router, ctx: RouteContext): void {
  const { config, collections, runner, json, requireJson, cluster: clusterHooks } = ctx;
  // Analyses end just before the request's own timeout, in their worker (query/analysis.ts).
  const deadline = () => requestDeadline(config.requestTimeoutMs);
  v1.post('/collections/:name/recommend', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name'));
    if (clusterHooks?.role === 'api') {
      parse(s.recommendBody, req.body); // a bad body is this node's 400, before asking anyone
      res.json(await routedWhole(clusterHooks, c, 'recommend', req.body, res.locals.minSeq as number | undefined));
      return;
    }
    res.json(await recommendAnswer(c, req.body, deadline()));
  });

  v1.get('/collections/:name/documents/:id/similar', async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const id = parse(s.documentId, param(req, 'id'), 'id');
    const q = parse(s.similarQuery, req.query);
    const filter = filterFromQueryString(q.filter);
    // The same as POST .../recommend with this one example, so an api node routes it the same way.
    const body = { positive: [id], k: q.k, ...(filter === undefined ? {} : { filter }), strategy: 'average_vector', include: ['text', 'metadata'] };
    const minSeq = res.locals.minSeq as number | undefined;
    try {
      res.json(clusterHooks?.role === 'api' ? await routedWhole(clusterHooks, c, 'recommend', body, minSeq) : await recommendAnswer(c, body, deadline()));
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
