// Owns the live HNSW index of every open collection and keeps it in step with SQLite:
// - open: load the snapshot, replay writes newer than it from SQLite, check that the index holds
//   exactly the labels SQLite says it must; anything off (missing, truncated, mismatched files)
//   means a rebuild from SQLite with a log line, never a crash;
// - apply: each committed write's IndexChanges, in commit order (a FIFO lock per collection);
// - snapshot: periodically and at shutdown, off the request path; the lock keeps the index
//   still while hnswlib writes it from another thread.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Collection, DocumentsRepo, IndexChanges } from '../storage/index.js';
import { HnswIndex } from './hnsw-index.js';
import { FifoLock } from '../util/fifo-lock.js';

interface Entry {
  collection: Collection;
  index: HnswIndex;
  lock: FifoLock;
  appliedSeq: number;
  savedSeq: number;
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

export class IndexManager {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly dir: string,
    private readonly docs: DocumentsRepo,
    private readonly log: Logger,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** File base name by collection id: collection names never reach a path. */
  private base(collectionId: number): string {
    return path.join(this.dir, `c${collectionId}`);
  }

  get(collectionId: number): HnswIndex | undefined {
    return this.entries.get(collectionId)?.index;
  }

  async open(collection: Collection): Promise<OpenReport> {
    const base = this.base(collection.id);
    const expect = { dimension: collection.dimension, metric: collection.metric, params: collection.hnsw };
    const loaded = await HnswIndex.load(base, expect);
    let report: OpenReport;
    let entry: Entry;
    if ('index' in loaded && loaded.seq <= collection.seq) {
      const index = loaded.index;
      let replayedDeletes = 0;
      let replayedAdds = 0;
      // Deletes first: labels are never reused, so a tombstoned label can only be an old one.
      for (const label of this.docs.tombstonesAfter(collection.id, loaded.seq)) {
        if (index.has(label)) replayedDeletes++;
        index.remove(label);
      }
      for (const { label, vector } of this.docs.vectorsAfter(collection.id, loaded.seq)) {
        index.add(label, vector);
        replayedAdds++;
      }
      entry = { collection, index, lock: new FifoLock(), appliedSeq: collection.seq, savedSeq: loaded.seq };
      report = { source: 'snapshot', replayedAdds, replayedDeletes, size: index.size };
      const mismatch = this.verify(collection.id, index);
      if (mismatch) {
        this.log.warn({ collection: collection.name, reason: mismatch }, 'index snapshot disagrees with SQLite; rebuilding from SQLite');
        entry = await this.rebuild(collection);
        report = { source: 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: entry.index.size, reason: mismatch };
      }
    } else {
      const reason = 'reason' in loaded ? loaded.reason : `snapshot seq ${loaded.seq} is ahead of SQLite seq ${collection.seq}`;
      entry = await this.rebuild(collection);
      report = { source: entry.index.size === 0 ? 'empty' : 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: entry.index.size, reason };
      if (entry.index.size > 0 || reason !== 'no snapshot') {
        this.log.warn({ collection: collection.name, reason, size: entry.index.size }, 'index rebuilt from SQLite');
      }
    }
    this.entries.set(collection.id, entry);
    this.log.info({ collection: collection.name, ...report }, 'index open');
    return report;
  }

  /** Returns why the index and SQLite disagree, or undefined when they agree. */
  private verify(collectionId: number, index: HnswIndex): string | undefined {
    const expected = this.docs.liveLabels(collectionId);
    if (expected.length !== index.size) return `index has ${index.size} vectors, SQLite has ${expected.length}`;
    for (const label of expected) if (!index.has(label)) return `chunk ${label} is missing from the index`;
    return undefined;
  }

