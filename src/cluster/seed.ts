// A replica's data dir before its store opens (docs/cluster.md, "A new replica"): empty, or with
// a position in some stream that the log no longer holds (purged while the node was away), it is
// seeded from the current snapshot: downloaded, checked by the backup restore (checksums, SQLite's
// integrity check) into a staging folder beside it, and only then put in place of what was there.
// The appliers then resume from the sequences inside the copy (seq + 1), as after any restart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/index.js';
import { readAppliedPositions } from '../storage/index.js';
import { ClusterStartError, connectNats, reason } from './connection.js';
import { SnapshotStore, sameShards, type SnapshotMeta } from './snapshot-store.js';

export interface SeedOptions {
  config: ClusterConfig;
  dataDir: string;
  log: Logger;
  /** Checks a backup folder and copies it into a data dir without a database (ops/backup.ts restoreBackup). */
  restore(backupDir: string, dataDir: string): Promise<unknown>;
}

/** A newer snapshot can purge the log below the one just installed: then the newer one is installed. */
const ATTEMPTS = 3;
/** Inside the data dir: the download and the checked copy before they replace what is there. */
const SEED_PREFIX = '.seed-';

/** Seeds the data dir from the current snapshot when it must be; a no-op on api nodes and on a data dir the log can continue. */
export async function seedFromSnapshot(opts: SeedOptions): Promise<void> {
  const { config, log } = opts;
  // Only nodes that apply the log hold documents (api and worker nodes do not).
  if (config.role !== 'replica' && config.role !== 'all') return;
  const { nc, jsm } = await connectNats(config, log);
  try {
    await seed(opts, jsm, await SnapshotStore.open(nc, config.replicas));
  } catch (err) {
    if (err instanceof ClusterStartError) throw err;
    throw new ClusterStartError(`cannot check the data dir against the log, or seed it from the current snapshot: ${reason(err)}`);
  } finally {
    await nc.close().catch(() => undefined);
  }
}

async function seed(opts: SeedOptions, jsm: JetStreamManager, store: SnapshotStore): Promise<void> {
  const { dataDir, log } = opts;
  const db = path.join(dataDir, 'quiver.db');
  // What a seeding interrupted by a crash left behind.
  if (fs.existsSync(dataDir)) for (const f of await fs.promises.readdir(dataDir)) if (f.startsWith(SEED_PREFIX)) await fs.promises.rm(path.join(dataDir, f), { recursive: true, force: true });
  for (let attempt = 1; ; attempt++) {
    const why = fs.existsSync(db) && fs.statSync(db).size > 0 ? await purgedPast(jsm, db) : 'the data dir is empty';
    if (why === undefined) return;
    const meta = await store.current();
    if (!meta) {
      // No snapshot was ever taken, so nothing was purged: an empty node applies from sequence 1.
      if (attempt === 1 && why === 'the data dir is empty') log.info('no cluster snapshot yet: starting empty and applying the log from its first message');
      else log.error({ reason: why }, 'this node cannot be seeded: no current snapshot; its appliers will report the gap on /readyz');
      return;
    }
    if (!sameShards(meta.shards, opts.config.shards)) {
      log.error(
        { reason: why, snapshot: meta.id, snapshot_shards: meta.shards ?? 'all', shards: opts.config.shards },
        'the current snapshot was taken by a node holding other shards, so it cannot seed this one: applying the log from the start (a purged stream shows as a gap on /readyz)',
      );
      return;
    }
    if (attempt > ATTEMPTS) throw new ClusterStartError(`seeding from a snapshot did not catch up with the log after ${ATTEMPTS} attempts: ${why}`);
    log.info({ snapshot: meta.id, reason: why }, 'seeding the data dir from the current cluster snapshot');
    await install(store, meta, opts);
    log.info({ snapshot: meta.id, bytes: meta.bytes, collections: meta.collections }, 'seeded the data dir from cluster snapshot');
  }
}

/** Why the database cannot continue from the log (a stream it applied now starts past its position), or undefined. */
async function purgedPast(jsm: JetStreamManager, db: string): Promise<string | undefined> {
  for (const p of readAppliedPositions(db)) {
    let first: number;
    try {
      first = (await jsm.streams.info(p.stream)).state.first_seq;
    } catch (err) {
      if (/stream not found/i.test(reason(err))) continue; // its collection was deleted; the catalog drops it
      throw err;
    }
    if (p.seq + 1 < first) return `stream ${p.stream} starts at ${first} but this node applied it up to ${p.seq} only (purged while it was away)`;
  }
  return undefined;
}

async function install(store: SnapshotStore, meta: SnapshotMeta, opts: SeedOptions): Promise<void> {
  const { dataDir } = opts;
  const work = path.join(dataDir, `${SEED_PREFIX}${crypto.randomBytes(4).toString('hex')}`);
  const downloaded = path.join(work, 'snapshot');
  const staged = path.join(work, 'restored');
  try {
    await store.download(meta, downloaded);
    await opts.restore(downloaded, staged);
    // What was here goes only now that the new copy is complete and checked.
    for (const f of ['quiver.db', 'quiver.db-wal', 'quiver.db-shm']) await fs.promises.rm(path.join(dataDir, f), { force: true });
    await fs.promises.rm(path.join(dataDir, 'indexes'), { recursive: true, force: true });
    await fs.promises.rename(path.join(staged, 'indexes'), path.join(dataDir, 'indexes'));
    // The database last: its presence means the data dir is complete.
    await fs.promises.rename(path.join(staged, 'quiver.db'), path.join(dataDir, 'quiver.db'));
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}
