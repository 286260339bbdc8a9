// One Quiver process in cluster mode (docs/cluster.md): the catalog of collections, applied from
// the KV bucket quiver-catalog on every role; the write hooks the HTTP routes call instead of
// writing locally (publish, answer on the JetStream ack); and, on replica roles, one Applier per
// collection that applies its stream. Built unconnected with the server; start() connects (a
// clear ClusterStartError when NATS is not there) and is part of the lifecycle's open step.
import crypto from 'node:crypto';
import { jetstream, StorageType } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV, KvEntry, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Collection, CollectionRegistry, CreateCollectionInput } from '../collection/index.js';
import type { ClusterConfig } from '../config/index.js';
import type { ChunkingSpec, DocumentInput } from '../domain/types.js';
import { createError, QuiverError } from '../errors/index.js';
import type { Store } from '../storage/index.js';
import { FifoLock } from '../util/fifo-lock.js';
import { Applier } from './applier.js';
import { connectNats, reason } from './connection.js';
import { EmbeddedLog } from './embedded.js';
import { encodeMessage, splitUpsert } from './messages.js';
import { EmbedWorker, ensureWorkConsumer } from './worker.js';
import type { WorkerStats } from './worker.js';

export const CATALOG_BUCKET = 'quiver-catalog';
/** How long a write retries its publish (same message id, so stored once) through a leader election. */
const PUBLISH_DEADLINE_MS = 15_000;
const PUBLISH_TIMEOUT_MS = 5_000;
/** How often the streams' last sequences are read for the lag (also when nothing arrives). */
const LAG_REFRESH_MS = 1_000;
/** Room left in a message for its headers (the message id) under the server's max_payload. */
const HEADER_ROOM = 1024;
/** A replica waiting this long for a batch's embeddings tells /readyz (a cluster without workers is stuck, visibly). */
const WAITING_NOT_READY_MS = 10_000;

/** A collection as the catalog holds it: how to create it, and its stream. */
interface CatalogValue {
  input: CreateCollectionInput;
  stream: string;
  subject: string;
}

export interface ClusterNodeOptions {
  config: ClusterConfig;
  collections: CollectionRegistry;
  store: Store;
  log: Logger;
}