  private async rebuild(collection: Collection): Promise<Entry> {
    const expected = this.docs.liveLabels(collection.id).length;
    const index = HnswIndex.create(collection.dimension, collection.metric, collection.hnsw, Math.ceil(expected * 1.25));
    let n = 0;
    for (const { label, vector } of this.docs.allVectors(collection.id)) {
      index.add(label, vector);
      // Yield now and then so /healthz answers while a large collection rebuilds.
      if (++n % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    // savedSeq -1: the rebuilt index is not on disk yet, so the next snapshot pass writes it.
    return { collection, index, lock: new FifoLock(), appliedSeq: collection.seq, savedSeq: -1 };
  }

  /** Applies one committed write. Call right after the commit, in the same tick, to keep commit order. */
  apply(collectionId: number, changes: IndexChanges): Promise<void> {
    const entry = this.entries.get(collectionId);
    if (!entry || (changes.adds.length === 0 && changes.deletes.length === 0)) return Promise.resolve();
    return entry.lock.run(async () => {
      // HNSW inserts cost ~0.1 ms each: a big batch yields every few ms so requests are served
      // in between (searches meanwhile see part of the batch, whose rows are already committed).
      let slice = performance.now();
      const breathe = async () => {
        if (performance.now() - slice < APPLY_SLICE_MS) return;
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      };
      for (const label of changes.deletes) {
        entry.index.remove(label);
        await breathe();
      }
      for (const { label, vector } of changes.adds) {
        entry.index.add(label, vector);
        await breathe();
      }
      entry.appliedSeq = Math.max(entry.appliedSeq, changes.seq);
    });
  }

  /** Saves the snapshot of one collection if it changed since the last one. */
  snapshot(collectionId: number): Promise<boolean> {
    const entry = this.entries.get(collectionId);
    if (!entry) return Promise.resolve(false);
    return entry.lock.run(() => this.saveLocked(collectionId, entry));
  }

  /** Call with entry.lock held. */
  private async saveLocked(collectionId: number, entry: Entry): Promise<boolean> {
    if (entry.appliedSeq === entry.savedSeq) return false;
    const seq = entry.appliedSeq;
    const started = Date.now();
    await entry.index.save(this.base(collectionId), seq);
    entry.savedSeq = seq;
    this.docs.pruneTombstones(collectionId, seq);
    this.log.debug({ collection: entry.collection.name, seq, size: entry.index.size, ms: Date.now() - started }, 'index snapshot saved');
    return true;
  }

  /**
   * Brings the snapshot of one collection up to date and copies its files into destDir, all under
   * the collection's lock so no snapshot is rewritten mid-copy (used by online backup). Returns the
   * snapshot's seq, or undefined when the collection has no open index.
   */
  copySnapshot(collectionId: number, destDir: string): Promise<number | undefined> {
    const entry = this.entries.get(collectionId);
    if (!entry) return Promise.resolve(undefined);
    return entry.lock.run(async () => {
      await this.saveLocked(collectionId, entry);
      for (const ext of ['.hnsw', '.labels', '.json']) {
        await fs.promises.copyFile(`${this.base(collectionId)}${ext}`, path.join(destDir, `c${collectionId}${ext}`));
      }
      return entry.savedSeq;
    });
  }

  /** Rough bytes held by one collection's index: vectors, links and labels (hnswlib does not report it). */
  memoryEstimate(collectionId: number): number {
    const entry = this.entries.get(collectionId);
    if (!entry) return 0;
    const perElement = entry.index.dimension * 4 + entry.collection.hnsw.m * 2 * 4 + 8 + 8 + 16;
    return entry.index.capacity * perElement;
  }

  async snapshotAll(): Promise<number> {
    let saved = 0;
    for (const id of [...this.entries.keys()]) {
      try {
        if (await this.snapshot(id)) saved++;
      } catch (err) {
        this.log.error({ err, collectionId: id }, 'index snapshot failed; SQLite still has every write');
      }
    }
    return saved;
  }

  /** Forgets a collection's index and deletes its files. */
  async drop(collectionId: number): Promise<void> {
    const entry = this.entries.get(collectionId);
    this.entries.delete(collectionId);
    const remove = () => HnswIndex.removeFiles(this.base(collectionId));
    await (entry ? entry.lock.run(remove) : remove());
  }
}
