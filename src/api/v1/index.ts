// Quiver's own HTTP API, version 1: routes, request schemas (schemas.ts) and views (views.ts)
// that translate its JSON shapes to and from the domain types the services speak.
import type { Router } from 'express';
import { adminRoutes } from './admin.js';
import { answerRoutes } from './answer.js';
import { collectionRoutes } from './collections.js';
import { clusterGate } from '../cluster-gate.js';
import type { RouteContext } from '../context.js';
import type { Surface } from '../surface.js';
import { exploreRoutes } from './explore.js';
import { jobRoutes } from './jobs.js';
import { queryRoutes } from './query.js';

function v1Routes(v1: Router, ctx: RouteContext): void {
  v1.use(ctx.ready);
  if (ctx.cluster) v1.use('/collections/:name', clusterGate(ctx.cluster));
  collectionRoutes(v1, ctx);
  queryRoutes(v1, ctx);
  answerRoutes(v1, ctx);
  exploreRoutes(v1, ctx);
  adminRoutes(v1, ctx);
  jobRoutes(v1, ctx);
}

export const quiverSurface: Surface = {
  name: 'quiver',
  prefix: '/v1',
  owns: (path) => /^\/v1(\/|$)/i.test(path),
  routes: v1Routes,
};
