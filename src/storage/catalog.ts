// Owns the collection catalog (migrations/007): each collection's UUID and surface attributes,
// and pending collections, which a surface announced before their dimension is known. A pending
// collection becomes a collections row at its first write (collections.ts create, same UUID).
import crypto from 'node:crypto';
import type { Db } from './database.js';
import type { CatalogEntry, CollectionCatalog, SurfaceAttributes } from './store.js';

interface EntryRow {
  uuid: string;
  name: string;
  stored: number;
  surface: string;
  created_at: string;
}

function toEntry(r: EntryRow): CatalogEntry {
  return { uuid: r.uuid, name: r.name, stored: r.stored === 1, surface: JSON.parse(r.surface) as SurfaceAttributes, createdAt: r.created_at };
}

const ENTRIES = `SELECT uuid, name, 1 AS stored, surface, created_at FROM collections
  UNION ALL SELECT uuid, name, 0 AS stored, surface, created_at FROM pending_collections`;

export class CatalogRepo implements CollectionCatalog {
  private readonly all;
  private readonly uuidStmt;
  private readonly nameStmt;
  private readonly insert;
  private readonly remove;
  private readonly setStored;
  private readonly setPending;

  constructor(private readonly db: Db) {
    this.all = db.prepare<[], EntryRow>(`SELECT * FROM (${ENTRIES}) ORDER BY name`);
    this.uuidStmt = db.prepare<[string, string], EntryRow>(
      `SELECT uuid, name, 1 AS stored, surface, created_at FROM collections WHERE uuid = ?
       UNION ALL SELECT uuid, name, 0 AS stored, surface, created_at FROM pending_collections WHERE uuid = ?`,
    );
    this.nameStmt = db.prepare<[string, string], EntryRow>(
      `SELECT uuid, name, 1 AS stored, surface, created_at FROM collections WHERE name = ?
       UNION ALL SELECT uuid, name, 0 AS stored, surface, created_at FROM pending_collections WHERE name = ?`,
    );
    this.insert = db.prepare<[string, string, string, string]>('INSERT INTO pending_collections (uuid, name, surface, created_at) VALUES (?, ?, ?, ?)');
    this.remove = db.prepare<[string]>('DELETE FROM pending_collections WHERE uuid = ?');
    this.setStored = db.prepare<[string, string]>('UPDATE collections SET surface = ? WHERE uuid = ?');
    this.setPending = db.prepare<[string, string]>('UPDATE pending_collections SET surface = ? WHERE uuid = ?');
  }

  list(): CatalogEntry[] {
    return this.all.all().map(toEntry);
  }

  byUuid(uuid: string): CatalogEntry | undefined {
    const r = this.uuidStmt.get(uuid, uuid);
    return r && toEntry(r);
  }

  byName(name: string): CatalogEntry | undefined {
    const r = this.nameStmt.get(name, name);
    return r && toEntry(r);
  }

  announce(name: string, surface: SurfaceAttributes): CatalogEntry | undefined {
    return this.db.transaction(() => {
      if (this.nameStmt.get(name, name)) return undefined;
      const entry: CatalogEntry = { uuid: crypto.randomUUID(), name, stored: false, surface, createdAt: new Date().toISOString() };
      this.insert.run(entry.uuid, name, JSON.stringify(surface), entry.createdAt);
      return entry;
    })();
  }

  withdraw(uuid: string): boolean {
    return this.remove.run(uuid).changes > 0;
  }

  setSurface(uuid: string, surface: SurfaceAttributes): boolean {
    const json = JSON.stringify(surface);
    return this.setStored.run(json, uuid).changes + this.setPending.run(json, uuid).changes > 0;
  }
}
