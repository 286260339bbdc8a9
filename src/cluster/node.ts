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
import { ClusterStartError, connectNats, reason } from './connection.js';
import { nodeIdOf, type Heartbeat } from './liveness.js';
import { encodeMessage, splitUpsert } from './messages.js';
import { shardOf } from './placement.js';
import type { ReadHandler } from './reads.js';
import { ShardReads } from './reads.js';
import type { SnapshotMeta } from './snapshot-store.js';
import { SnapshotKeeper, type SnapshotStatus } from './snapshots.js';
import { EmbeddedLog } from './embedded.js';
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
/** How long the api node waits for a shard's answer to a read (plus QUIVER_CLUSTER_MIN_SEQ_WAIT_MS with min_seq). */
const READ_TIMEOUT_MS = 15_000;
/** A replica waiting this long for a batch's embeddings tells /readyz (a cluster without workers is stuck, visibly). */
const WAITING_NOT_READY_MS = 10_000;

/** A collection as the catalog holds it: how to create it, and its stream. */
interface CatalogValue {
  input: CreateCollectionInput;
  stream: string;
  /** Unsharded: the one subject; sharded: quiver.c.<name>.<suffix>.*.w (one subject per shard). */
  subject: string;
  /** Absent: 1 (unsharded). */
  shards?: number;
}

const shardsOf = (v: CatalogValue) => v.shards ?? 1;
/** The random part of the collection's stream and subject names, chosen at creation. */
const suffixOf = (name: string, v: CatalogValue) => v.stream.slice(`QUIVER_C_${name}_`.length);
const writeSubject = (name: string, v: CatalogValue, shard: number) => (shardsOf(v) > 1 ? `quiver.c.${name}.${suffixOf(name, v)}.s${shard}.w` : v.subject);
const readSubject = (name: string, v: CatalogValue, shard: number) => `quiver.q.${name}.${suffixOf(name, v)}.s${shard}`;

/** How long start-up retries a JetStream call that fails (a NATS node just restarted, an election) before the node gives up. */
const START_PATIENCE_MS = 120_000;

/**
 * One step of joining the cluster, tried again for a while: once connected, a timeout there means
 * JetStream is settling (a node coming back, a leader being elected), not that it is unreachable,
 * and a process that gave up here would exit after it had started listening.
 */
