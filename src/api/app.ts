// The express application: middleware, then each API surface's routes (surface.ts: Quiver's own
// v1/, openai/, chroma/, qdrant/), which only translate validated requests into calls on the
// services in ApiDeps; errors of every kind leave through errorHandler, in the shape of the
// surface that owns the path.
import express from 'express';
import type { RequestHandler } from 'express';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { createError } from '../errors/index.js';
import type { ApiDeps } from './deps.js';
import { errorHandler, notFound } from './errors.js';
import { readinessFields } from '../storage/index.js';
import { SURFACES, chromaSurface } from './surfaces.js';
import type { CollectionResolver } from './auth.js';
import cors from 'cors';
import helmet from 'helmet';
import { requestContext } from '../log.js';
import { authenticate, principalOf } from './auth.js';
import { hasBody, jsonBody } from './body.js';
import { createMetrics } from './metrics.js';
import { DOCS_CSP, DOCS_HTML, buildOpenApiDocument, recordRoutes } from './openapi.js';
import { studioRouter } from './studio.js';
import type { RouteRecord } from './openapi.js';

/**
 * The headers a middleware sets on every response, computed once and then set on each: helmet
 * builds the same dozen headers for every request (no nonces in its default configuration), which
 * cost ~6.5 µs a request against ~1.5 µs to set them from a list (benchmarks/overhead.ts
 * --only http-steps). Only for middlewares whose headers depend on nothing in the request.
 */
