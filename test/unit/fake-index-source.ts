// An in-memory source of truth for LocalVectorIndex (the IndexSource SQLite implements): live
// vectors by label with the seq of the write that made them, and tombstones by seq. Labels are
// never reused, as chunk ids are not. Used by planner.test.ts and index-replay.test.ts.
import type { CollectionInfo, IndexChanges, Metric } from '../../src/domain/types.js';
import type { IndexSource } from '../../src/index/index.js';

export class FakeIndexSource implements IndexSource {
  /** The collection's seq: the last write committed. */
  seq = 0;
  private nextLabel = 1;
  readonly live = new Map<number, { vector: Float32Array; seq: number }>();
  tombstones: { label: number; seq: number }[] = [];
  /** The `uptoSeq` of every pruneTombstones call, in order. */
  readonly prunes: number[] = [];

  constructor(readonly collectionId = 1) {}

  /** Commits one write (new labels for `adds`, tombstones for `deletes`) and returns what the index must apply. */
  commit(adds: Float32Array[], deletes: number[] = []): IndexChanges & { labels: number[] } {
    const seq = ++this.seq;
    const out: IndexChanges & { labels: number[] } = { seq, adds: [], deletes: [], labels: [] };
    for (const label of deletes) {
      if (!this.live.delete(label)) throw new Error(`label ${label} is not live`);
      this.tombstones.push({ label, seq });
      out.deletes.push(label);
    }
    for (const vector of adds) {
      const label = this.nextLabel++;
      this.live.set(label, { vector, seq });
      out.adds.push({ label, vector });
      out.labels.push(label);
    }
    return out;
  }

  /** The collection's row as the store would return it now. */
  info(metric: Metric, dimension: number, overrides: Partial<CollectionInfo> = {}): CollectionInfo {
    return {
      id: this.collectionId,
      name: `c${this.collectionId}`,
      metric,
      dimension,
      embedder: { provider: 'none' },
      hnsw: { m: 16, efConstruction: 100 },
      chunking: null,
      seq: this.seq,
      createdAt: '2024-01-01T00:00:00.000Z',
      ...overrides,
    };
  }

  private check(collectionId: number): void {
    if (collectionId !== this.collectionId) throw new Error(`asked for collection ${collectionId}, this source holds ${this.collectionId}`);
  }

  tombstonesAfter(collectionId: number, seq: number): number[] {
    this.check(collectionId);
    return this.tombstones.filter((t) => t.seq > seq).map((t) => t.label);
  }

  *vectorsAfter(collectionId: number, seq: number): Iterable<{ label: number; vector: Float32Array }> {
    this.check(collectionId);
    for (const [label, v] of this.live) if (v.seq > seq) yield { label, vector: v.vector };
  }

  liveLabels(collectionId: number): number[] {
    this.check(collectionId);
    return [...this.live.keys()];
  }

  *allVectors(collectionId: number): Iterable<{ label: number; vector: Float32Array }> {
    this.check(collectionId);
    for (const [label, v] of this.live) yield { label, vector: v.vector };
  }

  pruneTombstones(collectionId: number, uptoSeq: number): void {
    this.check(collectionId);
    this.prunes.push(uptoSeq);
    this.tombstones = this.tombstones.filter((t) => t.seq > uptoSeq);
  }
}
