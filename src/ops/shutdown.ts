// Owns the order of a clean stop (SIGTERM/SIGINT): turn unready (/readyz 503, new /v1 requests
// 503), stop accepting connections, let in-flight requests finish within a bound, run the
// registered stop hooks (waiting for a start-up in progress), then the lifecycle's close (stop
// the job runner, save indexes, close the database), exit 0. Acknowledged writes are already durable in SQLite; this only makes the next start fast.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.js';

export interface ShutdownOptions {
  server: Server;
  lifecycle: Pick<Lifecycle, 'drain' | 'close'>;
  log: Logger;
  /** How long in-flight requests may take before their connections are cut. */
  timeoutMs: number;
  /** Run after requests drained and before the lifecycle closes, in order. */
  hooks?: (() => Promise<void> | void)[];
  exit?: (code: number) => void;
}

export function installShutdown(opts: ShutdownOptions): (signal: string) => Promise<void> {
  const { server, lifecycle, log, timeoutMs } = opts;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping: Promise<void> | undefined;

  const drainConnections = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive sockets become idle as their last response ends; close them as they do rather
    // than waiting for the keep-alive timeout.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([closed.then(() => false), timedOut]);
    clearInterval(sweep);
    clearTimeout(timer);
    if (late) {
      log.warn({ timeoutMs }, 'requests still running at the shutdown deadline (QUIVER_SHUTDOWN_TIMEOUT_MS); closing their connections');
      server.closeAllConnections();
    }
  };

  const stop = (signal: string): Promise<void> => {
    if (stopping) {
      log.info({ signal }, 'already shutting down');
      return stopping;
    }
    log.info({ signal }, 'shutting down');
    lifecycle.drain();
    stopping = (async () => {
      try {
        await drainConnections();
        for (const hook of opts.hooks ?? []) await hook();
        await lifecycle.close();
        log.info('stopped');
        exit(0);
      } catch (err) {
        log.error({ err }, 'error while shutting down');
        exit(1);
      }
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return stop;
}

/** Whether an address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}
