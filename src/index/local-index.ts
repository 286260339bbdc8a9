// A collection's vector index living in this thread: an HNSW graph (hnswlib-node) kept in step
// with SQLite, behind the asynchronous VectorIndex seam.
// - open: load the snapshot, replay writes newer than it from the store, check that the index
//   holds exactly the labels the store says it must; anything off (missing, truncated, damaged,
//   mismatched files) means a rebuild from the store with a log line, never a crash;
// - apply: each committed write's IndexChanges, in commit order (a FIFO lock);
// - search: the planner. An allow-set no larger than `exactThreshold` is scanned exactly (HNSW
//   with a very selective filter walks a graph whose neighbours are mostly filtered out, and
//   recall collapses); a larger one goes through the graph with ef widened by 1/selectivity;
// - save: periodically and at shutdown; the lock keeps the graph still while hnswlib writes it
//   from another thread.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CollectionInfo, IndexChanges, Metric, Neighbor } from '../domain/types.js';
import { FifoLock } from '../util/fifo-lock.js';
import { exactSearch } from './exact-index.js';
import { HnswIndex } from './hnsw-index.js';
import type { IndexStats, SearchOptions, SearchOutcome, VectorIndex } from './vector-index.js';
import { labelTest } from './vector-index.js';
import { snapshotBase } from './verify-snapshot.js';

/** What an index reads from the source of truth to open, replay and rebuild itself. */
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
}

export interface OpenReport {
  source: 'snapshot' | 'rebuilt' | 'empty';
  replayedAdds: number;
  replayedDeletes: number;
  size: number;
  reason?: string;
}

/** Longest stretch of index updates before yielding to the event loop. */
const APPLY_SLICE_MS = 4;

export class LocalVectorIndex implements VectorIndex {
  private readonly lock = new FifoLock();
  private dropped = false;

