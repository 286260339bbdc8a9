// The one place where errors become HTTP responses: {error: {code, message, details?}}.
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { QuiverError, createError } from '../errors/index.js';
import type { FieldIssue } from '../errors/index.js';
import { insufficientStorage, outOfSpaceCode } from '../storage/index.js';
import type { RouteRecord } from './openapi.js';
import type { ErrorReply, Surface } from './surface.js';

/** Parses with a zod schema; failures become VALIDATION_FAILED naming each field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues: FieldIssue[] = r.error.issues.map((i) => {
    const field = [prefix, ...i.path.map(String)].filter((s) => s !== '').join('.') || (prefix || 'body');
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field(s): ${i.keys.join(', ')}`;
    // A record key that fails its own schema: zod says only "Invalid key in record"; say why.
    if (i.code === 'invalid_key' && i.issues.length > 0) message = i.issues.map((k) => k.message).join('; ');
    return { field, message };
  });
  throw createError('VALIDATION_FAILED', { issues });
}

/**
 * The route parameter whose raw path segment express could not percent-decode (e.g. %ZZ, or
 * %ED%A0%80, which is no UTF-8). Express says only "Failed to decode param": the routes the app
 * recorded (app.locals.routes) tell which parameter that segment is.
 */
function undecodableParam(req: Request): string | undefined {
  const routes = (req.app.locals.routes ?? []) as RouteRecord[];
  const segments = req.path.replace(/\/$/, '').split('/');
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    let bad: string | undefined;
    const matches = pattern.every((p, i) => {
      const raw = segments[i]!;
      if (!p.startsWith(':')) return p.toLowerCase() === raw.toLowerCase();
      try {
        decodeURIComponent(raw);
      } catch {
        bad ??= p.slice(1);
      }
      return raw !== '';
    });
    if (matches && bad !== undefined) return bad;
  }
  return undefined;
}

export const notFound: RequestHandler = (req) => {
  throw createError('ROUTE_NOT_FOUND', { method: req.method, path: req.path });
};

/**
 * onStorageFull: told of every 507 INSUFFICIENT_STORAGE, so the disk state can be checked
 * (storage/disk-health.ts). surfaces: a path a surface owns gets the surface's error shape.
 */
export function errorHandler(log: Logger, maxBodyBytes: number, onStorageFull?: (err: unknown) => void, surfaces: readonly Surface[] = []): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    // The request already got 503 REQUEST_TIMEOUT (app.ts); its handler failing to answer too is expected.
    if (res.headersSent && res.locals.timedOut === true) return;
    let e: QuiverError;
    const body = err as { type?: string; status?: number; message?: string; limit?: number };
    if (err instanceof QuiverError) e = err;
    // SQLITE_FULL, ENOSPC, EDQUOT: 507 with our message, never SQLite's.
    else if (outOfSpaceCode(err) !== undefined) e = insufficientStorage(err);
    else if (err instanceof URIError && body.status === 400) {
      // A path segment express could not decode (router's decodeParam): the parameter is the field.
      const name = undecodableParam(req);
      e = createError('VALIDATION_FAILED', { issues: [{ field: name === undefined ? 'path' : `path.${name}`, message: 'not valid percent-encoding (expected %XX escapes of UTF-8)' }] });
    } else if (body?.type === 'entity.too.large') e = createError('PAYLOAD_TOO_LARGE', { limit: body.limit ?? maxBodyBytes });
    else if (body?.type === 'entity.parse.failed') e = createError('INVALID_JSON', { reason: body.message ?? 'parse error' });
    else if (body?.type === 'encoding.unsupported' || body?.type === 'charset.unsupported') {
      e = createError('VALIDATION_FAILED', { issues: [{ field: 'body', message: body.message ?? 'unsupported encoding' }] });
    } else if (typeof body?.status === 'number' && body.status >= 400 && body.status < 500) {
      // body-parser's other client errors (aborted request, bad length): the client's fault.
      e = createError('VALIDATION_FAILED', { issues: [{ field: 'body', message: body.message ?? 'bad request body' }] });
    } else {
      log.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error');
      e = createError('INTERNAL', {});
    }
    if (e.code === 'INSUFFICIENT_STORAGE') onStorageFull?.(e);
    if (e.status >= 500 && e.code !== 'INTERNAL') log.error({ err: e, url: req.originalUrl }, e.message);
    if (res.headersSent) return;
    const details = e.code === 'INTERNAL' ? undefined : e.details;
    let reply: ErrorReply = { status: e.status, body: { error: { code: e.code, message: e.message, ...(details === undefined ? {} : { details }) } }, headers: {} };
    const retryAfter = (e.details as { retryAfter?: unknown } | undefined)?.retryAfter; // QUEUE_FULL, BODY_MEMORY_FULL
    if (typeof retryAfter === 'number') reply.headers!['retry-after'] = String(retryAfter);
    const surface = surfaces.find((s) => s.errorReply !== undefined && s.owns(req.path));
    if (surface !== undefined) reply = surface.errorReply!(e, reply);
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.status(reply.status).json(reply.body);
  };
}
