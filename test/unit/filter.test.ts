// The filter language's meaning, checked by running compiled filters against SQLite rows, and
// its errors (each names the offending field).
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../src/storage/index.js';
import { tempDir } from '../helpers/server.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFilter } from '../../src/storage/filter-sql.js';
import { QuiverError } from '../../src/errors/index.js';

const rows: Record<string, Record<string, unknown>> = {
  a: { lang: 'en', year: 2020, tags: ['x', 'y'], draft: false, score: 1.5 },
  b: { lang: 'de', year: 2023, tags: ['y'], draft: true },
  c: { lang: 'en', year: '2023', tags: [], nums: [1, 5, 9] },
  d: {},
  e: { lang: 'en', year: 2024, tags: 'x', 'a.b': 'dotted' },
};

let db: Database.Database;
beforeAll(() => {
  // The real schema: filters read metadata_values, which the documents triggers keep.
  db = openDatabase({ file: path.join(tempDir('quiver-filter-'), 'f.db'), sync: 'normal' });
  db.prepare("INSERT INTO collections (name, metric, dimension, embedder, hnsw, created_at) VALUES ('c', 'cosine', 2, '{}', '{}', 'now')").run();
  const insert = db.prepare("INSERT INTO documents (collection_id, id, metadata, content_hash, created_at, updated_at) VALUES (1, ?, ?, '', 'now', 'now')");
  for (const [id, m] of Object.entries(rows)) insert.run(id, JSON.stringify(m));
});

function ids(filter: unknown): string[] {
  const w = compileFilter(filter);
  return (db.prepare(`SELECT id FROM documents d WHERE ${w.sql} ORDER BY id`).pluck().all(...w.params) as string[]);
}

describe('metadata values', () => {
  it('follow a document through metadata updates and deletes', () => {
    db.prepare("INSERT INTO documents (collection_id, id, metadata, content_hash, created_at, updated_at) VALUES (1, 'z', ?, '', 'now', 'now')").run(JSON.stringify({ lang: 'fr', tags: ['q'] }));
    expect(ids({ lang: 'fr' })).toEqual(['z']);
    db.prepare("UPDATE documents SET metadata = ? WHERE id = 'z'").run(JSON.stringify({ lang: 'it', tags: ['q', 'r'] }));
    expect(ids({ lang: 'fr' })).toEqual([]);
    expect(ids({ lang: 'it' })).toEqual(['z']);
    expect(ids({ tags: 'r' })).toEqual(['z']);
    db.prepare("DELETE FROM documents WHERE id = 'z'").run();
    expect(ids({ lang: 'it' })).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM metadata_values mv JOIN documents d ON d.pk = mv.document_pk').pluck().get()).toBe(
      db.prepare('SELECT count(*) FROM metadata_values').pluck().get(),
    );
  });
});