  private constructor(
    private readonly info: CollectionInfo,
    private core: HnswIndex,
    private readonly opts: LocalIndexOptions,
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

  private get base(): string {
    return snapshotBase(this.opts.dir, this.info.id);
  }

  /** Opens the index of a collection: snapshot + replay, or a rebuild from the store; logs how. */
  static async open(info: CollectionInfo, opts: LocalIndexOptions): Promise<{ index: LocalVectorIndex; report: OpenReport }> {
    const opened = await LocalVectorIndex.load(info, opts);
    opts.log.info({ collection: info.name, ...opened.report }, 'index open');
    return opened;
  }

  private static async load(info: CollectionInfo, opts: LocalIndexOptions): Promise<{ index: LocalVectorIndex; report: OpenReport }> {
    fs.mkdirSync(opts.dir, { recursive: true });
    const base = snapshotBase(opts.dir, info.id);
    const { source, log } = opts;
    const loaded = await HnswIndex.load(base, { dimension: info.dimension, metric: info.metric, params: info.hnsw });
    if ('index' in loaded && loaded.seq <= info.seq) {
      const core = loaded.index;
      let replayedDeletes = 0;
      let replayedAdds = 0;
      // Deletes first: labels are never reused, so a tombstoned label can only be an old one.
      for (const label of source.tombstonesAfter(info.id, loaded.seq)) {
        if (core.has(label)) replayedDeletes++;
        core.remove(label);
      }
      for (const { label, vector } of source.vectorsAfter(info.id, loaded.seq)) {
        core.add(label, vector);
        replayedAdds++;
      }
      const mismatch = verify(source.liveLabels(info.id), core);
      if (!mismatch) {
        const report: OpenReport = { source: 'snapshot', replayedAdds, replayedDeletes, size: core.size };
        return { index: new LocalVectorIndex(info, core, opts, info.seq, loaded.seq), report };
      }
      log.warn({ collection: info.name, reason: mismatch }, 'index snapshot disagrees with SQLite; rebuilding from SQLite');
      const rebuilt = await rebuild(info, source);
      const report: OpenReport = { source: 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: rebuilt.size, reason: mismatch };
      return { index: new LocalVectorIndex(info, rebuilt, opts, info.seq, -1), report };
    }
    const reason = 'reason' in loaded ? loaded.reason : `snapshot seq ${loaded.seq} is ahead of SQLite seq ${info.seq}`;
    const core = await rebuild(info, source);
    const report: OpenReport = { source: core.size === 0 ? 'empty' : 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: core.size, reason };
    if (core.size > 0 || reason !== 'no snapshot') log.warn({ collection: info.name, reason, size: core.size }, 'index rebuilt from SQLite');
    return { index: new LocalVectorIndex(info, core, opts, info.seq, -1), report };
  }

  search(query: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchOutcome> {
    return Promise.resolve(this.searchNow(query, k, opts));
  }

  private searchNow(query: Float32Array, k: number, opts: SearchOptions): SearchOutcome {
    const core = this.core;
    const ef = Math.max(opts.ef ?? 0, k);
    if (!opts.allow) {
      const exclude = opts.exclude?.size ?? 0;
      return { neighbors: core.search(query, k, { ef: ef + exclude, exclude: opts.exclude }), plan: 'hnsw' };
    }
    if (opts.allow.size <= this.opts.exactThreshold || core.size === 0) {
      return { neighbors: this.scan(query, k, opts), plan: 'exact' };
    }
    let allowed = 0;
    const test = labelTest(opts)!;
    for (const l of opts.allow) if (test(l) && core.has(l)) allowed++;
    const selectivity = Math.max(allowed / core.size, 1e-6);
    const wideEf = Math.min(10_000, Math.max(ef, Math.ceil(ef / selectivity)));
    return { neighbors: core.search(query, k, { ef: wideEf, allow: opts.allow, exclude: opts.exclude }), plan: 'hnsw_filtered' };
  }

  /** Exact top k over the allowed labels, reading their vectors from the graph's own storage. */
  private scan(query: Float32Array, k: number, opts: SearchOptions): Neighbor[] {
    const core = this.core;
    const test = labelTest(opts)!;
    function* pairs(): Generator<[number, Float32Array]> {
      for (const label of opts.allow!) {
        if (!test(label)) continue;
        const v = core.vector(label);
        if (v) yield [label, v];
      }
    }
    return exactSearch(this.metric, query, pairs(), k);
  }

  apply(changes: IndexChanges): Promise<void> {
    if (changes.adds.length === 0 && changes.deletes.length === 0) return Promise.resolve();
    return this.lock.run(async () => {
      if (this.dropped) return;
      // HNSW inserts cost ~0.1 ms each: a big batch yields every few ms so requests are served
      // in between (searches meanwhile see part of the batch, whose rows are already committed).
      let slice = performance.now();
      const breathe = async () => {
        if (performance.now() - slice < APPLY_SLICE_MS) return;
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      };
      for (const label of changes.deletes) {
        this.core.remove(label);
        await breathe();
      }
      for (const { label, vector } of changes.adds) {
        this.core.add(label, vector);
        await breathe();
      }
      this.appliedSeq = Math.max(this.appliedSeq, changes.seq);
    });
  }

  stats(): Promise<IndexStats> {
    const perElement = this.dimension * 4 + this.info.hnsw.m * 2 * 4 + 8 + 8 + 16;
    return Promise.resolve({ size: this.core.size, memoryBytes: this.core.capacity * perElement, appliedSeq: this.appliedSeq });
  }

  save(): Promise<boolean> {
    return this.lock.run(() => this.saveLocked());
  }

  /** Call with the lock held. */
  private async saveLocked(): Promise<boolean> {
    if (this.dropped || this.appliedSeq === this.savedSeq) return false;
    const seq = this.appliedSeq;
    const started = Date.now();
    await this.core.save(this.base, seq);
    this.savedSeq = seq;
    this.opts.source.pruneTombstones(this.info.id, seq);
    this.opts.log.debug({ collection: this.info.name, seq, size: this.core.size, ms: Date.now() - started }, 'index snapshot saved');
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
      await HnswIndex.removeFiles(this.base);
    });
  }
}

/** Returns why the index and the store disagree, or undefined when they agree. */
function verify(expected: number[], core: HnswIndex): string | undefined {
  if (expected.length !== core.size) return `index has ${core.size} vectors, SQLite has ${expected.length}`;
  for (const label of expected) if (!core.has(label)) return `chunk ${label} is missing from the index`;
  return undefined;
}

async function rebuild(info: CollectionInfo, source: IndexSource): Promise<HnswIndex> {
  const expected = source.liveLabels(info.id).length;
  const core = HnswIndex.create(info.dimension, info.metric, info.hnsw, Math.ceil(expected * 1.25));
  let n = 0;
  for (const { label, vector } of source.allVectors(info.id)) {
    core.add(label, vector);
    // Yield now and then so /healthz answers while a large collection rebuilds.
    if (++n % 2000 === 0) await new Promise((r) => setImmediate(r));
  }
  return core;
}
