// A collection's vector index: an HNSW graph kept in step with SQLite, behind the asynchronous
// VectorIndex seam. The graph itself lives in an IndexHost — a worker thread's by default, or
// this thread's — and this object is its owner on the main thread:
// - open: load the snapshot, replay writes newer than it from the store, check that the index
//   holds exactly the labels the store says it must; anything off (missing, truncated, damaged,
//   mismatched files) means a rebuild from the store with a log line, never a crash;
// - apply: each committed write's IndexChanges, in commit order (a FIFO lock, so the host sees
//   the changes of one index one call at a time);
// - search: sent as is (the planner runs in the host, beside the graph);
// - save: periodically and at shutdown; the lock keeps the graph still while hnswlib writes it;
// - a lost host (its worker thread died, and the graph with it): the next call reloads the graph
//   as open does, under the lock, and is tried once more. Every write it lacks is in SQLite,
//   since a write reaches the index only after it is committed.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CollectionInfo, IndexChanges, Metric } from '../domain/types.js';
import { FifoLock } from '../util/fifo-lock.js';
import type { CoreShape, IndexHostApi } from './index-host.js';
import type { IndexStats, SearchOptions, SearchOutcome, VectorIndex } from './vector-index.js';
import { snapshotBase } from './verify-snapshot.js';
import { isIndexHostLost } from './worker-host.js';

export interface IndexSource {
  /** Chunk labels deleted after `seq` (what a snapshot taken at `seq` still holds). */
  tombstonesAfter(collectionId: number, seq: number): number[];
  /** Vectors written after `seq`: what a snapshot taken at `seq` lacks. */
  vectorsAfter(collectionId: number, seq: number): Iterable<{ label: number; vector: Float32Array }>;
  /** Every label that must be in the index. */
  liveLabels(collectionId: number): number[];
  allVectors(collectionId: number): Iterable<{ label: number; vector: Float32Array }>;
  /** Tombstones at or before a snapshot's seq are no longer needed to replay it. */
  pruneTombstones(collectionId: number, uptoSeq: number): void;
}

export interface LocalIndexOptions {
  /** Folder of the snapshot files (`c<id>.hnsw|.labels|.json`). */
  dir: string;
  source: IndexSource;
  log: Logger;
  /** Allow-sets at most this large are scanned exactly. */
  exactThreshold: number;
  /** Where the graph lives (a worker thread's host, or this thread's). */
  host: IndexHostApi;
  /**
   * A snapshot taken before this seq is not used: the vectors it holds were rewritten since (a
   * reduced collection's fit), which a replay of later writes would not undo. Default 0.
   */
  validFrom?: number;
}

export interface OpenReport {
  source: 'snapshot' | 'rebuilt' | 'empty';
  replayedAdds: number;
  replayedDeletes: number;
  size: number;
  reason?: string;
}

/** Vectors per message when replaying or rebuilding (~1.5 MB at 384 dimensions). */
const SEND_BATCH = 1024;

export class LocalVectorIndex implements VectorIndex {
  private readonly lock = new FifoLock();
  private dropped = false;
  /** The host lost this graph; it is reloaded (under the lock) before the next call. */
  private lost = false;

  private constructor(
    private readonly info: CollectionInfo,
    private readonly opts: LocalIndexOptions,
    private size: number,
    private capacity: number,
    private appliedSeq: number,
    /** -1: what is in memory is not on disk yet. */
    private savedSeq: number,
  ) {}

  get dimension(): number {
    return this.info.dimension;
  }

  get metric(): Metric {
    return this.info.metric;
  }

  private get key(): number {
    return this.info.id;
  }

  private get host(): IndexHostApi {
    return this.opts.host;
  }

  private get base(): string {
    return snapshotBase(this.opts.dir, this.info.id);
  }

  /** Opens the index of a collection: snapshot + replay, or a rebuild from the store; logs how. */
  static async open(info: CollectionInfo, opts: LocalIndexOptions): Promise<{ index: LocalVectorIndex; report: OpenReport }> {
    fs.mkdirSync(opts.dir, { recursive: true });
    const { report, savedSeq } = await load(info, opts);
    const { size, capacity } = await opts.host.stats(info.id);
    opts.log.info({ collection: info.name, ...report }, 'index open');
    return { index: new LocalVectorIndex(info, opts, size, capacity, info.seq, savedSeq), report };
  }

