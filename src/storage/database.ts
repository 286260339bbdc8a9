// Owns the SQLite connection: opening it (WAL, foreign keys, durability level) and bringing the
// schema up to date by applying migrations/NNN_name.sql in order, each recorded in schema_migrations.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { PACKAGE_ROOT } from '../config/index.js';
import { ftsText, indexTerms } from '../text/segment.js';

export type Db = Database.Database;

export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations');

export interface OpenOptions {
  file: string;
  /** "full" fsyncs every commit: an acknowledged write survives power loss, not only a process crash. */
  sync: 'full' | 'normal';
  migrationsDir?: string;
}

export function openDatabase(opts: OpenOptions): Db {
  fs.mkdirSync(path.dirname(opts.file), { recursive: true });
  const db = new Database(opts.file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Before migrating: the FTS triggers (migrations/003, 008) call them on every chunk write.
  db.function('quiver_fts_text', { deterministic: true }, (t: unknown) => (typeof t === 'string' ? ftsText(t) : null));
  db.function('quiver_fts_count', { deterministic: true }, (t: unknown) => (typeof t === 'string' ? indexTerms(t).length : 0));
  migrate(db, opts.migrationsDir ?? MIGRATIONS_DIR);
  return db;
}

interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

function readMigrations(dir: string): MigrationFile[] {
  const files = fs.readdirSync(dir).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f));
  return files
    .map((f) => {
      const sql = fs.readFileSync(path.join(dir, f), 'utf8');
      return {
        version: Number(f.slice(0, 3)),
        name: f.slice(4, -4),
        sql,
        checksum: crypto.createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
}

/** Applies every migration newer than the recorded ones, each in its own transaction. Returns the versions applied. */
export function migrate(db: Db, dir: string): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Map(
    (db.prepare('SELECT version, checksum FROM schema_migrations').all() as { version: number; checksum: string }[]).map((r) => [
      r.version,
      r.checksum,
    ]),
  );
  const done: number[] = [];
  for (const m of readMigrations(dir)) {
    const known = applied.get(m.version);
    if (known !== undefined) {
      if (known !== m.checksum) {
        throw new Error(`migration ${m.version}_${m.name}.sql changed after it was applied; add a new migration instead of editing it`);
      }
      continue;
    }
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)').run(
        m.version,
        m.name,
        m.checksum,
        new Date().toISOString(),
      );
    })();
    done.push(m.version);
  }
  return done;
}

/** float32 little-endian, the byte order of every platform Node supports. */
export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobToVector(b: Buffer): Float32Array {
  // Copy: the Buffer may share a pool and is not guaranteed to be 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
