// Owns the read-only SQL of `quiver check` (src/cli/check.ts): opens a data dir's quiver.db with
// SQLite's read-only flag, never migrates and never writes, and answers what the check asks:
// integrity and foreign keys, the schema version, each collection's row and counts, and the
// chunk labels a collection's vector index must hold (all of them, or the writes after a
// snapshot's seq). A malformed collection row is reported in the result, not thrown.
//
// SQLite itself may create empty quiver.db-wal / quiver.db-shm files next to a WAL database it
// opens read-only (the shared-memory index readers need); the database file is never changed.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Db } from './database.js';
import { MIGRATIONS_DIR } from './database.js';
import type { HnswParams, Metric } from '../domain/types.js';

export interface InspectedCollection {
  id: number;
  name: string;
  metric: Metric;
  dimension: number;
  /** null when the row's `hnsw` JSON is not {m, ef_construction}; `rowProblem` says why. */
  hnsw: HnswParams | null;
  /** The sequence number of the collection's last write. */
  seq: number;
  documents: number;
  chunks: number;
  /** Chunks with a vector: what the collection's index must hold. */
  vectors: number;
  /** Chunks whose vector BLOB is not `dimension` float32s (a rebuild from SQLite would fail on them). */
  badVectors: number;
  rowProblem?: string;
}

export interface ForeignKeyViolation {
  table: string;
  rowid: number | null;
  parent: string;
}

interface CollectionDbRow {
  id: number;
  name: string;
  metric: Metric;
  dimension: number;
  hnsw: string;
  seq: number;
}

function parseHnsw(json: string): HnswParams | string {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    return `its hnsw column is not JSON (${(err as Error).message})`;
  }
  const o = v as { m?: unknown; ef_construction?: unknown } | null;
  if (typeof o !== 'object' || o === null || !Number.isInteger(o.m) || !Number.isInteger(o.ef_construction)) {
    return `its hnsw column ${json} is not {"m": <integer>, "ef_construction": <integer>}`;
  }
  return { m: o.m as number, efConstruction: o.ef_construction as number };
}

/** The newest migration this build knows (migrations/NNN_name.sql), the version a server would migrate to. */
export function knownSchemaVersion(): number {
  const versions = fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .map((f) => Number(f.slice(0, 3)));
  return Math.max(0, ...versions);
}

export class DatabaseInspector {
  private constructor(private readonly db: Db) {}

  /** Throws better-sqlite3's error when the file cannot be opened (it must exist: nothing is created). */
  static open(file: string): DatabaseInspector {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    // A connection setting, not a write: waits out a writer's lock instead of failing at once.
    db.pragma('busy_timeout = 5000');
    return new DatabaseInspector(db);
  }

  close(): void {
    this.db.close();
  }

  /** Tables, indexes, views and triggers in the schema: 0 for an empty database. */
  schemaObjectCount(): number {
    return this.db.prepare<[], number>('SELECT count(*) FROM sqlite_master').pluck().get() ?? 0;
  }

  /** ["ok"] when SQLite finds nothing wrong, else its messages (at most 100). */
  integrityCheck(): string[] {
    return this.db.prepare<[], string>('PRAGMA integrity_check').pluck().all();
  }

  foreignKeyViolations(): ForeignKeyViolation[] {
    return this.db.prepare<[], ForeignKeyViolation>('PRAGMA foreign_key_check').all();
  }

  /** max(version) of schema_migrations; null when the table is missing or empty (not a migrated Quiver database). */
  schemaVersion(): number | null {
    const hasTable = this.db.prepare<[], number>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").pluck().get();
    if (!hasTable) return null;
    return this.db.prepare<[], number | null>('SELECT max(version) FROM schema_migrations').pluck().get() ?? null;
  }

  /** The highest collection id ever handed out (AUTOINCREMENT never reuses one); 0 if none was. */
  maxCollectionId(): number {
    const hasSeq = this.db.prepare<[], number>("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'").pluck().get();
    if (!hasSeq) return 0;
    return this.db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'collections'").pluck().get() ?? 0;
  }

  collections(): InspectedCollection[] {
    const rows = this.db.prepare<[], CollectionDbRow>('SELECT id, name, metric, dimension, hnsw, seq FROM collections ORDER BY name').all();
    const documents = this.db.prepare<[number], number>('SELECT count(*) FROM documents WHERE collection_id = ?').pluck();
    // length(NULL) is NULL, which sum() passes over: only vectors of the wrong size count.
    const chunks = this.db.prepare<[number, number], { chunks: number; vectors: number; bad_vectors: number }>(
      'SELECT count(*) AS chunks, count(vector) AS vectors, coalesce(sum(length(vector) <> ?), 0) AS bad_vectors FROM chunks WHERE collection_id = ?',
    );
    return rows.map((r) => {
      const hnsw = parseHnsw(r.hnsw);
      const counts = chunks.get(r.dimension * 4, r.id) ?? { chunks: 0, vectors: 0, bad_vectors: 0 };
      return {
        id: r.id,
        name: r.name,
        metric: r.metric,
        dimension: r.dimension,
        hnsw: typeof hnsw === 'string' ? null : hnsw,
        seq: r.seq,
        documents: documents.get(r.id) ?? 0,
        chunks: counts.chunks,
        vectors: counts.vectors,
        badVectors: counts.bad_vectors,
        ...(typeof hnsw === 'string' ? { rowProblem: hnsw } : {}),
      };
    });
  }

  /** Every chunk label that must be in the collection's index. */
  liveLabels(collectionId: number): number[] {
    return this.db.prepare<[number], number>('SELECT id FROM chunks WHERE collection_id = ? AND vector IS NOT NULL').pluck().all(collectionId);
  }

  /** Labels of chunks with a vector written after `seq`: what a restart adds to a snapshot of `seq`. */
  labelsAddedAfter(collectionId: number, seq: number): number[] {
    return this.db
      .prepare<[number, number], number>('SELECT id FROM chunks WHERE collection_id = ? AND seq > ? AND vector IS NOT NULL')
      .pluck()
      .all(collectionId, seq);
  }

  /** Labels deleted after `seq`: what a restart removes from a snapshot of `seq`. */
  labelsDeletedAfter(collectionId: number, seq: number): number[] {
    return this.db.prepare<[number, number], number>('SELECT chunk_id FROM tombstones WHERE collection_id = ? AND seq > ?').pluck().all(collectionId, seq);
  }
}