  async search(query: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchOutcome> {
    if (this.lost) await this.lock.run(() => this.reloadIfLost());
    const { labels, scores, plan } = await this.retryIfLost(() => this.lock.run(() => this.reloadIfLost()), () => this.searchOnce(query, k, opts));
    const neighbors = new Array<{ label: number; score: number }>(labels.length);
    for (let i = 0; i < labels.length; i++) neighbors[i] = { label: labels[i]!, score: scores[i]! };
    return { neighbors, plan };
  }

  private searchOnce(query: Float32Array, k: number, opts: SearchOptions) {
    return this.host.search(this.key, {
      query,
      k,
      ef: Math.max(opts.ef ?? 0, k),
      allow: opts.allow && Float64Array.from(opts.allow),
      exclude: opts.exclude && opts.exclude.size > 0 ? Float64Array.from(opts.exclude) : undefined,
      exactThreshold: this.opts.exactThreshold,
    });
  }

  /** Runs `op`; when the host was lost meanwhile, reloads (by `reload`) and runs it once more. */
  private async retryIfLost<T>(reload: () => Promise<void>, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!isIndexHostLost(err) || this.dropped) throw err;
      this.lost = true;
      await reload();
      return op();
    }
  }

  /** Call with the lock held: loads the graph again after its host was lost, as open does. */
  private async reloadIfLost(): Promise<void> {
    if (!this.lost || this.dropped) return;
    // The snapshot is never ahead of what was applied, and SQLite holds everything applied.
    const info = { ...this.info, seq: Math.max(this.info.seq, this.appliedSeq) };
    const { report, savedSeq } = await load(info, this.opts);
    ({ size: this.size, capacity: this.capacity } = await this.host.stats(this.key));
    this.savedSeq = savedSeq;
    this.lost = false;
    this.opts.log.warn({ collection: this.info.name, ...report }, 'index reloaded after its host was lost');
  }

  apply(changes: IndexChanges): Promise<void> {
    if (changes.adds.length === 0 && changes.deletes.length === 0) return Promise.resolve();
    return this.lock.run(async () => {
      if (this.dropped) return;
      await this.reloadIfLost();
      // Applying again after a reload is harmless: a removed label is not counted twice, an
      // added one replaces itself.
      await this.retryIfLost(
        () => this.reloadIfLost(),
        async () => {
          if (changes.deletes.length > 0) this.size -= await this.host.remove(this.key, Float64Array.from(changes.deletes));
          if (changes.adds.length > 0) {
            const { labels, vectors } = pack(changes.adds, this.dimension);
            ({ size: this.size, capacity: this.capacity } = await this.host.add(this.key, labels, vectors));
          }
        },
      );
      this.appliedSeq = Math.max(this.appliedSeq, changes.seq);
    });
  }

  stats(): Promise<IndexStats> {
    const perElement = this.dimension * 4 + this.info.hnsw.m * 2 * 4 + 8 + 8 + 16;
    return Promise.resolve({ size: this.size, memoryBytes: this.capacity * perElement, appliedSeq: this.appliedSeq });
  }

  save(): Promise<boolean> {
    return this.lock.run(() => this.saveLocked());
  }

  /** Call with the lock held. */
  private async saveLocked(): Promise<boolean> {
    await this.reloadIfLost();
    if (this.dropped || this.appliedSeq === this.savedSeq) return false;
    const seq = this.appliedSeq;
    const started = Date.now();
    await this.retryIfLost(
      () => this.reloadIfLost(),
      () => this.host.save(this.key, this.base, seq),
    );
    this.savedSeq = seq;
    this.opts.source.pruneTombstones(this.info.id, seq);
    this.opts.log.debug({ collection: this.info.name, seq, size: this.size, ms: Date.now() - started }, 'index snapshot saved');
    return true;
  }

  copySnapshot(destDir: string): Promise<number | undefined> {
    return this.lock.run(async () => {
      if (this.dropped) return undefined;
      await this.saveLocked();
      for (const ext of ['.hnsw', '.labels', '.json']) {
        await fs.promises.copyFile(`${this.base}${ext}`, path.join(destDir, `c${this.info.id}${ext}`));
      }
      return this.savedSeq;
    });
  }

  drop(): Promise<void> {
    return this.lock.run(async () => {
      this.dropped = true;
      await this.host.drop(this.key, this.base);
    });
  }
}

