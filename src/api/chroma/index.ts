// Chroma's v2 HTTP API (/api/v2), the subset the official chromadb client (3.x) uses, translated
// onto Quiver's collections: system.ts (heartbeat, version, pre-flight checks, the one tenant and
// database), collections.ts (collections by UUID or name, through the storage catalog),
// records.ts (add, upsert, update, get, query, delete, count), where.ts (where and
// where_document as Quiver filters), views.ts (answer shapes, the embedding-function
// configuration, distances). Errors take Chroma's shape {"error": "<Name>", "message": "..."}.
import type { Router } from 'express';
import type { RouteContext } from '../context.js';
import type { ErrorReply, Surface } from '../surface.js';
import { collectionRoutes, findEntry } from './collections.js';
import { recordRoutes } from './records.js';
import { namespaceRoutes, probeRoutes } from './system.js';

/** Chroma's error names by status (the chromadb client tells errors apart by status and shows the message). */
const ERROR_NAMES: Record<number, string> = {
  400: 'InvalidArgumentError',
  401: 'AuthError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  408: 'RequestTimeoutError',
  409: 'UniqueConstraintError',
  413: 'InvalidArgumentError',
  415: 'InvalidArgumentError',
  429: 'RateLimitError',
};

function chromaRoutes(router: Router, ctx: RouteContext): void {
  probeRoutes(router, ctx);
  router.use(ctx.ready);
  namespaceRoutes(router, ctx);
  collectionRoutes(router, ctx);
  recordRoutes(router, ctx);
}

export const chromaSurface: Surface = {
  name: 'chroma',
  prefix: '/api/v2',
  owns: (path) => /^\/api\/v2(\/|$)/i.test(path),
  routes: chromaRoutes,
  errorReply: (e, reply): ErrorReply => ({
    ...reply,
    body: { error: ERROR_NAMES[e.status] ?? (e.status >= 500 ? 'InternalError' : 'InvalidArgumentError'), message: e.message },
  }),
  // Record routes name a collection by UUID, get and delete by name: a key scoped to collections
  // is checked against the name either way. An unknown UUID reads as a name nobody's scope holds.
  resolver: (deps) => (raw) => findEntry(deps.catalog, raw)?.name ?? raw,
};
