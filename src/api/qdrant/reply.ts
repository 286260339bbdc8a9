// Owns Qdrant's response envelope: {result, status: "ok", time} for answers (time in seconds),
// {status: {error}, time} for errors, with the HTTP status Quiver's error catalogue gives.
// Warnings (a filter on a payload key that no point has, a query text without known words) ride
// in a top-level "warnings" list of {message} — the shape of Qdrant's collection warnings — which
// Qdrant's clients ignore, and are logged.
import type { Response } from 'express';
import type { Logger } from 'pino';
import type { QuiverError } from '../../errors/index.js';
import type { ErrorReply } from '../surface.js';

/** The Qdrant API version whose subset this surface speaks; the client's compatibility check compares it with its own. */
export const QDRANT_API_VERSION = '1.18.0';

/** When the request started, for the envelope's `time`. */
export function started(res: Response): number {
  return (res.locals.qdrantStarted as number | undefined) ?? performance.now();
}

export function ok(res: Response, result: unknown, warnings: string[] = [], log?: Logger): void {
  const time = (performance.now() - started(res)) / 1000;
  if (warnings.length > 0) log?.warn({ warnings, url: res.req.originalUrl }, 'qdrant request answered with warnings');
  res.json({ result, status: 'ok', time, ...(warnings.length > 0 ? { warnings: warnings.map((message) => ({ message })) } : {}) });
}

export function errorReply(e: QuiverError, reply: ErrorReply): ErrorReply {
  return { ...reply, body: { status: { error: e.message }, time: 0 } };
}