/** Loads the snapshot into the host and replays the store past it, or rebuilds from the store. */
async function load(info: CollectionInfo, opts: LocalIndexOptions): Promise<{ report: OpenReport; savedSeq: number }> {
  const { source, log, host } = opts;
  const key = info.id;
  const shape: CoreShape = { dimension: info.dimension, metric: info.metric, params: info.hnsw };
  const loaded = await host.load(key, snapshotBase(opts.dir, info.id), shape);
  const validFrom = opts.validFrom ?? 0;
  if ('seq' in loaded && loaded.seq <= info.seq && loaded.seq >= validFrom) {
    // Deletes first: labels are never reused, so a tombstoned label can only be an old one.
    const replayedDeletes = await host.remove(key, Float64Array.from(source.tombstonesAfter(info.id, loaded.seq)));
    const replayedAdds = await send(host, key, info.dimension, source.vectorsAfter(info.id, loaded.seq));
    const mismatch = await host.verify(key, Float64Array.from(source.liveLabels(info.id)));
    if (!mismatch) {
      const { size } = await host.stats(key);
      return { report: { source: 'snapshot', replayedAdds, replayedDeletes, size }, savedSeq: loaded.seq };
    }
    log.warn({ collection: info.name, reason: mismatch }, 'index snapshot disagrees with SQLite; rebuilding from SQLite');
    const size = await rebuild(info, opts, shape);
    return { report: { source: 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size, reason: mismatch }, savedSeq: -1 };
  }
  const reason =
    'reason' in loaded
      ? loaded.reason
      : loaded.seq > info.seq
        ? `snapshot seq ${loaded.seq} is ahead of SQLite seq ${info.seq}`
        : `snapshot seq ${loaded.seq} predates the vectors rewritten at seq ${validFrom}`;
  const size = await rebuild(info, opts, shape);
  if (size > 0 || reason !== 'no snapshot') log.warn({ collection: info.name, reason, size }, 'index rebuilt from SQLite');
  return { report: { source: size === 0 ? 'empty' : 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size, reason }, savedSeq: -1 };
}

async function rebuild(info: CollectionInfo, opts: LocalIndexOptions, shape: CoreShape): Promise<number> {
  const expected = opts.source.liveLabels(info.id).length;
  await opts.host.create(info.id, shape, Math.ceil(expected * 1.25));
  return send(opts.host, info.id, info.dimension, opts.source.allVectors(info.id));
}

/**
 * Sends vectors to the host in batches, one in flight: the store is read a batch at a time and
 * the main thread serves requests (/healthz) while the host inserts. Returns how many were sent.
 */
async function send(host: IndexHostApi, key: number, dimension: number, vectors: Iterable<{ label: number; vector: Float32Array }>): Promise<number> {
  let batch: { label: number; vector: Float32Array }[] = [];
  let sent = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const { labels, vectors: flat } = pack(batch, dimension);
    sent += batch.length;
    batch = [];
    await host.add(key, labels, flat);
  };
  for (const v of vectors) {
    batch.push(v);
    if (batch.length >= SEND_BATCH) await flush();
  }
  await flush();
  return sent;
}

/** Labels and vectors as two flat arrays (one message, no per-vector objects). */
function pack(adds: readonly { label: number; vector: Float32Array }[], dimension: number): { labels: Float64Array; vectors: Float32Array } {
  const labels = new Float64Array(adds.length);
  const vectors = new Float32Array(adds.length * dimension);
  adds.forEach((a, i) => {
    if (a.vector.length !== dimension) throw new RangeError(`expected ${dimension} dimensions, got ${a.vector.length}`);
    labels[i] = a.label;
    vectors.set(a.vector, i * dimension);
  });
  return { labels, vectors };
}
