// An ingest worker for one collection (docs/cluster.md, "Ingest workers"): every worker of the
// cluster pulls from one durable consumer of the collection's stream (explicit ack), so each
// write batch goes to one worker at a time, a work queue without a second copy of the batch. The
// worker chunks and embeds the batch with the collection's own model (the same code a standalone
// write runs), publishes the embedded chunks keyed by the batch's sequence (embedded.ts), and only
// then acks. Killed before the ack, the batch is delivered again after the ack wait to any worker
// and embedded again: the second publish is dropped or replaces the first, so nothing is lost and
// nothing doubles. A batch with nothing to embed (a delete, client vectors only) is acked at once.
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Collection } from '../collection/index.js';
import { reason } from './connection.js';
import type { EmbeddedChunk, EmbeddedLog } from './embedded.js';
import { encodeVector } from './embedded.js';
import { decodeMessage } from './messages.js';

/** The durable consumer every worker of the cluster shares on a collection's stream. */
export const WORKERS_CONSUMER = 'quiver-workers';
/** A batch not acked this long after delivery goes to another worker (a worker at work says so every HEARTBEAT_MS). */
const ACK_WAIT_MS = 30_000;
const HEARTBEAT_MS = 10_000;
/** Batches handed out and not acked yet, over all workers (each holds one at a time). */
const MAX_ACK_PENDING = 64;
const RETRY_MS = 2_000;
/** A pull waits this long for work before asking again. */
const PULL_EXPIRES_MS = 5_000;

/**
 * Creates the workers' consumer on a collection's stream unless it is there. The node creating a
 * collection calls this before the catalog entry, so workers normally only find it: nats-server
 * 2.9 may leave all but one of several concurrent creates unanswered until the API timeout.
 */
export async function ensureWorkConsumer(jsm: JetStreamManager, stream: string): Promise<void> {
  if (await jsm.consumers.info(stream, WORKERS_CONSUMER).catch(() => undefined)) return;
  await jsm.consumers
    .add(stream, {
      durable_name: WORKERS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ACK_WAIT_MS * 1_000_000,
      max_ack_pending: MAX_ACK_PENDING,
    })
    .catch(async (err: unknown) => {
      // Made by another node meanwhile: use it.
      if (!(await jsm.consumers.info(stream, WORKERS_CONSUMER).catch(() => undefined))) throw err;
    });
}

export interface WorkerStats {
  collection: string;
  /** Pulling from the collection's consumer right now. */
  consuming: boolean;
  /** Batches embedded and published. */
  batches: number;
  /** Texts sent to the model (cache hits not). */
  texts: number;
  /** Batches this worker received again (another worker, or this one, did not ack them in time). */
  redeliveries: number;
  inFlight: number;
}

export interface EmbedWorkerOptions {
  collection: Collection;
  /** The collection's write stream. */
  stream: string;
  embedded: EmbeddedLog;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  /** The NATS server's max_payload, less room for headers. */
  maxPayload: () => number;
  /** Makes the embedded-results stream (replicas, max age). */
  ensureEmbedded: () => Promise<void>;
}

export class EmbedWorker {
  readonly stats: WorkerStats;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly o: EmbedWorkerOptions) {
    this.stats = { collection: o.collection.name, consuming: false, batches: 0, texts: 0, redeliveries: 0, inFlight: 0 };
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    const { stream, js, jsm, log, collection } = this.o;
    while (!this.stopped) {
      try {
        await this.o.ensureEmbedded();
        await ensureWorkConsumer(jsm, stream);
        const consumer = await js.consumers.get(stream, WORKERS_CONSUMER);
        log.info({ collection: collection.name, stream }, 'embedding the write batches of the log');
        this.stats.consuming = true;
        while (!this.stopped) {
          const m = await consumer.next({ expires: PULL_EXPIRES_MS });
          if (m) await this.handle(m);
        }
      } catch (err) {
        this.stats.consuming = false;
        if (this.stopped) break;
        log.warn({ collection: collection.name, stream, err: reason(err) }, 'pulling embedding work failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    this.stats.consuming = false;
  }

  private async handle(m: JsMsg): Promise<void> {
    const { collection: c, embedded, js, log } = this.o;
    this.stats.inFlight++;
    if (m.redelivered) this.stats.redeliveries++;
    const heartbeat = setInterval(() => m.working(), HEARTBEAT_MS);
    try {
      const msg = decodeMessage(m.data);
      if (msg.op === 'upsert') {
        const chunks = c.chunksToEmbed(msg.documents, msg.chunking);
        if (chunks.length > 0) {
          const { vectors, embedded: texts, rejected } = await c.embedTexts(chunks.map((ch) => ch.text));
          if (rejected > 0) log.warn({ collection: c.name, seq: m.seq, rejected }, 'the model rejected chunks of a batch; their documents are stored without those vectors');
          const out: EmbeddedChunk[] = chunks.map((ch, i) => ({ d: ch.document, s: ch.start, e: ch.end, v: encodeVector(vectors[i] ?? null) }));
          const model = (await c.embedder())?.id ?? 'none';
          await embedded.publish(js, m.seq, model, out, this.o.maxPayload(), () => this.stopped);
          this.stats.batches++;
          this.stats.texts += texts;
        }
      }
      // Only now: a worker dying before this line leaves the batch to be delivered again.
      await m.ackAck();
    } catch (err) {
      if (!this.stopped) log.warn({ collection: c.name, seq: m.seq, err: reason(err) }, 'embedding a write batch failed; it will be delivered again');
      try {
        m.nak(RETRY_MS);
      } catch {
        // the connection is away: the ack wait hands the batch out again
      }
    } finally {
      clearInterval(heartbeat);
      this.stats.inFlight--;
    }
  }
}
