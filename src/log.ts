// The process logger: structured JSON lines on stdout (pino). Lines written while a request is
// being handled carry its id (reqId), whichever module logs them: the id travels in
// AsyncLocalStorage and pino's mixin adds it, so lower layers need no logger passed down.
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino } from 'pino';
import type { Logger } from 'pino';

export const requestContext = new AsyncLocalStorage<{ reqId: string }>();

/** A logger writing JSON lines to stdout, or to `destination` (tests capture a server's lines). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => {
      const ctx = requestContext.getStore();
      return ctx ? { reqId: ctx.reqId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
