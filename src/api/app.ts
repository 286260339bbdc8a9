// The express application: middleware, then one module per group of routes (routes/*.ts), which
// only wire validated requests to engine, ingest and query calls; errors of every kind leave
// through errorHandler.
import express from 'express';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../engine/index.js';
import { createError } from '../errors/index.js';
import { errorHandler, notFound } from './errors.js';
import type { RouteContext } from './routes/context.js';
import { collectionRoutes } from './routes/collections.js';
import { queryRoutes } from './routes/query.js';

export function createApp(engine: Engine, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms }, 'request');
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    res.status(engine.isReady ? 200 : 503).json({ status: engine.status });
  });

  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) throw createError('UNSUPPORTED_MEDIA_TYPE', { got: req.headers['content-type'] ?? 'none' });
    next();
  };
  const ready: RequestHandler = (_req, _res, next) => {
    if (!engine.isReady) throw createError('NOT_READY', { reason: `server is ${engine.status}` });
    next();
  };
  const ctx: RouteContext = { engine, log, requireJson, json: express.json({ limit: engine.config.maxBodyBytes, type: () => true }) };

  const v1 = express.Router();
  v1.use(ready);
  collectionRoutes(v1, ctx);
  queryRoutes(v1, ctx);

  app.use('/v1', v1);
  app.use(notFound);
  app.use(errorHandler(log, engine.config.maxBodyBytes));
  return app;
}
