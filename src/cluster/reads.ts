// Reads over the cluster (docs/cluster.md, "Read path"): a replica answers the read requests of
// each shard it holds on the subject quiver.q.<name>.<suffix>.s<k>, in the queue group
// quiver-read, so one replica of each shard answers each request; the api node asks with NATS
// request/reply. What a request means is the handler's business (the composition root passes
// the api layer's); this file is the transport: min_seq waits on the replica, errors travel back
// with their code, and "nobody answered" becomes 503 SHARD_UNAVAILABLE naming the shard.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { ERROR_CODES, QuiverError, createError } from '../errors/index.js';
import type { ErrorCode } from '../errors/index.js';
import { reason } from './connection.js';

export const READ_QUEUE = 'quiver-read';
/** How long a read retries when no replica of the shard listens (then 503 SHARD_UNAVAILABLE). */
const NO_RESPONDERS_GRACE_MS = 3_000;

/** What a replica does with one read request of one shard it holds. */
export type ReadHandler = (collection: string, shard: number, body: unknown) => Promise<unknown>;

interface ReadRequest {
  minSeq?: number;
  body: unknown;
}

type ReadReply = { ok: unknown } | { error: { code?: string; message: string; details?: unknown } };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ShardReads {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** Answers the requests on `subject` until unserve(); `wait` is min_seq's wait for this shard. */
  serve(subject: string, collection: string, shard: number, handler: ReadHandler, wait: (minSeq: number) => Promise<void>): void {
    if (this.subs.has(subject)) return;
    const sub = this.nc.subscribe(subject, {
      queue: READ_QUEUE,
      callback: (err, msg) => {
        if (err) return;
        void (async (): Promise<ReadReply> => {
          try {
            const req = JSON.parse(decoder.decode(msg.data)) as ReadRequest;
            if (req.minSeq !== undefined) await wait(req.minSeq);
            return { ok: await handler(collection, shard, req.body) };
          } catch (e) {
            if (e instanceof QuiverError) return { error: { code: e.code, message: e.message, details: e.details } };
            this.log.error({ err: e, collection, shard }, 'a shard read failed');
            return { error: { message: reason(e) } };
          }
        })().then((reply) => {
          let data = encoder.encode(JSON.stringify(reply));
          const max = this.nc.info?.max_payload ?? 1024 * 1024;
          if (data.length > max) {
            const e = createError('CLUSTER_UNSUPPORTED', { what: `a read answer larger than NATS's max_payload (${max} bytes; ask for fewer hits or fewer fields)` });
            data = encoder.encode(JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } }));
          }
          msg.respond(data);
        });
      },
    });
    this.subs.set(subject, sub);
  }

  /** Stops answering every subject that starts with `prefix` (a collection's, when it is deleted). */
  unserve(prefix: string): void {
    for (const [subject, sub] of this.subs) {
      if (!subject.startsWith(prefix)) continue;
      sub.unsubscribe();
      this.subs.delete(subject);
    }
  }

  /**
   * One request to whichever replica of the shard the queue group picks; its answer or its error.
   * "No responders" is retried for a moment: a collection just created, or a replica restarting,
   * has its subscription a little after the write that was acknowledged.
   */
  async ask(subject: string, collection: string, shard: number, body: unknown, minSeq: number | undefined, timeoutMs: number): Promise<unknown> {
    const data = encoder.encode(JSON.stringify({ minSeq, body } satisfies ReadRequest));
    const graceEnd = Date.now() + NO_RESPONDERS_GRACE_MS;
    let reply: ReadReply;
    for (;;) {
      try {
        const msg = await this.nc.request(subject, data, { timeout: timeoutMs });
        reply = JSON.parse(decoder.decode(msg.data)) as ReadReply;
        break;
      } catch (err) {
        if (/no responders/i.test(reason(err)) && Date.now() < graceEnd) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        // Nobody holds the shard, or no answer within the timeout.
        throw createError('SHARD_UNAVAILABLE', { collection, shard, reason: reason(err) });
      }
    }
    if ('ok' in reply) return reply.ok;
    const { code, message, details } = reply.error;
    if (code && (ERROR_CODES as string[]).includes(code)) throw new QuiverError(code as ErrorCode, message, details);
    throw new Error(`shard ${shard} of collection "${collection}" failed to answer: ${message}`);
  }
}
