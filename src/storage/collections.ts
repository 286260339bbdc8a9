// Owns the collections table.
import crypto from 'node:crypto';
import type { Db } from './database.js';
import type { ChunkingSpec, CollectionInfo, EmbedderSpec, Metric } from '../domain/types.js';
import type { NewCollection } from './store.js';

interface CollectionDbRow {
  id: number;
  name: string;
  metric: Metric;
  dimension: number;
  embedder: string;
  hnsw: string;
  chunking: string | null;
  seq: number;
  created_at: string;
}

function toCollection(r: CollectionDbRow): CollectionInfo {
  const hnsw = JSON.parse(r.hnsw) as { m: number; ef_construction: number };
  return {
    id: r.id,
    name: r.name,
    metric: r.metric,
    dimension: r.dimension,
    embedder: JSON.parse(r.embedder) as EmbedderSpec,
    hnsw: { m: hnsw.m, efConstruction: hnsw.ef_construction },
    chunking: r.chunking === null ? null : (JSON.parse(r.chunking) as ChunkingSpec),
    seq: r.seq,
    createdAt: r.created_at,
  };
}

export class CollectionsRepo {
  private readonly byName;
  private readonly all;
  private readonly insert;
  private readonly remove;
  private readonly bump;
  private readonly countDocs;
  private readonly pendingByName;
  private readonly removePending;
  private readonly insertReduction;

  constructor(private readonly db: Db) {
    this.byName = db.prepare<[string], CollectionDbRow>('SELECT * FROM collections WHERE name = ?');
    this.all = db.prepare<[], CollectionDbRow>('SELECT * FROM collections ORDER BY name');
    this.insert = db.prepare<[string, Metric, number, string, string, string, string | null, string, string], CollectionDbRow>(
      'INSERT INTO collections (name, metric, dimension, embedder, hnsw, created_at, chunking, uuid, surface) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
    );
    this.pendingByName = db.prepare<[string], { uuid: string; surface: string }>('SELECT uuid, surface FROM pending_collections WHERE name = ?');
    this.removePending = db.prepare<[string]>('DELETE FROM pending_collections WHERE uuid = ?');
    this.remove = db.prepare<[number]>('DELETE FROM collections WHERE id = ?');
    this.insertReduction = db.prepare<[number, string, number, number, number]>(
      'INSERT INTO collection_reductions (collection_id, method, dimensions, fit_on, keep_full) VALUES (?, ?, ?, ?, ?)',
    );
    this.bump = db.prepare<[number], { seq: number }>('UPDATE collections SET seq = seq + 1 WHERE id = ? RETURNING seq');
    this.countDocs = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM documents WHERE collection_id = ?');
  }

  /**
   * Collections by name, kept between calls (every query looks its collection up; the row is
   * fixed after creation except for `seq`). Cleared on create and delete, the only other changes.
   */
  private readonly cache = new Map<string, CollectionInfo>();

  /** The collection; its `seq` is as of the first lookup (list() reads the current one). */
  get(name: string): CollectionInfo | undefined {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const r = this.byName.get(name);
    if (!r) return undefined;
    const c = toCollection(r);
    this.cache.set(name, c);
    return c;
  }

  list(): CollectionInfo[] {
    return this.all.all().map(toCollection);
  }

  /**
   * Returns undefined when the name is taken, by a collection or by a pending one (catalog.ts)
   * other than the one `c.uuid` names (also undefined when that one is gone): that one becomes this collection, its UUID and surface
   * attributes kept, in the same transaction.
   */
  create(c: NewCollection): CollectionInfo | undefined {
    this.cache.clear();
    try {
      return this.db.transaction(() => {
        const pending = this.pendingByName.get(c.name);
        // A pending collection withdrawn meanwhile is not brought back by its first write.
        if (pending ? pending.uuid !== c.uuid : c.uuid !== undefined) return undefined;
        if (pending) this.removePending.run(pending.uuid);
        const row = this.insert.get(
          c.name,
          c.metric,
          c.dimension,
          JSON.stringify(c.embedder),
          JSON.stringify({ m: c.hnsw.m, ef_construction: c.hnsw.efConstruction }),
          new Date().toISOString(),
          c.chunking ? JSON.stringify(c.chunking) : null,
          pending?.uuid ?? crypto.randomUUID(),
          pending?.surface ?? '{}',
        );
        if (row && c.reduce) this.insertReduction.run(row.id, c.reduce.method, c.reduce.dimensions, c.reduce.fitOn, c.reduce.keepFull ? 1 : 0);
        return row && toCollection(row);
      })();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
      throw err;
    }
  }

  /** Deletes the collection and, by cascade, its documents and chunks. */
  delete(id: number): void {
    this.cache.clear();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM tombstones WHERE collection_id = ?').run(id);
      this.remove.run(id);
    })();
  }

  /** Next write sequence number; call inside the write's transaction. */
  nextSeq(id: number): number {
    return this.bump.get(id)!.seq;
  }

  documentCount(id: number): number {
    return this.countDocs.get(id)!.n;
  }
}
