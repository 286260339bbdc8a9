// The SQLite implementation of the Store interface: one connection (WAL), the repositories
// over it, the filter compiler, size and online backup.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { DocumentWrite } from '../domain/types.js';
import { AppliedRepo } from './applied.js';
import { CatalogRepo } from './catalog.js';
import { CollectionsRepo } from './collections.js';
import type { Db } from './database.js';
import { openDatabase } from './database.js';
import { DocumentsRepo } from './documents.js';
import { EmbeddingCache } from './embedding-cache.js';
import { compileOptionalFilter } from './filter-sql.js';
import type { SqlWhere } from './filter-sql.js';
import { JobsRepo } from './jobs.js';
import { ReductionsRepo } from './reductions.js';
import { SearchRepo } from './search.js';
import type { BackupSummary, CompiledFilter, DocumentStore, Isolated, Store } from './store.js';

export interface SqliteStoreOptions {
  file: string;
  /** "full" fsyncs every commit: an acknowledged write survives power loss, not only a process crash. */
  sync: 'full' | 'normal';
  /** Embedding cache entries kept (least recently used dropped first); 0 disables it. */
  embedCacheMax: number;
}

/** A compiled filter came from this store: its SQL is ours. */
const where = (f: CompiledFilter | undefined) => f as SqlWhere | undefined;

export class SqliteStore implements Store {
  readonly collections: CollectionsRepo;
  readonly catalog: CatalogRepo;
  readonly documents: DocumentStore;
  readonly jobs: JobsRepo;
  readonly cache: EmbeddingCache;
  readonly applied: AppliedRepo;
  readonly reductions: ReductionsRepo;

  private constructor(
    private readonly db: Db,
    private readonly file: string,
    embedCacheMax: number,
  ) {
    this.collections = new CollectionsRepo(db);
    this.reductions = new ReductionsRepo(db, this.collections);
    this.catalog = new CatalogRepo(db);
    const docs = new DocumentsRepo(db, this.collections);
    const search = new SearchRepo(db, docs);
    this.jobs = new JobsRepo(db);
    this.cache = new EmbeddingCache(db, embedCacheMax);
    this.applied = new AppliedRepo(db);
    this.documents = {
      get: (c, id) => docs.get(c, id),
      chunksOf: (pk) => docs.chunksOf(pk),
      vectorOf: (pk) => docs.vectorOf(pk),
      image: (sha) => docs.image(sha),
      page: (c, after, limit, f) => (f ? search.page(c, after, limit, where(f)) : docs.page(c, after, limit)),
      slice: (c, offset, limit, f) => search.slice(c, offset, limit, where(f)),
      write: (c, writes: DocumentWrite[], also) => docs.write(c, writes, also),
      delete: (c, ids) => search.deleteMany(c, ids),
      idsWhere: (c, f) => search.idsWhere(c, where(f)),
      keysPresent: (c, keys) => search.keysPresent(c, keys),
      countWhere: (c, f) => search.countWhere(c, where(f)),
      chunksByLabel: (labels, fields) => docs.chunksByLabel(labels, fields),
      labelsWhere: (c, f) => search.labelsWhere(c, where(f)),
      vectorsByLabel: (labels) => search.vectorsByLabel(labels),
      keyword: (c, text, f, limit, stats) => search.keyword(c, text, where(f), limit, stats),
      keywordStats: (c, text) => search.keywordStats(c, text),
      documentVectors: (c, ids) => search.documentVectors(c, ids),
      analysisPks: (c, f) => search.analysisPks(c, where(f)),
      analysisDocuments: (pks, maxText) => search.analysisDocuments(pks, maxText),
      tombstonesAfter: (c, seq) => docs.tombstonesAfter(c, seq),
      vectorsAfter: (c, seq) => docs.vectorsAfter(c, seq),
      liveLabels: (c) => docs.liveLabels(c),
      allVectors: (c) => docs.allVectors(c),
      pruneTombstones: (c, seq) => docs.pruneTombstones(c, seq),
    };
  }

  /** Opens (creating if needed) and migrates the database. */
  static open(opts: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(openDatabase({ file: opts.file, sync: opts.sync }), opts.file, opts.embedCacheMax);
  }

  compileFilter(filter: unknown, field = 'filter'): CompiledFilter | undefined {
    return compileOptionalFilter(filter, field);
  }

  transaction<T>(fn: (isolated: Isolated) => T): T {
    const db = this.db;
    const isolated: Isolated = (step) => {
      try {
        // Inside the outer transaction better-sqlite3 makes this a SAVEPOINT, rolled back on a throw.
        return { ok: true, value: db.transaction(step)() };
      } catch (error) {
        // Without a transaction, the next steps would each commit on their own: give up instead.
        if (!db.inTransaction) throw error;
        return { ok: false, error };
      }
    };
    return db.transaction(() => fn(isolated))();
  }

  sizeBytes(): { db: number; wal: number } {
    const size = (f: string) => {
      try {
        return fs.statSync(f).size;
      } catch {
        return 0; // no WAL right after a checkpoint: 0 is the truth
      }
    };
    return { db: size(this.file), wal: size(`${this.file}-wal`) };
  }

  async backupTo(file: string): Promise<BackupSummary> {
    // SQLite's online backup copies page by page between event-loop turns; writes on this
    // connection during the copy are carried into it, so the copy is one consistent state.
    await this.db.backup(file);
    const copy = new Database(file);
    try {
      copy.pragma('journal_mode = DELETE');
      const repo = new CollectionsRepo(copy);
      return { collections: repo.list().map((c) => ({ id: c.id, name: c.name, seq: c.seq, documents: repo.documentCount(c.id) })) };
    } finally {
      copy.close();
    }
  }

  close(): void {
    this.db.close();
  }
}

/** SQLite's integrity check of a database file that is not open elsewhere: "ok" or the problems. */
export function checkDatabaseFile(file: string): string {
  const db = new Database(file, { fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * The cluster positions (migrations/013) a database file holds, read without opening it as the
 * store (cluster mode checks them against the log before start). Empty if it has none yet.
 */
export function readAppliedPositions(file: string): { stream: string; seq: number }[] {
  // Not readonly: a WAL left by a crash needs writing back to be read.
  const db = new Database(file, { fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_applied'").get();
    return table ? db.prepare<[], { stream: string; seq: number }>('SELECT stream, seq FROM cluster_applied').all() : [];
  } finally {
    db.close();
  }
}