export class ClusterNode {
  private nc: NatsConnection | undefined;
  private jsm: JetStreamManager | undefined;
  private js: JetStreamClient | undefined;
  private kv: KV | undefined;
  private readonly entries = new Map<string, CatalogValue>();
  private readonly appliers = new Map<string, Applier>();
  /** Ingest workers (roles worker and all), one per collection. */
  private readonly workers = new Map<string, EmbedWorker>();
  /** Catalog changes (from the watch and from this node's own creates) one at a time. */
  private readonly catalogLock = new FifoLock();
  private watchStop: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: ClusterNodeOptions) {}

  get role(): ClusterConfig['role'] {
    return this.opts.config.role;
  }

  private get applies(): boolean {
    return this.role === 'replica' || this.role === 'all';
  }

  private get embeds(): boolean {
    return this.role === 'worker' || this.role === 'all';
  }

  /** Connects, opens the catalog and applies it as it is now; replica roles start applying the streams. */
  async start(): Promise<void> {
    const { config, log } = this.opts;
    const { nc, jsm } = await connectNats(config, log);
    this.nc = nc;
    this.jsm = jsm;
    this.js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
    this.kv = await new Kvm(nc).create(CATALOG_BUCKET, { replicas: config.replicas, history: 1 });
    const status = await this.kv.status();
    const initial = status.values === 0 ? 0 : (await jsm.streams.info(status.streamInfo.config.name)).state.last_seq;
    let caughtUp!: () => void;
    const initialized = new Promise<void>((resolve) => (caughtUp = resolve));
    if (initial === 0) caughtUp();
    const watch = await this.kv.watch();
    this.watchStop = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        await this.catalogLock.run(() => this.applyEntry(e)).catch((err: unknown) => log.error({ err, collection: e.key }, 'applying a catalog change failed'));
        if (e.revision >= initial) caughtUp();
      }
    })();
    await initialized;
    this.timer = setInterval(() => void this.refreshLag(), LAG_REFRESH_MS);
    this.timer.unref();
    this.started = true;
    log.info({ role: this.role, collections: [...this.entries.keys()] }, 'cluster catalog loaded');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.watchStop?.();
    await Promise.all([...this.appliers.values(), ...this.workers.values()].map((a) => a.stop()));
    this.appliers.clear();
    this.workers.clear();
    await this.nc?.close().catch(() => undefined);
  }

  /** A catalog entry from the watch: the collection is made to exist (or not) here, and applied on replica roles. */
  private async applyEntry(e: KvEntry | KvWatchEntry): Promise<void> {
    const { collections, store, log } = this.opts;
    const name = e.key;
    if (e.operation !== 'PUT') {
      this.entries.delete(name);
      await this.stopApplying(name);
      if (collections.find(name)) await collections.delete(name, true);
      return;
    }
    const value = e.json<CatalogValue>();
    this.entries.set(name, value);
    let c = collections.find(name);
    // A collection of the same name that applied another stream is an earlier one, deleted and
    // created again while this node was away: its documents are not the new one's.
    const position = c && store.applied.get(c.info.id);
    if (c && position && position.stream !== value.stream) {
      log.info({ collection: name, old: position.stream, stream: value.stream }, 'collection was created again in the cluster; replacing the local one');
      await this.stopApplying(name);
      await collections.delete(name, true);
      c = undefined;
    }
    c ??= await collections.create(value.input, true);
    const embedded = new EmbeddedLog(value);
    if (this.applies && !this.appliers.has(name)) {
      await this.ensureEmbedded(embedded).catch((err: unknown) => log.warn({ err: reason(err), stream: embedded.stream }, 'could not create the stream of embedded chunks yet'));
      const applier = new Applier(c, value.stream, this.js!, store, log, embedded.reader(this.nc!, this.jsm!));
      this.appliers.set(name, applier);
      await this.noteStreamLast(applier);
      applier.start();
    }
    if (this.embeds && !this.workers.has(name)) {
      const worker = new EmbedWorker({
        collection: c,
        stream: value.stream,
        embedded,
        js: this.js!,
        jsm: this.jsm!,
        log,
        maxPayload: () => (this.nc!.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM,
        ensureEmbedded: () => this.ensureEmbedded(embedded),
      });
      this.workers.set(name, worker);
      worker.start();
    }
  }

  private ensureEmbedded(embedded: EmbeddedLog): Promise<void> {
    return embedded.ensure(this.jsm!, this.opts.config.replicas, this.opts.config.embeddedMaxAgeS);
  }

  /** Stops applying and embedding a collection here (deleted, or created again elsewhere). */
  private async stopApplying(name: string): Promise<void> {
    await Promise.all([this.appliers.get(name)?.stop(), this.workers.get(name)?.stop()]);
    this.appliers.delete(name);
    this.workers.delete(name);
  }

  private async noteStreamLast(a: Applier): Promise<void> {
    try {
      a.noteLast((await this.jsm!.streams.info(a.stream)).state.last_seq);
    } catch {
      // NATS away: the lag keeps its last known value
    }
  }

  private async refreshLag(): Promise<void> {
    await Promise.all(
      [...this.appliers.values()].map(async (a) => {
        await this.noteStreamLast(a);
        a.checkStalled();
      }),
    );
  }

  private ensureStarted(): void {
    if (!this.started) throw createError('CLUSTER_UNAVAILABLE', { reason: 'this node has not joined the cluster yet' });
  }

  private unavailable(err: unknown): QuiverError {
    return err instanceof QuiverError ? err : createError('CLUSTER_UNAVAILABLE', { reason: reason(err) });
  }

  async createCollection(input: CreateCollectionInput): Promise<Collection> {
    this.ensureStarted();
    return this.catalogLock.run(async () => {
      const { collections, config } = this.opts;
      const existing = await this.kv!.get(input.name).catch((err: unknown) => {
        throw this.unavailable(err);
      });
      if (existing?.operation === 'PUT') throw createError('COLLECTION_EXISTS', { name: input.name });
      // Created here first: the same checks as standalone (model, dimension) and their 4xx.
      const c = await collections.create(input, true);
      const suffix = crypto.randomBytes(4).toString('hex');
      const value: CatalogValue = {
        input: { ...input, dimension: c.info.dimension },
        stream: `QUIVER_C_${input.name}_${suffix}`,
        subject: `quiver.c.${input.name}.${suffix}.w`,
      };
      try {
        await this.jsm!.streams.add({
          name: value.stream,
          subjects: [value.subject],
          num_replicas: config.replicas,
          storage: StorageType.File,
          duplicate_window: 120_000_000_000, // 2 min in ns: a retried publish is stored once
        });
        // Before the catalog entry: every worker and replica then finds it (nats-server 2.9 may
        // leave all but one of several concurrent creates of one stream unanswered until timeout).
        await this.ensureEmbedded(new EmbeddedLog(value));
        await ensureWorkConsumer(this.jsm!, value.stream);
        await this.kv!.create(input.name, JSON.stringify(value));
      } catch (err) {
        await this.jsm!.streams.delete(value.stream).catch(() => undefined);
        await new EmbeddedLog(value).drop(this.jsm!).catch(() => undefined);
        await collections.delete(input.name, true);
        // kv.create fails on a key written meanwhile by another node.
        if (/wrong last sequence|key exists/i.test(reason(err))) throw createError('COLLECTION_EXISTS', { name: input.name });
        throw this.unavailable(err);
      }
      this.entries.set(input.name, value);
      return c;
    });
  }

  async deleteCollection(name: string): Promise<void> {
    this.ensureStarted();
    const value = this.entries.get(name);
    if (!value) throw createError('COLLECTION_NOT_FOUND', { name });
    try {
      await this.kv!.delete(name);
    } catch (err) {
      throw this.unavailable(err);
    }
    // Gone from this node before the answer; the other nodes follow the catalog.
    await this.catalogLock.run(async () => {
      this.entries.delete(name);
      await this.stopApplying(name);
      if (this.opts.collections.find(name)) await this.opts.collections.delete(name, true);
    });
    await this.jsm!.streams.delete(value.stream).catch((err: unknown) => this.opts.log.warn({ err: reason(err), stream: value.stream }, 'could not delete the stream of a deleted collection'));
    const embedded = new EmbeddedLog(value);
    await embedded.drop(this.jsm!).catch(() => undefined); // none if no worker or replica ever made it
  }

  async publishUpsert(c: Collection, documents: DocumentInput[], chunking: ChunkingSpec | undefined): Promise<{ stream: string; seq: number }> {
    this.ensureStarted();
    const value = this.entryOf(c.name);
    const max = (this.nc!.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM;
    const parts = splitUpsert(documents, chunking, max);
    if (parts.some((p) => p.length > max)) throw createError('PAYLOAD_TOO_LARGE', { limit: max });
    let seq = 0;
    for (const p of parts) seq = await this.publish(value, p);
    return { stream: value.stream, seq };
  }

  async publishDelete(c: Collection, ids: string[]): Promise<{ stream: string; seq: number }> {
    this.ensureStarted();
    const value = this.entryOf(c.name);
    return { stream: value.stream, seq: await this.publish(value, encodeMessage({ op: 'delete', ids })) };
  }

  private entryOf(name: string): CatalogValue {
    const value = this.entries.get(name);
    if (!value) throw createError('COLLECTION_NOT_FOUND', { name });
    return value;
  }

  /** Publishes until acknowledged or the deadline; the message id makes a retry after a lost ack a duplicate JetStream drops. */
  private async publish(value: CatalogValue, data: Uint8Array): Promise<number> {
    const msgID = crypto.randomUUID();
    const deadline = Date.now() + PUBLISH_DEADLINE_MS;
    for (;;) {
      try {
        const ack = await this.js!.publish(value.subject, data, { msgID, expect: { streamName: value.stream }, timeout: PUBLISH_TIMEOUT_MS });
        return ack.seq;
      } catch (err) {
        if (Date.now() > deadline) throw createError('CLUSTER_UNAVAILABLE', { reason: reason(err) });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async waitApplied(collection: string, seq: number): Promise<void> {
    const ms = this.opts.config.minSeqWaitMs;
    const deadline = Date.now() + ms;
    // The collection may not have reached this node's catalog yet.
    let applier = this.appliers.get(collection);
    while (!applier && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      applier = this.appliers.get(collection);
    }
    if (!applier) {
      if (!this.applies) throw createError('CLUSTER_UNSUPPORTED', { what: 'min_seq on an api-role node' });
      throw createError('COLLECTION_NOT_FOUND', { name: collection });
    }
    await applier.until(seq, Math.max(0, deadline - Date.now()));
    if (applier.applied < seq) throw createError('NOT_YET_APPLIED', { collection, wanted: seq, applied: applier.applied, ms });
  }

  notReadyReason(): string | undefined {
    if (!this.started) return 'joining the cluster';
    for (const w of this.workers.values()) if (!w.stats.consuming) return `collection "${w.stats.collection}": not pulling embedding work from the log (NATS away?)`;
    for (const a of this.appliers.values()) {
      const waiting = a.embedded.waiting;
      if (waiting && Date.now() - waiting.since > WAITING_NOT_READY_MS) {
        return `collection "${a.collection.name}": waiting ${Math.round((Date.now() - waiting.since) / 1000)} s for embeddings of seq ${waiting.seq} (are ingest workers running?)`;
      }
      if (a.startLast === undefined || a.applied < a.startLast) return `collection "${a.collection.name}": catching up (applied ${a.applied} of ${a.startLast ?? '?'})`;
      if (a.last - a.applied > this.opts.config.maxLag) return `collection "${a.collection.name}": ${a.last - a.applied} messages behind (QUIVER_CLUSTER_MAX_LAG ${this.opts.config.maxLag})`;
    }
    return undefined;
  }

  lag(): { collection: string; applied: number; last: number; waiting_for_embeddings?: number }[] {
    return [...this.appliers.values()].map((a) => ({
      collection: a.collection.name,
      applied: a.applied,
      last: a.last,
      ...(a.embedded.waiting && { waiting_for_embeddings: a.embedded.waiting.seq }),
    }));
  }

  /** The ingest workers of this node (roles worker and all). */
  workerStats(): WorkerStats[] {
    return [...this.workers.values()].map((w) => ({ ...w.stats }));
  }
}
