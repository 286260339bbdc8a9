// The collection catalog (migrations/007, src/storage/catalog.ts): UUIDs back-filled for
// collections made before it, pending collections that share one set of names with stored ones
// and become stored under the same UUID, and $document (Chroma's where_document) in filters.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate, openDatabase } from '../../src/storage/index.js';
import { CatalogRepo } from '../../src/storage/catalog.js';
import { CollectionsRepo } from '../../src/storage/collections.js';
import { compileFilter } from '../../src/storage/filter-sql.js';
import { tempDir } from '../helpers/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const newCollection = (name: string, uuid?: string) => ({ name, metric: 'l2' as const, dimension: 2, embedder: { provider: 'none' }, hnsw: { m: 16, efConstruction: 100 }, uuid });

describe('migration 007', () => {
  it('gives every existing collection its own version-4 UUID', () => {
    const dir = tempDir('quiver-catalog-');
    const old = path.join(dir, 'migrations');
    fs.mkdirSync(old);
    for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f < '007')) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(old, f));
    const db = openDatabase({ file: path.join(dir, 'q.db'), sync: 'normal', migrationsDir: old });
    const insert = db.prepare("INSERT INTO collections (name, metric, dimension, embedder, hnsw, created_at) VALUES (?, 'cosine', 2, '{}', '{\"m\":16,\"ef_construction\":100}', 'now')");
    for (const name of ['one', 'two', 'three']) insert.run(name);
    expect(migrate(db, MIGRATIONS_DIR)).toContain(7);
    const entries = new CatalogRepo(db).list();
    expect(entries.map((e) => e.name)).toEqual(['one', 'three', 'two']);
    for (const e of entries) expect(e).toMatchObject({ uuid: expect.stringMatching(UUID), stored: true, surface: {} });
    expect(new Set(entries.map((e) => e.uuid)).size).toBe(3);
  });
});

describe('catalog', () => {
  const open = () => {
    const db = openDatabase({ file: path.join(tempDir('quiver-catalog-'), 'q.db'), sync: 'normal' });
    return { catalog: new CatalogRepo(db), collections: new CollectionsRepo(db) };
  };

  it('one set of names: a pending name is taken for creates, a stored one for announcements', () => {
    const { catalog, collections } = open();
    const p = catalog.announce('later', { chroma: { space: 'ip' } })!;
    expect(p).toMatchObject({ name: 'later', stored: false, uuid: expect.stringMatching(UUID) });
    expect(catalog.announce('later', {})).toBeUndefined();
    expect(collections.create(newCollection('later'))).toBeUndefined();
    expect(collections.create(newCollection('now'))).toBeDefined();
    expect(catalog.announce('now', {})).toBeUndefined();
    expect(catalog.byName('now')).toMatchObject({ stored: true });
  });

  it('materialising keeps the UUID and the surface attributes, and withdrawn ones stay gone', () => {
    const { catalog, collections } = open();
    const p = catalog.announce('later', { chroma: { metadata: { a: 1 } } })!;
    expect(catalog.setSurface(p.uuid, { chroma: { metadata: { a: 2 } } })).toBe(true);
    expect(collections.create(newCollection('later', p.uuid))).toBeDefined();
    expect(catalog.byUuid(p.uuid)).toMatchObject({ name: 'later', stored: true, surface: { chroma: { metadata: { a: 2 } } } });
    expect(catalog.list().filter((e) => e.name === 'later')).toHaveLength(1);

    const q = catalog.announce('gone', {})!;
    expect(catalog.withdraw(q.uuid)).toBe(true);
    expect(catalog.withdraw(q.uuid)).toBe(false);
    expect(collections.create(newCollection('gone', q.uuid))).toBeUndefined();
    expect(catalog.byUuid(q.uuid)).toBeUndefined();
  });
});

describe('$document', () => {
  it('is an exact, case-sensitive substring test; text-less documents contain nothing', () => {
    const db = openDatabase({ file: path.join(tempDir('quiver-catalog-'), 'q.db'), sync: 'normal' });
    db.prepare("INSERT INTO collections (name, metric, dimension, embedder, hnsw, created_at) VALUES ('c', 'cosine', 2, '{}', '{}', 'now')").run();
    const insert = db.prepare("INSERT INTO documents (collection_id, id, text, content_hash, created_at, updated_at) VALUES (1, ?, ?, '', 'now', 'now')");
    insert.run('a', 'concatenate');
    insert.run('b', 'The Cat');
    insert.run('c', null);
    const ids = (f: unknown) => {
      const w = compileFilter(f);
      return db.prepare(`SELECT id FROM documents d WHERE ${w.sql} ORDER BY id`).pluck().all(...w.params);
    };
    expect(ids({ $document: { $contains: 'cat' } })).toEqual(['a']);
    expect(ids({ $document: { $contains: 'Cat' } })).toEqual(['b']);
    expect(ids({ $document: { $not_contains: 'cat' } })).toEqual(['b', 'c']);
    expect(ids({ $or: [{ $document: { $contains: 'Cat' } }, { $id: 'c' }] })).toEqual(['b', 'c']);
    expect(() => compileFilter({ $document: { $contains: '' } })).toThrow(/filter\.\$document\.\$contains: expected a non-empty string/);
    expect(() => compileFilter({ $document: { $regex: 'x' } })).toThrow(/unknown operator "\$regex" for \$document/);
  });
});
