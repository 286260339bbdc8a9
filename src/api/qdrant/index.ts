// Qdrant's REST API, at the root as a Qdrant server has it: the subset @qdrant/js-client-rest and
// LangChain's QdrantVectorStore use, translated onto Quiver's collections (collections.ts,
// points.ts, search.ts), in Qdrant's envelope and error shape (reply.ts).
import type { Router } from 'express';
import type { RouteContext } from '../context.js';
import type { Surface } from '../surface.js';
import { collectionRoutes } from './collections.js';
import { pointRoutes } from './points.js';
import { errorReply } from './reply.js';
import { searchRoutes } from './search.js';

function routes(r: Router, ctx: RouteContext): void {
  r.use((req, res, next) => {
    res.locals.qdrantStarted = performance.now();
    next();
  });
  r.use(ctx.ready);
  collectionRoutes(r, ctx);
  pointRoutes(r, ctx);
  searchRoutes(r, ctx);
}

export const qdrantSurface: Surface = {
  name: 'qdrant',
  prefix: '',
  owns: (path) => path === '/' || /^\/collections(\/|$)/i.test(path),
  routes,
  errorReply,
};
