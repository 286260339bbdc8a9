// Snapshots and log purge (docs/cluster.md, "Snapshots and a new replica", "Retention"). Every
// node writes its heartbeat; on replica roles the designated node — the lowest node id among the
// live nodes that apply the log, so no setting can name two or none, and when it dies the next
// one takes over within GONE_MS — takes a snapshot once QUIVER_CLUSTER_SNAPSHOT_EVERY messages
// were applied past the current one (any applying node takes one on demand). A snapshot is the
// online backup (ops/backup.ts, handed in by the composition root) uploaded to the object store
// and then made current. The designated node then purges each stream below what both the
// snapshot and every live replica have applied, so nothing a live replica or a new one seeded
// from the current snapshot still needs is ever purged.
import fs from 'node:fs';
import path from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/index.js';
import { reason } from './connection.js';
import { HEARTBEAT_MS, Liveness, type Heartbeat } from './liveness.js';
import { SnapshotStore, snapshotId, type SnapshotMeta } from './snapshot-store.js';
import { listFiles } from '../util/list-files.js';

/** Inside the data dir: where a snapshot is written before its upload. */
const WORK_DIR = 'cluster-snapshots';

/** Where this node is in a collection's stream. */
export interface Position {
  collection: string;
  stream: string;
  applied: number;
  /** A collection of several shards: its log is kept whole (per-shard snapshots are not built). */
  sharded: boolean;
}

export interface SnapshotKeeperOptions {
  nc: NatsConnection;
  jsm: JetStreamManager;
  config: ClusterConfig;
  nodeId: string;
  dataDir: string;
  log: Logger;
  /** This node's appliers (empty on an api node). */
  positions(): Position[];
  /** Writes an online backup folder inside `root` (replica roles; see ops/backup.ts). */
  backup?: (root: string) => Promise<{ path: string }>;
}

/** What /metrics shows of snapshots. */
export interface SnapshotStatus {
  current: SnapshotMeta | undefined;
}

export class SnapshotKeeper {
  private current: SnapshotMeta | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private taking: Promise<SnapshotMeta> | undefined;

  private constructor(
    private readonly opts: SnapshotKeeperOptions,
    private readonly liveness: Liveness,
    private readonly store: SnapshotStore,
  ) {}

  static async start(opts: SnapshotKeeperOptions): Promise<SnapshotKeeper> {
    // What a snapshot interrupted by a crash left behind.
    await fs.promises.rm(path.join(opts.dataDir, WORK_DIR), { recursive: true, force: true });
    const liveness = await Liveness.open(opts.nc, opts.config.replicas, opts.nodeId);
    const store = await SnapshotStore.open(opts.nc, opts.config.replicas);
    const k = new SnapshotKeeper(opts, liveness, store);
    await k.tick();
    k.timer = setInterval(() => void k.tick(), HEARTBEAT_MS);
    k.timer.unref();
    return k;
  }

  stop(): Promise<unknown> {
    if (this.timer) clearInterval(this.timer);
    return this.taking?.catch(() => undefined) ?? Promise.resolve();
  }

  /** The live nodes' heartbeats, by id (GET /v1/admin/cluster/nodes). */
  live(): Promise<Map<string, Heartbeat>> {
    return this.liveness.live();
  }

  status(): SnapshotStatus {
    return { current: this.current };
  }

  private get applies(): boolean {
    return (this.opts.config.role === 'replica' || this.opts.config.role === 'all') && this.opts.backup !== undefined;
  }