describe('filter semantics', () => {
  it.each([
    [{}, ['a', 'b', 'c', 'd', 'e']],
    [{ lang: 'en' }, ['a', 'c', 'e']],
    [{ year: 2023 }, ['b']], // typed: the string "2023" is not the number 2023
    [{ year: '2023' }, ['c']],
    [{ draft: true }, ['b']],
    [{ draft: false }, ['a']],
    [{ tags: 'x' }, ['a', 'e']], // arrays match by membership, scalars by equality
    [{ tags: { $eq: 'y' } }, ['a', 'b']],
    [{ tags: { $ne: 'x' } }, ['b', 'c', 'd']], // missing fields pass $ne
    [{ lang: { $in: ['de', 'fr'] } }, ['b']],
    [{ tags: { $in: ['y', 'z'] } }, ['a', 'b']],
    [{ lang: { $nin: ['en'] } }, ['b', 'd']],
    [{ year: { $gte: 2023 } }, ['b', 'e']],
    [{ year: { $gt: 2020, $lt: 2024 } }, ['b']],
    [{ year: { $lte: 2020 } }, ['a']],
    [{ lang: { $gt: 'df' } }, ['a', 'c', 'e']],
    [{ nums: { $gt: 8 } }, ['c']],
    [{ score: { $lt: 2 } }, ['a']],
    [{ draft: { $exists: true } }, ['a', 'b']],
    [{ draft: { $exists: false } }, ['c', 'd', 'e']],
    [{ $or: [{ lang: 'de' }, { year: 2024 }] }, ['b', 'e']],
    [{ $and: [{ lang: 'en' }, { tags: 'x' }] }, ['a', 'e']],
    [{ $not: { lang: 'en' } }, ['b', 'd']],
    [{ lang: 'en', year: { $gte: 2023 } }, ['e']],
    [{ 'a.b': 'dotted' }, ['e']], // a key with a dot is one key, not a path
    [{ $or: [{ $not: { tags: { $exists: true } } }, { nums: 5 }] }, ['c', 'd']],
    [{ tags: { $contains: 'x' } }, ['a', 'e']], // Chroma's name for membership
    [{ tags: { $not_contains: 'x' } }, ['b', 'c', 'd']],
    [{ nums: { $contains: 5, $not_contains: 2 } }, ['c']],
    [{ $id: 'b' }, ['b']],
    [{ $id: { $in: ['a', 'e', 'nope'] } }, ['a', 'e']],
    [{ $id: { $nin: ['a', 'e'] }, lang: 'en' }, ['c']],
    [{ $id: { $ne: 'a', $eq: 'c' } }, ['c']],
    [{ $or: [{ $id: 'd' }, { year: 2020 }] }, ['a', 'd']],
  ])('%j selects %j', (filter, expected) => {
    expect(ids(filter)).toEqual(expected);
  });
});