async function startStep<T>(log: Logger, what: string, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + START_PATIENCE_MS;
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (Date.now() > deadline) throw new ClusterStartError(`${what} failed: ${reason(err)}`);
      log.warn({ err: reason(err) }, `${what} failed while joining the cluster; trying again`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** GET /v1/admin/cluster/nodes: who is alive, and which of them hold each shard. */
export interface ClusterNodes {
  nodes: { id: string; role: Heartbeat['role']; shards: 'all' | number[] | null; applied: Record<string, number>; at: string }[];
  placement: { collection: string; shards: number; holders: { shard: number; nodes: string[] }[] }[];
}

export interface ClusterNodeOptions {
  config: ClusterConfig;
  collections: CollectionRegistry;
  store: Store;
  log: Logger;
  /** The node id (<data dir>/node-id) and snapshots' working folder live here. */
  dataDir: string;
  /** Writes an online backup folder inside `root` (ops/backup.ts): what a snapshot uploads. */
  backup: (root: string) => Promise<{ path: string }>;
}

export class ClusterNode {
  private nc: NatsConnection | undefined;
  private jsm: JetStreamManager | undefined;
  private js: JetStreamClient | undefined;
  private kv: KV | undefined;
  private readonly entries = new Map<string, CatalogValue>();
  /** Per collection, one applier per shard this node holds (one in all for an unsharded collection). */
  private readonly appliers = new Map<string, Applier[]>();
  private reads: ShardReads | undefined;
  private readHandler: ReadHandler | undefined;
  /** Ingest workers (roles worker and all), one per collection. */
  private readonly workers = new Map<string, EmbedWorker>();
  /** Catalog changes (from the watch and from this node's own creates) one at a time. */
  private readonly catalogLock = new FifoLock();
  private watchStop: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private keeper: SnapshotKeeper | undefined;
  /** Per collection this node applies: the first sequence its stream still holds (below it was purged). */
  private readonly streamFirst = new Map<string, number>();

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

  /** Replica roles: what a read request of a shard held here is answered with (set before start). */
  serveReads(handler: ReadHandler): void {
    this.readHandler = handler;
  }

  private holds(shard: number): boolean {
    const held = this.opts.config.shards;
    return held === 'all' || held.includes(shard);
  }

  private allAppliers(): Applier[] {
    return [...this.appliers.values()].flat();
  }

  /** Stops applying, serving and embedding a collection here (deleted, or created again elsewhere). */
  private async stopAppliers(name: string): Promise<void> {
    this.reads?.unserve(`quiver.q.${name}.`);
    await Promise.all([...(this.appliers.get(name) ?? []).map((a) => a.stop()), this.workers.get(name)?.stop()]);
    this.appliers.delete(name);
    this.workers.delete(name);
  }
  /** Connects, opens the catalog and applies it as it is now; replica roles start applying the streams. */
  async start(): Promise<void> {
    const { config, log } = this.opts;
    const { nc, jsm } = await connectNats(config, log);
    this.nc = nc;
    this.jsm = jsm;
    this.js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
    this.reads = new ShardReads(nc, log);
    const { kv, initial } = await startStep(log, 'opening the catalog', async () => {
      const kv = await new Kvm(nc).create(CATALOG_BUCKET, { replicas: config.replicas, history: 1 });
      const status = await kv.status();
      return { kv, initial: status.values === 0 ? 0 : (await jsm.streams.info(status.streamInfo.config.name)).state.last_seq };
    });
    this.kv = kv;
    let caughtUp!: () => void;
    const initialized = new Promise<void>((resolve) => (caughtUp = resolve));
    if (initial === 0) caughtUp();
    const watch = await startStep(log, 'watching the catalog', () => kv.watch());
    this.watchStop = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        await this.catalogLock.run(() => this.applyEntry(e)).catch((err: unknown) => log.error({ err, collection: e.key }, 'applying a catalog change failed'));
        // delta: messages still pending in the watch. The last revision may itself be gone (a
        // delete marker compacted away), so the revision alone could leave the start waiting.
        if (e.revision >= initial || e.delta === 0) caughtUp();
      }
    })();
    await initialized;
    await this.catalogLock.run(() => this.dropUncatalogued());
    this.timer = setInterval(() => void this.refreshLag(), LAG_REFRESH_MS);
    this.timer.unref();
    this.keeper = await startStep(log, 'opening the snapshot store', () => SnapshotKeeper.start({
      nc,
      jsm,
      config,
      nodeId: nodeIdOf(this.opts.dataDir, config.nodeId),
      dataDir: this.opts.dataDir,
      log,
      // Per stream: a sharded collection's appliers each hold their shard's position; the lowest
      // is what this node still needs of the stream (the purge must keep everything above it).
      positions: () =>
        [...this.appliers.values()].map((as) => ({
          collection: as[0]!.collection.name,
          stream: as[0]!.stream,
          applied: Math.min(...as.map((a) => a.applied)),
          sharded: (this.entries.get(as[0]!.collection.name)?.shards ?? 1) > 1,
        })),
      backup: this.applies ? this.opts.backup : undefined,
    }));
    this.started = true;
    log.info({ role: this.role, collections: [...this.entries.keys()] }, 'cluster catalog loaded');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.keeper?.stop();
    this.watchStop?.();
    await Promise.all([...new Set([...this.appliers.keys(), ...this.workers.keys()])].map((name) => this.stopAppliers(name)));
    await this.nc?.close().catch(() => undefined);
  }

  /**
   * A collection here that the catalog does not have was deleted in the cluster while this node was
   * away (or came with a snapshot taken before the delete): it is dropped, not served.
   */
  private async dropUncatalogued(): Promise<void> {
    for (const c of this.opts.collections.list()) {
      if (this.entries.has(c.name)) continue;
      this.opts.log.info({ collection: c.name }, 'collection is not in the cluster catalog (deleted meanwhile); dropping the local copy');
      await this.opts.collections.delete(c.name, true);
    }
  }

  /** A catalog entry from the watch: the collection is made to exist (or not) here, and applied on replica roles. */
  private async applyEntry(e: KvEntry | KvWatchEntry): Promise<void> {
    const { collections, store, log } = this.opts;
    const name = e.key;
    if (e.operation !== 'PUT') {
      this.entries.delete(name);
      await this.stopAppliers(name);
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
      await this.stopAppliers(name);
      await collections.delete(name, true);
      c = undefined;
    }
    c ??= await collections.create(value.input, true);
    const embedded = new EmbeddedLog(value);
    if (this.applies && !this.appliers.has(name)) {
      await this.ensureEmbedded(embedded).catch((err: unknown) => log.warn({ err: reason(err), stream: embedded.stream }, 'could not create the stream of embedded chunks yet'));
      const shards = shardsOf(value);
      const appliers: Applier[] = [];
      this.appliers.set(name, appliers);
      for (let k = 0; k < shards; k++) {
        if (!this.holds(k)) continue;
        const applier = new Applier(c, value.stream, this.js!, store, log, embedded.reader(this.nc!, this.jsm!), shards > 1 ? { index: k, subject: writeSubject(name, value, k) } : undefined);
        appliers.push(applier);
        await this.noteStreamLast(applier);
        applier.start();
        this.serveOnceCaughtUp(name, value, k, applier);
      }
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

  /** A replica answers a shard's reads once it applied what the log held when it started (as /readyz). */
  private serveOnceCaughtUp(name: string, value: CatalogValue, shard: number, applier: Applier): void {
    const handler = this.readHandler;
    if (!handler) return;
    void applier.until(applier.startLast ?? 0, 2 ** 31 - 1).then(() => {
      if (!this.appliers.get(name)?.includes(applier)) return; // stopped meanwhile
      this.reads!.serve(readSubject(name, value, shard), name, shard, handler, (seq) => this.waitShard(applier, seq));
    });
  }

  /** The last sequence of the applier's shard in the stream (of the stream when unsharded); 0 when it holds none. */
  private async lastOf(a: Applier): Promise<number> {
    if (!a.shard) return (await this.jsm!.streams.info(a.stream)).state.last_seq;
    try {
      return (await this.jsm!.streams.getMessage(a.stream, { last_by_subj: a.shard.subject }))?.seq ?? 0;
    } catch (err) {
      if (/no message found/i.test(reason(err))) return 0;
      throw err;
    }
  }

  private async noteStreamLast(a: Applier): Promise<void> {
    try {
      const { state } = await this.jsm!.streams.info(a.stream);
      a.noteLast(a.shard ? await this.lastOf(a) : state.last_seq);
      this.streamFirst.set(a.collection.name, state.first_seq);
    } catch {
      // NATS away: the lag keeps its last known value
    }
  }

  private async refreshLag(): Promise<void> {
    await Promise.all(
      this.allAppliers().map(async (a) => {
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

  async createCollection(input: CreateCollectionInput, opts: { shards?: number } = {}): Promise<Collection> {
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
      const shards = opts.shards ?? 1;
      const value: CatalogValue = {
        input: { ...input, dimension: c.info.dimension },
        stream: `QUIVER_C_${input.name}_${suffix}`,
        // One stream either way: its sequences order every shard's writes (min_seq stays one number).
        subject: shards > 1 ? `quiver.c.${input.name}.${suffix}.*.w` : `quiver.c.${input.name}.${suffix}.w`,
        ...(shards > 1 ? { shards } : {}),
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
      await this.stopAppliers(name);
      if (this.opts.collections.find(name)) await this.opts.collections.delete(name, true);
    });
    await this.jsm!.streams.delete(value.stream).catch((err: unknown) => this.opts.log.warn({ err: reason(err), stream: value.stream }, 'could not delete the stream of a deleted collection'));
    const embedded = new EmbeddedLog(value);
    await embedded.drop(this.jsm!).catch(() => undefined); // none if no worker or replica ever made it
  }

  async publishUpsert(c: Collection, documents: DocumentInput[], chunking: ChunkingSpec | undefined): Promise<{ stream: string; seq: number }> {
    this.ensureStarted();
    // The log's messages carry text, vectors and metadata only, and workers embed text: a document
    // with an image would be acknowledged and then never apply. Refused before anything is published.
    const withImage = documents.findIndex((d) => d.image !== undefined);
    if (withImage >= 0) throw createError('CLUSTER_UNSUPPORTED', { what: `documents with an image (documents.${withImage}.image)` });
    const value = this.entryOf(c.name);
    const max = (this.nc!.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM;
    // Sharded: one message (or more, when large) per shard, on the shard's subject; atomic per shard.
    const parts = [...this.byShard(value, documents, (d) => d.id)].flatMap(([k, docs]) => splitUpsert(docs, chunking, max).map((data) => ({ k, data })));
    if (parts.some((p) => p.data.length > max)) throw createError('PAYLOAD_TOO_LARGE', { limit: max });
    let seq = 0;
    for (const p of parts) seq = Math.max(seq, await this.publish(value, writeSubject(c.name, value, p.k), p.data));
    return { stream: value.stream, seq };
  }

  async publishDelete(c: Collection, ids: string[]): Promise<{ stream: string; seq: number }> {
    this.ensureStarted();
    const value = this.entryOf(c.name);
    let seq = 0;
    for (const [k, part] of this.byShard(value, ids, (id) => id)) seq = Math.max(seq, await this.publish(value, writeSubject(c.name, value, k), encodeMessage({ op: 'delete', ids: part })));
    return { stream: value.stream, seq };
  }

  /** Items grouped by the shard of their document id, in shard order. */
  private byShard<T>(value: CatalogValue, items: T[], id: (item: T) => string): Map<number, T[]> {
    const out = new Map<number, T[]>();
    for (const item of items) {
      const k = shardOf(id(item), shardsOf(value));
      out.set(k, [...(out.get(k) ?? []), item]);
    }
    return new Map([...out].sort((a, b) => a[0] - b[0]));
  }

  /** How many shards a collection has (1: unsharded). */
  shardCount(collection: string): number {
    return shardsOf(this.entryOf(collection));
  }

  shardOf(collection: string, id: string): number {
    return shardOf(id, this.shardCount(collection));
  }

  /** A read request to one replica of a shard (docs/cluster.md, "Read path"): its answer, its error, or 503 SHARD_UNAVAILABLE. */
  async ask(collection: string, shard: number, body: unknown, minSeq?: number): Promise<unknown> {
    this.ensureStarted();
    const value = this.entryOf(collection);
    const timeout = READ_TIMEOUT_MS + (minSeq === undefined ? 0 : this.opts.config.minSeqWaitMs);
    return this.reads!.ask(readSubject(collection, value, shard), collection, shard, body, minSeq, timeout);
  }

  /** Publishes a delete-by-filter, already validated (compiled) by the caller; each replica applies it to what it holds at that point of the log. */
  async publishDeleteWhere(c: Collection, filter: unknown): Promise<{ stream: string; seq: number }> {
    this.ensureStarted();
    const value = this.entryOf(c.name);
    // A filter may select documents on every shard: one message per shard subject.
    const data = encodeMessage({ op: 'delete_where', filter });
    let seq = 0;
    for (let k = 0; k < shardsOf(value); k++) seq = Math.max(seq, await this.publish(value, writeSubject(c.name, value, k), data));
    return { stream: value.stream, seq };
  }

  private entryOf(name: string): CatalogValue {
    const value = this.entries.get(name);
    if (!value) throw createError('COLLECTION_NOT_FOUND', { name });
    return value;
  }

  /** Publishes until acknowledged or the deadline; the message id makes a retry after a lost ack a duplicate JetStream drops. */
  private async publish(value: CatalogValue, subject: string, data: Uint8Array): Promise<number> {
    const msgID = crypto.randomUUID();
    const deadline = Date.now() + PUBLISH_DEADLINE_MS;
    for (;;) {
      try {
        const ack = await this.js!.publish(subject, data, { msgID, expect: { streamName: value.stream }, timeout: PUBLISH_TIMEOUT_MS });
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
    let appliers = this.appliers.get(collection);
    while (!appliers && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      appliers = this.appliers.get(collection);
    }
    if (!appliers) {
      if (!this.applies) throw createError('CLUSTER_UNSUPPORTED', { what: 'min_seq on an api-role node' });
      throw createError('COLLECTION_NOT_FOUND', { name: collection });
    }
    for (const a of appliers) await this.waitShard(a, seq, deadline);
  }

  /**
   * min_seq for one applier. A shard's applier sees only its shard's messages, so it waits for
   * min(seq, the shard's last sequence): exact, because sequences are the one stream's.
   */
  private async waitShard(a: Applier, seq: number, deadline = Date.now() + this.opts.config.minSeqWaitMs): Promise<void> {
    let wanted = seq;
    if (a.shard && a.applied < seq) wanted = Math.min(seq, await this.lastOf(a).catch(() => seq));
    await a.until(wanted, Math.max(0, deadline - Date.now()));
    if (a.applied < wanted) {
      const collection = a.shard ? `${a.collection.name} (shard ${a.shard.index})` : a.collection.name;
      throw createError('NOT_YET_APPLIED', { collection, wanted, applied: a.applied, ms: this.opts.config.minSeqWaitMs });
    }
  }

  notReadyReason(): string | undefined {
    if (!this.started) return 'joining the cluster';
    for (const w of this.workers.values()) if (!w.stats.consuming) return `collection "${w.stats.collection}": not pulling embedding work from the log (NATS away?)`;
    for (const a of this.allAppliers()) {
      if (a.gap) return `${a.gap}: restart it to re-seed from the current snapshot`;
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
    // A shard's applier is named "<collection>/s<k>": its sequences are its shard's.
    return this.allAppliers().map((a) => ({
      collection: a.shard ? `${a.collection.name}/s${a.shard.index}` : a.collection.name,
      applied: a.applied,
      last: a.last,
      ...(a.embedded.waiting && { waiting_for_embeddings: a.embedded.waiting.seq }),
    }));
  }

  /** Takes a snapshot on this node now (POST /v1/admin/cluster/snapshot). */
  async snapshot(): Promise<SnapshotMeta> {
    this.ensureStarted();
    if (!this.applies) throw createError('CLUSTER_UNSUPPORTED', { what: 'a snapshot on an api-role node (it holds no documents; send it to a replica)' });
    return this.keeper!.take().catch((err: unknown) => {
      throw this.unavailable(err);
    });
  }

  /**
   * The live nodes (from their heartbeats in quiver-nodes) and, per collection, which live nodes
   * hold each of its shards: the placement a fan-out reaches.
   */
  async nodes(): Promise<ClusterNodes> {
    this.ensureStarted();
    let live: Map<string, Heartbeat>;
    try {
      live = await this.keeper!.live();
    } catch (err) {
      throw this.unavailable(err);
    }
    const nodes = [...live].map(([id, h]) => ({ id, role: h.role, shards: h.shards ?? null, applied: h.applied, at: h.at })).sort((a, b) => a.id.localeCompare(b.id));
    const placement = [...this.entries].map(([collection, value]) => {
      const n = shardsOf(value);
      const holders = Array.from({ length: n }, (_, k) => ({
        shard: k,
        nodes: nodes.filter((x) => x.shards === 'all' || (Array.isArray(x.shards) && x.shards.includes(k))).map((x) => x.id),
      }));
      return { collection, shards: n, holders };
    });
    return { nodes, placement: placement.sort((a, b) => a.collection.localeCompare(b.collection)) };
  }

  /** The current snapshot and, per collection, the first sequence its stream still holds. */
  snapshotStatus(): SnapshotStatus & { streamFirst: { collection: string; first: number }[] } {
    return { current: this.keeper?.status().current, streamFirst: [...this.streamFirst].filter(([name]) => this.appliers.has(name)).map(([collection, first]) => ({ collection, first })) };
  }

  /** The ingest workers of this node (roles worker and all). */
  workerStats(): WorkerStats[] {
    return [...this.workers.values()].map((w) => ({ ...w.stats }));
  }
}