function fixedHeaders(middleware: RequestHandler): RequestHandler {
  const req = new http.IncomingMessage(new net.Socket());
  const res = new http.ServerResponse(req);
  let called = false;
  // helmet's handlers only read the response; express's types for it are wider than a bare ServerResponse.
  (middleware as unknown as (q: http.IncomingMessage, r: http.ServerResponse, n: () => void) => void)(req, res, () => (called = true));
  if (!called) throw new Error('fixedHeaders: the middleware did not call next()');
  const headers = Object.entries(res.getHeaders()).map(([name, value]) => [name, Array.isArray(value) ? value : String(value)] as const);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/** A request slower than this is logged at info even without QUIVER_ACCESS_LOG. */
const SLOW_REQUEST_MS = 1000;

export function createApp(deps: ApiDeps): express.Express {
  const { config, log, readiness, disk } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  // --- middleware (security and operations, issue 6) ---
  // Every route registered on the app or on v1 is recorded, for the OpenAPI coverage test.
  const routes: RouteRecord[] = [];
  app.locals.routes = routes;
  recordRoutes(app, '', routes);
  const metrics = createMetrics(deps);
  app.locals.metrics = metrics;
  app.use(metrics.middleware);
  // A request id on every log line of the request (log.ts mixin) and in the x-request-id header;
  // a caller's own id is kept when it is short and plain.
  // Each request ends with a `request completed` line: at info with QUIVER_ACCESS_LOG, else at
  // debug (at info, the line and its write were ~5% of a query's server CPU: benchmarks/FINDINGS.md). Answers
  // that an operator wants to see without an access log stay at info: 5xx (with the status, time
  // and key the error line of errors.ts lacks) and requests slower than SLOW_REQUEST_MS. 4xx stay
  // at debug: they are the client's mistake, told in the answer, and a scanner's 401s would flood.
  const completedLevel = config.accessLog ? 'info' : 'debug';
  app.use((req, res, next) => {
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : crypto.randomUUID();
    res.setHeader('x-request-id', reqId);
    const started = process.hrtime.bigint();
    requestContext.run({ reqId }, () => {
      const probe = req.path === '/healthz' || req.path === '/readyz';
      log.debug({ method: req.method, url: req.originalUrl }, 'request received');
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const level = probe ? 'debug' : res.statusCode >= 500 || ms >= SLOW_REQUEST_MS ? 'info' : completedLevel;
        if (!log.isLevelEnabled(level)) return;
        log[level]({ method: req.method, url: req.originalUrl, status: res.statusCode, ms, key: principalOf(res).fingerprint }, 'request completed');
      });
      next();
    });
  });
  app.use(fixedHeaders(helmet()));
  if (config.corsOrigins.length > 0) {
    const any = config.corsOrigins.includes('*');
    app.use(cors({ origin: any ? '*' : config.corsOrigins, exposedHeaders: ['x-request-id'], maxAge: 600 }));
  }
  // A request not answered after QUIVER_REQUEST_TIMEOUT_MS gets a 503 (or 408) instead of a hanging client.
  // Backups are exempt: they are long by nature and answer only when the copy is complete.
  app.use((req, res, next) => {
    if (req.path.toLowerCase().startsWith('/v1/admin/')) {
      next();
      return;
    }
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.locals.timedOut = true;
      // A body still arriving never reached a handler whole, so nothing was written (408); a
      // handler that had the whole request may still complete its write (503).
      const e = createError(req.complete ? 'REQUEST_TIMEOUT' : 'BODY_TIMEOUT', { ms: config.requestTimeoutMs });
      res.setHeader('connection', 'close');
      res.status(e.status).json({ error: { code: e.code, message: e.message, details: e.details } });
    }, config.requestTimeoutMs);
    res.on('close', () => clearTimeout(timer));
    // A streaming handler (NDJSON ingest) restarts the clock as its body makes progress.
    res.locals.rearmTimeout = () => timer.refresh();
    next();
  });
  // While shutting down, answered keep-alive connections are closed so clients go elsewhere.
  app.use((_req, res, next) => {
    if (!readiness.isReady && readiness.status !== 'starting') res.setHeader('connection', 'close');
    next();
  });
  const chromaIds = chromaSurface.resolver?.(deps);
  const resolve: CollectionResolver = (raw, by) => (by === 'chroma' && chromaIds !== undefined ? chromaIds(raw, by) : raw);
  app.use(authenticate(config.apiKeys, resolve));
  app.get('/metrics', metrics.handler);
  // Cluster mode: an ingest worker serves no data, only its probes and metrics (docs/cluster.md).
  const dataApi = deps.cluster?.role !== 'worker';
  const openapi = buildOpenApiDocument(config);
  if (dataApi) {
    app.get('/openapi.json', (_req, res) => {
      res.json(openapi);
    });
    app.get('/docs', (_req, res) => {
      res.setHeader('content-security-policy', DOCS_CSP);
      res.type('html').send(DOCS_HTML);
    });
    // Quiver Studio (issue 15): a page and its assets, public; its data comes through /v1 with a key.
    app.use(studioRouter(routes));
  }
  // --- end of issue 6 middleware ---

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // A full data-dir disk (storage/disk-health.ts) is 503 too, body {"status":"ready","storage":"full",
  // "full_since","free_bytes"}: a server that refuses every write cannot do its whole job, and 503 is
  // what orchestrators and the compose healthcheck act on (alert, mark unhealthy) while /healthz
  // stays 200, so nothing restarts it (a restart frees no space). /v1 checks readiness only, so
  // clients that reach the server keep reading; one that routes reads on /readyz can tell this
  // case from starting or draining by status "ready" with storage "full".
  app.get('/readyz', (_req, res) => {
    const storage = disk.status();
    // Cluster mode: a replica far behind its streams is not ready either (docs/cluster.md, read path).
    const behind = deps.cluster?.notReadyReason();
    const cluster = deps.cluster && { role: deps.cluster.role, lag: deps.cluster.lag(), ...(deps.cluster.role === 'worker' || deps.cluster.role === 'all' ? { workers: deps.cluster.workerStats() } : {}), ...(behind && { not_ready: behind }) };
    const body = { status: readiness.status, ...readinessFields(storage), ...(cluster && { cluster }) };
    res.status(readiness.isReady && !storage.full && !behind ? 200 : 503).json(body);
  });

  // req.is parses the Content-Type anew for every request; its answer depends only on the header
  // (and on there being a body), so it is remembered per distinct header (a bounded few).
  const jsonTypes = new Map<string, boolean>();
  const requireJson: RequestHandler = (req, _res, next) => {
    const type = req.headers['content-type'];
    let json = type === undefined || !hasBody(req) ? false : jsonTypes.get(type);
    if (json === undefined) {
      json = Boolean(req.is('application/json'));
      if (jsonTypes.size < 64) jsonTypes.set(type!, json);
    }
    if (!json) throw createError('UNSUPPORTED_MEDIA_TYPE', { got: type ?? 'none' });
    next();
  };
  const ready: RequestHandler = (_req, _res, next) => {
    if (!readiness.isReady) throw createError('NOT_READY', { reason: `server is ${readiness.status}` });
    next();
  };
  const json = jsonBody({ limit: config.maxBodyBytes, budget: deps.bodyBudget });

  for (const surface of dataApi ? SURFACES : []) {
    const router = recordRoutes(express.Router(), surface.prefix, routes, surface.name);
    // Cluster mode: an api-role node holds the catalog but no documents, and the Chroma and Qdrant
    // surfaces are not routed to replicas: refused here rather than answered from an empty store.
    if (deps.cluster?.role === 'api' && (surface.name === 'chroma' || surface.name === 'qdrant')) {
      router.use((req, _res, next) => {
        // The Qdrant router is mounted at the root: other surfaces' paths pass on to their 404.
        if (!surface.owns(`${surface.prefix}${req.path}`)) return next();
        throw createError('CLUSTER_UNSUPPORTED', { what: `the ${surface.name === 'chroma' ? 'Chroma' : 'Qdrant'} API on an api-role node (it holds no documents; use a replica)` });
      });
    }
    surface.routes(router, { ...deps, requireJson, json, ready });
    app.use(surface.prefix === '' ? '/' : surface.prefix, router);
  }
  app.use(notFound);
  app.use(errorHandler(log, config.maxBodyBytes, (err) => disk.noteError(err), SURFACES));
  return app;
}
