// Where snapshots live (docs/cluster.md, "Snapshots"): the object store quiver-snapshots holds each
// snapshot as the files of an online backup under the prefix `<id>/` (the object store chunks a
// large file itself), and the KV bucket of the same name holds the key `current`, written only
// after every file is uploaded: a reader that follows `current` never sees half a snapshot.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { Objm, StorageType } from '@nats-io/obj';
import type { ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';

export const SNAPSHOTS_BUCKET = 'quiver-snapshots';
const CURRENT = 'current';
/** Snapshots kept: the current one and the one before (a reader may still be downloading it). */
const KEEP = 2;

/** What `current` says of a snapshot. */
export interface SnapshotMeta {
  /** Sorts by creation time: `<ms since epoch, 15 digits>-<node id>`. */
  id: string;
  node: string;
  created_at: string;
  bytes: number;
  /** File names inside the snapshot (backup.json, quiver.db, indexes/...). */
  files: string[];
  /** Per collection, the stream and the sequence the copy holds at least (read before the copy). */
  collections: { name: string; stream: string; seq: number }[];
  /** The shards the snapshotting node held (QUIVER_CLUSTER_SHARDS): it seeds only nodes that hold the same. */
  shards?: 'all' | number[];
}

/** Whether a node holding `own` shards may be seeded from a snapshot of a node that held `theirs`. */
export function sameShards(theirs: SnapshotMeta['shards'], own: 'all' | number[]): boolean {
  const key = (s: 'all' | number[] | undefined) => (s === undefined || s === 'all' ? 'all' : [...s].sort((a, b) => a - b).join(','));
  return key(theirs) === key(own);
}

export function snapshotId(nodeId: string, now = Date.now()): string {
  return `${String(now).padStart(15, '0')}-${nodeId}`;
}

export class SnapshotStore {
  private constructor(
    private readonly os: ObjectStore,
    private readonly kv: KV,
  ) {}

  static async open(nc: NatsConnection, replicas: number): Promise<SnapshotStore> {
    const os = await new Objm(nc).create(SNAPSHOTS_BUCKET, { replicas, storage: StorageType.File });
    const kv = await new Kvm(nc).create(SNAPSHOTS_BUCKET, { replicas, history: 1 });
    return new SnapshotStore(os, kv);
  }

  async current(): Promise<SnapshotMeta | undefined> {
    const e = await this.kv.get(CURRENT);
    return e?.operation === 'PUT' ? e.json<SnapshotMeta>() : undefined;
  }

  /** Uploads the files of a backup folder as snapshot `meta.id`, then makes it current and drops the older ones. */
  async publish(dir: string, meta: SnapshotMeta): Promise<void> {
    for (const name of meta.files) {
      const body = Readable.toWeb(fs.createReadStream(path.join(dir, name), { highWaterMark: 1 << 20 })) as unknown as ReadableStream<Uint8Array>;
      await this.os.put({ name: `${meta.id}/${name}` }, body, { timeout: 30_000 });
    }
    await this.kv.put(CURRENT, JSON.stringify(meta));
    await this.prune(meta.id);
  }

  /** Deletes every snapshot but the KEEP newest (never the current one). */
  private async prune(currentId: string): Promise<void> {
    const objects = (await this.os.list()).filter((o) => !o.deleted);
    const ids = [...new Set(objects.map((o) => o.name.split('/')[0]!))].sort().reverse();
    const old = new Set(ids.slice(KEEP).filter((id) => id !== currentId));
    for (const o of objects) if (old.has(o.name.split('/')[0]!)) await this.os.delete(o.name);
  }

  /** Downloads snapshot `meta` into `dir` (a backup folder restoreBackup then checks). */
  async download(meta: SnapshotMeta, dir: string): Promise<void> {
    for (const name of meta.files) {
      const r = await this.os.get(`${meta.id}/${name}`);
      if (!r) throw new Error(`snapshot ${meta.id} has no file ${name} (deleted by a newer snapshot?)`);
      const file = path.join(dir, name);
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      // Read by hand rather than Readable.fromWeb: the Studio's DOM-typed check sees another ReadableStream type.
      const out = await fs.promises.open(file, 'w');
      try {
        const reader = r.data.getReader();
        for (let part = await reader.read(); !part.done; part = await reader.read()) await out.write(part.value);
      } finally {
        await out.close();
      }
      const err = await r.error;
      if (err) throw err;
    }
  }
}