describe('filter errors', () => {
  it.each([
    [{ lang: { $regex: 'e.*' } }, 'filter.lang.$regex', 'unknown operator'],
    [{ $xor: [] }, 'filter.$xor', 'unknown operator'],
    [{ year: { $gt: true } }, 'filter.year.$gt', 'number or a string'],
    [{ lang: { $in: 'en' } }, 'filter.lang.$in', 'non-empty array'],
    [{ lang: { $in: [] } }, 'filter.lang.$in', 'non-empty array'],
    [{ lang: { $in: ['en', { x: 1 }] } }, 'filter.lang.$in.1', 'string, number or boolean'],
    [{ lang: { $exists: 'yes' } }, 'filter.lang.$exists', 'true or false'],
    [{ lang: null }, 'filter.lang', 'expected'],
    [{ tags: ['x'] }, 'filter.tags', '$in'],
    [{ lang: {} }, 'filter.lang', 'at least one operator'],
    [{ $and: [] }, 'filter.$and', 'non-empty array'],
    [{ $or: [{ a: 1 }, 'x'] }, 'filter.$or.1', 'expected an object'],
    [{ $not: [1] }, 'filter.$not', 'expected an object'],
    ['lang', 'filter', 'expected an object'],
    [{ 'we"ird': 1 }, 'filter.we"ird', 'cannot be filtered'],
    // Issue 11: NUL in a field name made SQLite refuse the JSON path ($exists): 500 "bad JSON path".
    [{ 'k\u0000': { $exists: true } }, 'filter.k\u0000', 'field names must not contain control characters (U+0000 at index 1)'],
    [{ $and: [{ 'a\u001fb': 1 }] }, 'filter.$and.0.a\u001fb', 'control characters (U+001F'],
    [{ 'c1\u0085': 1 }, 'filter.c1\u0085', 'control characters (U+0085'],
    // Lone surrogates, in names and in values: no stored string can hold one.
    [{ 'k\ud800': 1 }, 'filter.k\ud800', 'lone UTF-16 surrogate (U+D800 at index 1)'],
    [{ lang: 'e\udc00' }, 'filter.lang', 'lone UTF-16 surrogate (U+DC00 at index 1)'],
    [{ lang: { $ne: '\ud800' } }, 'filter.lang.$ne', 'lone UTF-16 surrogate'],
    [{ lang: { $lt: '\ud800' } }, 'filter.lang.$lt', 'lone UTF-16 surrogate'],
    [{ lang: { $nin: ['en', 'x\ud800'] } }, 'filter.lang.$nin.1', 'lone UTF-16 surrogate'],
    [{ tags: { $contains: ['x'] } }, 'filter.tags.$contains', 'string, number or boolean'],
    [{ $id: 5 }, 'filter.$id', 'a document id (a string)'],
    [{ $id: ['a'] }, 'filter.$id', '$in'],
    [{ $id: { $in: ['a', 1] } }, 'filter.$id.$in.1', 'a document id'],
    [{ $id: { $gt: 'a' } }, 'filter.$id.$gt', 'unknown operator "$gt" for $id'],
    [{ $id: {} }, 'filter.$id', 'at least one operator'],
  ])('%j is refused naming %s', (filter, field, message) => {
    let err: unknown;
    try {
      compileFilter(filter);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QuiverError);
    const q = err as QuiverError;
    expect(q.code).toBe('VALIDATION_FAILED');
    expect((q.details as { issues: { field: string }[] }).issues[0]!.field).toBe(field);
    expect(q.message).toContain(message);
  });

  it('every field name it accepts is one SQLite can look up (no "bad JSON path" for any UTF-16 unit)', () => {
    const accepted: string[] = [];
    // Every name compiles to the same SQL (the name is a parameter): prepare it once.
    const statements = new Map<string, Database.Statement>();
    for (let unit = 0; unit <= 0xffff; unit++) {
      const name = `k${String.fromCharCode(unit)}x`;
      let w: ReturnType<typeof compileFilter>;
      try {
        w = compileFilter({ [name]: { $exists: true } });
      } catch (err) {
        expect((err as QuiverError).code).toBe('VALIDATION_FAILED');
        continue;
      }
      // Throws (an SqliteError) if SQLite cannot parse the JSON path.
      const sql = `SELECT count(*) FROM documents d WHERE ${w.sql}`;
      if (!statements.has(sql)) statements.set(sql, db.prepare(sql).pluck());
      statements.get(sql)!.get(...w.params);
      accepted.push(name);
    }
    // Refused: C0 and C1 controls, DEL, the 2048 surrogates, and " and \.
    expect(0x10000 - accepted.length).toBe(32 + 1 + 32 + 2048 + 2);
  });

  it('finds keys with astral and other unusual (but well-formed) characters', () => {
    const keys = ['𝒳', '🦆 duck', 'é', "it's", '[0]', '*', '\u00a0', '\u2028', '\ufeff'];
    const insert = db.prepare("INSERT INTO documents (collection_id, id, metadata, content_hash, created_at, updated_at) VALUES (1, ?, ?, '', 'now', 'now')");
    keys.forEach((k, i) => insert.run(`u${i}`, JSON.stringify({ [k]: '🦆' })));
    try {
      keys.forEach((k, i) => {
        expect(ids({ [k]: { $exists: true } }), k).toEqual([`u${i}`]);
        expect(ids({ [k]: '🦆' }), k).toEqual([`u${i}`]);
      });
    } finally {
      db.prepare("DELETE FROM documents WHERE id LIKE 'u%'").run();
    }
  });

  it('refuses filters with more values than SQLite can bind', () => {
    const many = Array.from({ length: 1000 }, (_, i) => i);
    const f = { $or: Array.from({ length: 40 }, (_, i) => ({ [`f${i}`]: { $in: many } })) };
    expect(() => compileFilter(f)).toThrow(/too many values/);
  });

  it('refuses filters nested too deep', () => {
    let f: unknown = { a: 1 };
    for (let i = 0; i < 40; i++) f = { $not: f };
    expect(() => compileFilter(f)).toThrow(/nested more than/);
  });
});
