// A replica's apply loop for one collection (docs/cluster.md, "Apply path"): reads the
// collection's stream in order from the sequence after the one stored in SQLite, applies each
// message through the collection's write door, and stores the message's sequence in the same
// transaction. An ordered consumer (no server-side state) is used because the position of record
// is the one in SQLite. A failed apply is retried from the stored sequence after a pause; a
// message is never skipped, so two replicas cannot diverge by one skipping what the other applied.
import { DeliverPolicy } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Collection } from '../collection/index.js';
import type { Store } from '../storage/index.js';
import { reason } from './connection.js';
import type { EmbeddedReader } from './embedded.js';
import { needsWorker } from './embedded.js';
import { decodeMessage } from './messages.js';

const RETRY_MS = 1000;
/**
 * Behind the stream and no message for this long: the consumer is recreated from the stored
 * sequence. Seen after kill -9 of the NATS node a replica was connected to: the ordered
 * consumer's iterator can wait on a subscription that will not deliver again.
 */
const STALL_MS = 5_000;

/** The log no longer holds the message after this node's position: it was purged while the node was away. */
class LogGapError extends Error {}

export class Applier {
  /** Last sequence applied (as stored in SQLite). */
  applied: number;
  /** Last sequence the stream is known to hold (from the messages' pending counts and stream info). */
  last = 0;
  /** The stream's last sequence when this applier started: ready once applied reaches it. */
  startLast: number | undefined;
  /** Set when the log skips past `applied` (purged below it): this applier stops, the node is not ready. */
  gap: string | undefined;
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private readonly waiters = new Set<{ seq: number; resolve: () => void }>();
  private running: Promise<void> | undefined;
  private progressAt = Date.now();
  private applying = false;

  constructor(
    readonly collection: Collection,
    readonly stream: string,
    private readonly js: JetStreamClient,
    private readonly store: Store,
    private readonly log: Logger,
    /** Where the ingest workers' embedded chunks are read: this node never embeds a document. */
    readonly embedded: EmbeddedReader,
    /** Sharded collections: the shard this applier applies and its subject (the consumer's filter). */
    readonly shard: { index: number; subject: string } | undefined = undefined,
  ) {
    this.applied = store.applied.get(collection.info.id, shard?.index ?? 0)?.seq ?? 0;
    this.last = this.applied;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    this.embedded.close();
    await this.running;
  }

  /** Resolves once `seq` is applied, the applier stops, or `ms` passed (min_seq's bounded wait); then read `applied`. */
  until(seq: number, ms: number): Promise<void> {
    if (this.applied >= seq || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve();
      }, ms);
      this.waiters.add(waiter);
    });
  }

  /** Called periodically with the stream's last sequence: restarts a consumer that stopped delivering. */
  checkStalled(): void {
    if (this.stopped || this.gap || this.applying || this.last <= this.applied || Date.now() - this.progressAt < STALL_MS) return;
    this.log.warn({ collection: this.collection.name, stream: this.stream, applied: this.applied, last: this.last }, 'no message from the log for a while although it is behind; recreating the consumer');
    this.progressAt = Date.now();
    this.messages?.stop();
  }

  noteLast(seq: number): void {
    this.last = Math.max(this.last, seq);
    this.startLast ??= seq;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        this.log.info({ collection: this.collection.name, stream: this.stream, ...(this.shard ? { shard: this.shard.index } : {}), from: this.applied + 1 }, 'applying the log');
        const consumer = await this.js.consumers.get(this.stream, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.applied + 1,
          ...(this.shard ? { filter_subjects: this.shard.subject } : {}),
        });
        this.messages = await consumer.consume({ max_messages: 64 });
        this.progressAt = Date.now();
        if (this.stopped) this.messages.stop();
        for await (const m of this.messages) {
          this.applying = true;
          try {
            await this.apply(m);
          } finally {
            this.applying = false;
          }
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof LogGapError) {
          this.gap = err.message;
          this.log.error({ collection: this.collection.name, stream: this.stream, applied: this.applied }, `${err.message}; restart this node to re-seed it from the current snapshot`);
          this.messages?.stop();
          break;
        }
        this.log.warn({ collection: this.collection.name, stream: this.stream, applied: this.applied, err: reason(err) }, 'applying the log failed; retrying from the stored sequence');
        this.messages?.stop();
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
  }

  private async apply(m: JsMsg): Promise<void> {
    const seq = m.seq;
    // Sharded: pending counts the shard's messages, whose sequences are not consecutive.
    this.noteLast(this.shard && m.info.pending > 0 ? seq : seq + m.info.pending);
    // Delivered again after a consumer reset: already in SQLite.
    if (seq <= this.applied) return;
    // The consumer starts at the stream's first message when its start is purged: never skip. A
    // shard's consumer sees only its shard's messages, so its sequences jump by design (and a
    // sharded collection's log is never purged: cluster/snapshots.ts).
    if (!this.shard && seq > this.applied + 1) throw new LogGapError(`the log of "${this.collection.name}" continues at ${seq} but this node applied up to ${this.applied} (purged below its position)`);
    const msg = decodeMessage(m.data);
    const c = this.collection;
    const record = () => this.store.applied.set(c.info.id, this.stream, seq, this.shard?.index ?? 0);
    if (msg.op === 'upsert') {
      // Texts to embed: the vectors come from a worker (waited for, as long as it takes).
      const embedded = needsWorker(c, msg.documents, msg.chunking) ? await this.embedded.vectors(c, seq, msg.documents, () => this.stopped) : undefined;
      const r = await c.write(msg.documents, { onError: 'reject-batch', chunking: msg.chunking, record, fromLog: true, embedded });
      if (!r.committed) throw new Error(`collection "${c.name}" was deleted while applying sequence ${seq}`);
    } else if (msg.op === 'delete') {
      await c.applyDelete(msg.ids, record);
    } else {
      await c.deleteWhere(c.compileFilter(msg.filter), record);
    }
    this.applied = seq;
    this.progressAt = Date.now();
    for (const w of this.waiters) {
      if (w.seq <= seq) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }
}
