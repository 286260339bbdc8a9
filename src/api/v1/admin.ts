// Routes for operators (admin role): online backup; in cluster mode, a snapshot on demand.
import type { RequestHandler, Router } from 'express';
import { createError } from '../../errors/index.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import * as s from './schemas.js';

/** The body is optional, so no body is fine (req.is gives null); a body that is not JSON is a 415. */
const jsonIfAny: RequestHandler = (req, _res, next) => {
  if (req.is('application/json') === false) throw createError('UNSUPPORTED_MEDIA_TYPE', { got: req.headers['content-type'] ?? 'none' });
  next();
};

export function adminRoutes(v1: Router, { backup, json, cluster }: RouteContext): void {
  v1.post('/admin/backup', jsonIfAny, json, async (req, res) => {
    const body = parse(s.backupBody, req.body ?? {});
    res.status(201).json({ backup: await backup(body.path) });
  });
  v1.get('/admin/cluster/nodes', async (_req, res) => {
    if (!cluster) throw createError('NOT_CLUSTER_MODE', { what: 'the cluster\'s nodes' });
    res.json(await cluster.nodes());
  });
  v1.post('/admin/cluster/snapshot', async (_req, res) => {
    if (!cluster) throw createError('NOT_CLUSTER_MODE', { what: 'a cluster snapshot' });
    const { id, node, created_at, bytes, collections } = await cluster.snapshot();
    res.status(201).json({ snapshot: { id, node, created_at, bytes, collections } });
  });
}
