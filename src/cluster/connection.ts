// Owns the connection to NATS: connects with the configured servers and credentials, checks that
// JetStream answers, and turns "cannot reach it" into one clear start-up error naming the
// variable to fix. Once connected, the client reconnects by itself forever (a NATS node may die
// and come back); the status changes are logged.
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/index.js';

/** Cluster mode cannot start: NATS is unreachable, refuses the credentials, or has no JetStream. */
export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}

const CONNECT_TIMEOUT_MS = 10_000;
/** How long start-up asks a JetStream that is not answering yet (one that is off is reported at once). */
const JETSTREAM_PATIENCE_MS = 120_000;

export async function connectNats(cfg: ClusterConfig, log: Logger): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const where = `${cfg.servers.join(', ')} (QUIVER_NATS_URL)`;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: cfg.servers,
      user: cfg.user,
      pass: cfg.password,
      token: cfg.token,
      name: `quiver-${cfg.role}`,
      timeout: CONNECT_TIMEOUT_MS,
      // Once connected, never give up: writes answer 503 while NATS is away and work again after.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (err) {
    throw new ClusterStartError(`cannot connect to NATS at ${where}: ${reason(err)}`);
  }
  let jsm: JetStreamManager;
  const deadline = Date.now() + JETSTREAM_PATIENCE_MS;
  for (;;) {
    try {
      jsm = await jetstreamManager(nc, { timeout: CONNECT_TIMEOUT_MS });
      await jsm.getAccountInfo();
      break;
    } catch (err) {
      // A timeout or "temporarily unavailable" is JetStream settling (a NATS node just killed or
      // back, a leader being elected): wait for it. "jetstream is not enabled" is the operator's
      // to fix, now.
      if (!/not enabled/i.test(reason(err)) && Date.now() < deadline) {
        log.warn({ err: reason(err) }, 'JetStream did not answer yet (an election?); asking again');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      await nc.close().catch(() => undefined);
      throw new ClusterStartError(`NATS at ${where} answers but JetStream does not (is it started with JetStream on, and does the cluster have a quorum?): ${reason(err)}`);
    }
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') log.warn({ nats: s }, 'NATS connection lost; reconnecting');
      else if (s.type === 'reconnect') log.info({ nats: s }, 'NATS connection back');
    }
  })().catch(() => undefined);
  log.info({ servers: cfg.servers, role: cfg.role }, 'connected to NATS JetStream');
  return { nc, jsm };
}

export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
