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

const owns = (path: string): boolean => path === '/' || /^\/collections(\/|$)/i.test(path);

function routes(r: Router, ctx: RouteContext): void {
  // Mounted at the root, this router sees every request no other surface answered: only Qdrant's
  // own paths are timed and held back while the server is not ready (others go on to their 404).
  r.use((req, res, next) => {
    if (!owns(req.path)) {
      next();
      return;
    }
    res.locals.qdrantStarted = performance.now();
    ctx.ready(req, res, next);
  });
  collectionRoutes(r, ctx);
  pointRoutes(r, ctx);
  searchRoutes(r, ctx);
}

export const qdrantSurface: Surface = {
  name: 'qdrant',
  prefix: '',
  owns,
  routes,
  errorReply,
};