  /** Heartbeat; on the designated node: a snapshot past the threshold, and the purge. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const positions = this.opts.positions();
      const holds = this.opts.config.role === 'replica' || this.opts.config.role === 'all';
      await this.liveness.beat({ role: this.opts.config.role, applied: Object.fromEntries(positions.map((p) => [p.stream, p.applied])), ...(holds ? { shards: this.opts.config.shards } : {}) });
      this.current = await this.store.current();
      if (!this.applies || this.taking) return;
      const live = await this.liveness.live();
      if (!this.designated(live)) return;
      const every = this.opts.config.snapshotEvery;
      const past = positions.reduce((n, p) => n + Math.max(0, p.applied - (this.current?.collections.find((c) => c.stream === p.stream)?.seq ?? 0)), 0);
      // Not awaited: the heartbeats go on while a large snapshot is written and uploaded.
      if (every > 0 && past >= every) void this.take().catch((err: unknown) => this.opts.log.warn({ err: reason(err) }, 'cluster snapshot failed; the next round tries again'));
      else if (this.current) await this.purge(this.current, live);
    } catch (err) {
      this.opts.log.warn({ err: reason(err) }, 'cluster heartbeat or snapshot round failed; trying again at the next');
    } finally {
      this.ticking = false;
    }
  }

  private designated(live: Map<string, Heartbeat>): boolean {
    // Only nodes that apply the log hold documents (api and worker nodes do not).
    const ids = [...live].filter(([, h]) => h.role === 'replica' || h.role === 'all').map(([id]) => id);
    ids.push(this.opts.nodeId);
    return ids.sort()[0] === this.opts.nodeId;
  }

  /** Takes a snapshot now (one at a time: a second call shares the running one). */
  take(): Promise<SnapshotMeta> {
    this.taking ??= this.takeNow().finally(() => (this.taking = undefined));
    return this.taking;
  }

  private async takeNow(): Promise<SnapshotMeta> {
    const { backup, dataDir, nodeId, log } = this.opts;
    if (!backup) throw new Error('an api-role node holds no documents to snapshot');
    const started = Date.now();
    // Read before the copy, so each is at most what the copy holds: a purge below it is safe.
    const positions = this.opts.positions();
    const b = await backup(path.join(dataDir, WORK_DIR));
    try {
      const files = await listFiles(b.path);
      let bytes = 0;
      for (const f of files) bytes += (await fs.promises.stat(path.join(b.path, f))).size;
      const meta: SnapshotMeta = {
        id: snapshotId(nodeId),
        node: nodeId,
        created_at: new Date().toISOString(),
        bytes,
        files,
        collections: positions.map((p) => ({ name: p.collection, stream: p.stream, seq: p.applied })),
        shards: this.opts.config.shards,
      };
      await this.store.publish(b.path, meta);
      this.current = meta;
      log.info({ snapshot: meta.id, bytes, collections: meta.collections, took_ms: Date.now() - started }, 'cluster snapshot taken and made current');
      await this.purge(meta, await this.liveness.live()).catch((err: unknown) => log.warn({ err: reason(err) }, 'purging the log after a snapshot failed; the next round tries again'));
      return meta;
    } finally {
      await fs.promises.rm(b.path, { recursive: true, force: true });
    }
  }

  /** Purges each stream of the snapshot below min(snapshot's seq, every live replica's applied seq) + 1. */
  private async purge(meta: SnapshotMeta, live: Map<string, Heartbeat>): Promise<void> {
    const positions = this.opts.positions();
    const own = new Map(positions.map((p) => [p.stream, p.applied]));
    // A sharded collection's log is never purged: a snapshot holds the shards of one node, and a
    // node holding other shards could then neither seed from it nor replay what was purged.
    const sharded = new Set(positions.filter((p) => p.sharded).map((p) => p.stream));
    for (const c of meta.collections) {
      if (sharded.has(c.stream)) continue;
      let keep = Math.min(c.seq, own.get(c.stream) ?? c.seq);
      // A live replica that does not report the stream (still joining) may need all of it.
      let known = true;
      for (const [id, h] of live) {
        if (h.role === 'api' || h.role === 'worker' || id === this.opts.nodeId) continue;
        const applied = h.applied[c.stream];
        if (applied === undefined) known = false;
        else keep = Math.min(keep, applied);
      }
      if (!known || keep < 1) continue;
      let first: number;
      try {
        first = (await this.opts.jsm.streams.info(c.stream)).state.first_seq;
      } catch {
        continue; // the collection was deleted since
      }
      if (first > keep) continue;
      const r = await this.opts.jsm.streams.purge(c.stream, { seq: keep + 1 });
      this.opts.log.info({ collection: c.name, stream: c.stream, purged: r.purged, below: keep + 1 }, 'purged the log below what the snapshot and every live replica hold');
    }
  }
}
