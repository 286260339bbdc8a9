// Issue 11 (reliability, items 1, 4 and part of 7): strings that SQLite cannot store unchanged.
// A lone UTF-16 surrogate is valid JSON ("\ud800") but has no UTF-8 form; stored anyway it read
// back as three U+FFFD, so the document could not be found by its own id, two ids collided, and
// text offsets went wrong. A NUL in a filter field name broke the JSON path SQLite is given and
// answered 500 with SQLite's message. Each is now a 400 naming the field, before anything is
// stored or queued; and an SQLite message never reaches a client, in a response or a job.
import crypto from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';
import { errorHandler } from '../../src/api/errors.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none' } });
  expect((await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: 2 })).status).toBe(201);
  const seed = [
    { id: 'a', vector: [1, 0], text: 'red apples and pears', metadata: { kind: 'fruit' } },
    { id: 'b', vector: [0, 1], text: 'green peppers', metadata: { kind: 'veg' } },
    { id: 'c', vector: [1, 1], text: 'yellow bananas', metadata: { kind: 'fruit' } },
  ];
  expect((await s.request('PUT', '/v1/collections/c/documents', { documents: seed })).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await s.stop();
});

const LONE = '\ud800';

/** Every document id in collection c, in order. */
async function ids(): Promise<string[]> {
  const r = await s.request('GET', '/v1/collections/c/documents?limit=1000');
  expect(r.status).toBe(200);
  return (r.body.documents as { id: string }[]).map((d) => d.id);
}

function expect400(r: { status: number; body: { error?: { code: string; details?: { issues: { field: string; message: string }[] } } } }, field: string, message: RegExp) {
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.body.error?.code).toBe('VALIDATION_FAILED');
  const issue = r.body.error?.details?.issues.find((i) => i.field === field);
  expect(issue, `no issue for ${JSON.stringify(field)} in ${JSON.stringify(r.body)}`).toBeDefined();
  expect(issue!.message).toMatch(message);
  // SQLite's own words never reach a client.
  expect(JSON.stringify(r.body)).not.toMatch(/sqlite|JSON path/i);
}

describe('what is sent', () => {
  it('JSON.stringify sends a lone surrogate as the escape \\ud800 (valid JSON), as a client would', () => {
    expect(JSON.stringify({ id: `x${LONE}y` })).toBe('{"id":"x\\ud800y"}');
  });
});

describe('lone surrogates are refused, naming the field, and nothing is stored', () => {
  it('in a document id (was 200, then GET/DELETE 404 and the listing showed x\\ufffd\\ufffd\\ufffdy)', async () => {
    const before = await ids();
    const r = await s.request('PUT', '/v1/collections/c/documents', { documents: [{ id: `x${LONE}y`, vector: [1, 0] }] });
    expect400(r, 'documents.0.id', /lone UTF-16 surrogate \(U\+D800 at index 1\)/);
    expect(await ids()).toEqual(before);
  });

  it('in two ids that used to be stored as the same one', async () => {
    const r = await s.request('PUT', '/v1/collections/c/documents', {
      documents: [
        { id: 'x\ud800y', vector: [1, 0] },
        { id: 'x\udc00y', vector: [0, 1] },
      ],
    });
    expect400(r, 'documents.0.id', /U\+D800/);
    expect400(r, 'documents.1.id', /U\+DC00/);
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['text', { id: 'n', vector: [1, 0], text: `caf${LONE} au lait` }, 'documents.1.text'],
    ['a metadata key', { id: 'n', vector: [1, 0], metadata: { [`k${LONE}`]: 1 } }, `documents.1.metadata.k${LONE}`],
    ['a metadata value', { id: 'n', vector: [1, 0], metadata: { k: `v${LONE}` } }, 'documents.1.metadata.k'],
    ['a metadata array element', { id: 'n', vector: [1, 0], metadata: { tags: ['ok', `x${LONE}`] } }, 'documents.1.metadata.tags.1'],
    ['a trailing low surrogate', { id: 'n', vector: [1, 0], text: 'tail\udfff' }, 'documents.1.text'],
  ])('in %s', async (_what, doc, field) => {
    const r = await s.request('PUT', '/v1/collections/c/documents', { documents: [{ id: 'ok', vector: [0, 1] }, doc] });
    expect400(r, field, /lone UTF-16 surrogate/);
    // All or nothing: the good document of the request is not stored either.
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it('in an ingest job: 400 before anything is queued', async () => {
    const jobs = (await s.request('GET', '/v1/jobs?collection=c')).body.jobs.length;
    const r = await s.request('POST', '/v1/collections/c/ingest', { documents: [{ id: `j${LONE}`, vector: [1, 0] }] });
    expect400(r, 'documents.0.id', /lone UTF-16 surrogate/);
    expect((await s.request('GET', '/v1/jobs?collection=c')).body.jobs.length).toBe(jobs);
  });

  it('in a collection name', async () => {
    const r = await s.request('POST', '/v1/collections', { name: `n${LONE}`, embedder: { provider: 'none' }, dimension: 2 });
    expect400(r, 'name', /expected 1-64 characters/);
  });

  it.each([
    ['an equality value', { kind: `fruit${LONE}` }, 'filter.kind'],
    ['an $eq value', { kind: { $eq: LONE } }, 'filter.kind.$eq'],
    ['a $ne value', { kind: { $ne: LONE } }, 'filter.kind.$ne'],
    ['a range value', { kind: { $gte: `a${LONE}` } }, 'filter.kind.$gte'],
    ['an $in element', { $or: [{ kind: { $in: ['fruit', LONE] } }] }, 'filter.$or.0.kind.$in.1'],
    ['a field name', { [`k${LONE}`]: 'x' }, `filter.k${LONE}`],
  ])('in a filter: %s', async (_what, filter, field) => {
    expect400(await s.request('POST', '/v1/collections/c/query', { vector: [1, 0], filter }), field, /lone UTF-16 surrogate/);
  });

  it('in query and context text', async () => {
    expect400(await s.request('POST', '/v1/collections/c/query', { text: `apples ${LONE}`, mode: 'keyword' }), 'text', /lone UTF-16 surrogate/);
    expect400(await s.request('POST', '/v1/collections/c/context', { text: `apples ${LONE}`, mode: 'keyword' }), 'text', /lone UTF-16 surrogate/);
  });

  it('in ids to recommend from', async () => {
    expect400(await s.request('POST', '/v1/collections/c/recommend', { positive: ['a', `b${LONE}`] }), 'positive.1', /lone UTF-16 surrogate/);
  });

  it('in a cursor (ids never hold one, so it was not made here)', async () => {
    const forged = Buffer.from(JSON.stringify({ a: `b${LONE}` })).toString('base64url');
    expect400(await s.request('GET', `/v1/collections/c/documents?cursor=${forged}`), 'cursor', /not a cursor/);
    expect400(await s.request('GET', `/v1/jobs?cursor=${forged}`), 'cursor', /not a cursor/);
  });
});

describe('NUL and control characters', () => {
  it('in document text: 400 (the keyword index stopped at the NUL and lost the rest)', async () => {
    const r = await s.request('PUT', '/v1/collections/c/documents', { documents: [{ id: 'n', vector: [1, 0], text: 'alpha\u0000beta' }] });
    expect400(r, 'documents.0.text', /must not contain NUL \(U\+0000 at index 5\)/);
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it('in a metadata key: 400 (a filter could not name it)', async () => {
    for (const key of ['k\u0000', 'k\u0001', 'line\nbreak', 'del\u007f', 'c1\u0085']) {
      const r = await s.request('PUT', '/v1/collections/c/documents', { documents: [{ id: 'n', vector: [1, 0], metadata: { [key]: 1 } }] });
      expect400(r, `documents.0.metadata.${key}`, /metadata keys must not contain control characters/);
    }
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it('in ids and metadata values they round-trip, and filters match them exactly', async () => {
    const doc = { id: 'nul\u0000id\ttab', vector: [1, 0], metadata: { v: 'a\u0000b', tags: ['x\u0001'] } };
    expect((await s.request('PUT', '/v1/collections/c/documents', { documents: [doc] })).status).toBe(200);
    const got = await s.request('GET', `/v1/collections/c/documents/${encodeURIComponent(doc.id)}`);
    expect(got.status).toBe(200);
    expect(got.body.document).toMatchObject({ id: doc.id, metadata: doc.metadata });
    const hit = await s.request('POST', '/v1/collections/c/query', { vector: [1, 0], filter: { v: 'a\u0000b', tags: 'x\u0001' } });
    expect(hit.body.hits.map((h: { id: string }) => h.id)).toEqual([doc.id]);
    expect((await s.request('POST', '/v1/collections/c/query', { vector: [1, 0], filter: { v: 'a' } })).body.hits).toEqual([]);
    expect((await s.request('DELETE', `/v1/collections/c/documents/${encodeURIComponent(doc.id)}`)).status).toBe(204);
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });
});

describe('a NUL in a filter field name is a 400 on every endpoint (was 500 "SqliteError: bad JSON path")', () => {
  const filter = { 'k\u0000': { $exists: true } };
  const field = 'filter.k\u0000';
  const why = /field names must not contain control characters \(U\+0000 at index 1\)/;
  const qs = `filter=${encodeURIComponent(JSON.stringify(filter))}`;

  it.each([
    ['vector query', 'POST', '/v1/collections/c/query', { vector: [1, 0], filter }],
    ['keyword query', 'POST', '/v1/collections/c/query', { text: 'apples', mode: 'keyword', filter }],
    ['hybrid query', 'POST', '/v1/collections/c/query', { text: 'apples', vector: [1, 0], mode: 'hybrid', filter }],
    ['list', 'GET', `/v1/collections/c/documents?${qs}`, undefined],
    ['delete by filter', 'POST', '/v1/collections/c/documents/delete', { filter }],
    ['recommend', 'POST', '/v1/collections/c/recommend', { positive: ['a'], filter }],
    ['similar', 'GET', `/v1/collections/c/documents/a/similar?${qs}`, undefined],
    ['cluster', 'POST', '/v1/collections/c/cluster', { filter }],
    ['project', 'POST', '/v1/collections/c/project', { filter }],
    ['context', 'POST', '/v1/collections/c/context', { text: 'apples', mode: 'keyword', filter }],
  ])('%s', async (_what, method, url, body) => {
    expect400(await s.request(method, url, body), field, why);
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it('an async cluster job: 400 before it is queued (was a queued job that failed with the SQL message)', async () => {
    const jobs = (await s.request('GET', '/v1/jobs?collection=c&kind=cluster')).body.jobs.length;
    expect400(await s.request('POST', '/v1/collections/c/cluster', { filter, async: true }), field, why);
    expect((await s.request('GET', '/v1/jobs?collection=c&kind=cluster')).body.jobs.length).toBe(jobs);
  });

  it('nested, and with other control characters', async () => {
    expect400(await s.request('POST', '/v1/collections/c/query', { vector: [1, 0], filter: { $not: { $or: [{ 'a\u001fb': 1 }] } } }), 'filter.$not.$or.0.a\u001fb', /control characters \(U\+001F at index 1\)/);
    expect400(await s.request('POST', '/v1/collections/c/query', { vector: [1, 0], filter: { 'tab\t': { $exists: false } } }), 'filter.tab\t', /control characters/);
  });

  it('a NUL in a filter value is a value like any other (it round-trips)', async () => {
    const r = await s.request('POST', '/v1/collections/c/query', { vector: [1, 0], filter: { kind: 'fr\u0000uit' } });
    expect(r.status).toBe(200);
    expect(r.body.hits).toEqual([]);
  });
});

describe('an undecodable path segment names the path parameter (was "body: Failed to decode param")', () => {
  it.each([
    ['GET', '/v1/collections/%ZZ', 'path.name'],
    ['DELETE', '/v1/collections/%ZZ', 'path.name'],
    ['GET', '/v1/collections/%ZZ/documents', 'path.name'],
    ['PUT', '/v1/collections/%E0%A4%A/documents', 'path.name'],
    ['GET', '/v1/collections/c/documents/%ZZ', 'path.id'],
    ['GET', '/v1/collections/c/documents/x%ED%A0%80y', 'path.id'], // a lone surrogate, encoded as UTF-8 would be
    ['DELETE', '/v1/collections/c/documents/%ZZ/', 'path.id'],
    ['GET', '/v1/collections/c/documents/%ZZ/similar', 'path.id'],
    ['GET', '/v1/jobs/%ZZ', 'path.id'],
    ['POST', '/v1/jobs/%ZZ/cancel', 'path.id'],
  ])('%s %s → 400 naming %s', async (method, url, field) => {
    expect400(await s.request(method, url), field, /not valid percent-encoding/);
  });
});

describe('well-formed astral characters (surrogate pairs) round-trip', () => {
  const doc = { id: '𝒳-🦆', vector: [0.5, 0.5], text: 'ducks 🦆🦆 and 𝒳 marks the spot', metadata: { '𝒳': '🦆', tags: ['😀', 'plain'] } };

  it('stores, reads back by id, lists, filters and deletes them unchanged', async () => {
    expect((await s.request('PUT', '/v1/collections/c/documents', { documents: [doc] })).status).toBe(200);
    const got = await s.request('GET', `/v1/collections/c/documents/${encodeURIComponent(doc.id)}?include=chunks`);
    expect(got.status).toBe(200);
    expect(got.body.document).toMatchObject({ id: doc.id, text: doc.text, metadata: doc.metadata });
    expect(got.body.document.chunks.map((ch: { text: string }) => ch.text).join('')).toBe(doc.text);
    expect(await ids()).toContain(doc.id);
    for (const filter of [{ '𝒳': '🦆' }, { tags: '😀' }, { '𝒳': { $exists: true } }, { tags: { $in: ['😀'] } }]) {
      const r = await s.request('POST', '/v1/collections/c/query', { vector: [0.5, 0.5], filter });
      expect(r.body.hits.map((h: { id: string }) => h.id), JSON.stringify(filter)).toEqual([doc.id]);
    }
    const kw = await s.request('POST', '/v1/collections/c/query', { text: 'ducks', mode: 'keyword' });
    expect(kw.body.hits.map((h: { id: string }) => h.id)).toEqual([doc.id]);
    expect((await s.request('POST', '/v1/collections/c/documents/delete', { filter: { '𝒳': '🦆' } })).body.deleted).toBe(1);
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });
});

describe('found by the extended fuzz suite', () => {
  it('a backup folder name longer than the file system holds is a 400 naming path (was 500 ENAMETOOLONG)', async () => {
    expect400(await s.request('POST', '/v1/admin/backup', { path: 'a'.repeat(300) }), 'path', /at most 238 bytes/);
    expect400(await s.request('POST', '/v1/admin/backup', { path: `x/${'é'.repeat(120)}` }), 'path', /at most 238 bytes/);
  });
});

describe('SQLite messages never reach a client', () => {
  it('an SQLite error in the API error handler becomes INTERNAL with no SQL in it', () => {
    let sqliteError: unknown;
    try {
      new Database(':memory:').prepare('SELECT json_type(?, ?)').get('{}', '$."k\u0000"');
    } catch (err) {
      sqliteError = err;
    }
    expect((sqliteError as Error).message).toMatch(/bad JSON path/);
    const sent: { status?: number; body?: unknown } = {};
    const res = {
      headersSent: false,
      locals: {},
      setHeader: () => res,
      status(code: number) {
        sent.status = code;
        return res;
      },
      json(body: unknown) {
        sent.body = body;
        return res;
      },
    };
    const req = { method: 'POST', originalUrl: '/v1/collections/c/query', path: '/v1/collections/c/query', app: { locals: {} } };
    errorHandler(pino({ level: 'silent' }), 1024)(sqliteError, req as unknown as Request, res as unknown as Response, () => undefined);
    expect(sent.status).toBe(500);
    expect(sent.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error (see the server log)' } });
  });

  it('a job that fails for a reason that is not the client\'s stores a generic error; a bad filter names the field', async () => {
    // Jobs queued before this fix (an older server) with a NUL filter key, or with params that
    // make the task throw; they run after the restart.
    const dataDir = tempDir('quiver-issue11-');
    let srv = await TestServer.start({ dataDir, env: { QUIVER_EMBEDDER: 'none' } });
    expect((await srv.request('POST', '/v1/collections', { name: 'j', embedder: { provider: 'none' }, dimension: 2 })).status).toBe(201);
    const docs = Array.from({ length: 6 }, (_, i) => ({ id: `d${i}`, vector: [Math.cos(i), Math.sin(i)], metadata: { k: i } }));
    expect((await srv.request('PUT', '/v1/collections/j/documents', { documents: docs })).status).toBe(200);
    await srv.stop();
    const db = new Database(path.join(dataDir, 'quiver.db'));
    const collectionId = db.prepare("SELECT id FROM collections WHERE name = 'j'").pluck().get() as number;
    const insert = db.prepare("INSERT INTO jobs (id, kind, collection_id, status, params, total, created_at) VALUES (?, 'cluster', ?, 'queued', ?, 1, ?)");
    const badFilter = `job_${crypto.randomBytes(12).toString('hex')}`;
    const broken = `job_${crypto.randomBytes(12).toString('hex')}`;
    insert.run(badFilter, collectionId, JSON.stringify({ k: 2, sample: 10, seed: 1, include_members: false, filter: { 'k\u0000': { $exists: true } } }), new Date().toISOString());
    insert.run(broken, collectionId, 'null', new Date().toISOString());
    db.close();
    srv = await TestServer.start({ dataDir, env: { QUIVER_EMBEDDER: 'none' } });
    try {
      const settled = async (id: string) => {
        for (let i = 0; i < 300; i++) {
          const job = (await srv.request('GET', `/v1/jobs/${id}`)).body.job;
          if (job.status === 'failed' || job.status === 'done') return job;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`job ${id} did not finish`);
      };
      const a = await settled(badFilter);
      expect(a.status).toBe('failed');
      expect(a.error.startsWith('filter.k\u0000: field names must not contain control characters')).toBe(true);
      expect(a.error).not.toMatch(/sqlite|JSON path/i);
      const b = await settled(broken);
      expect(b.status).toBe('failed');
      expect(b.error).toBe('internal error (see the server log)');
      // The real reason is in the log, for the operator.
      await srv.waitForOutput(/"msg":"job failed"/);
    } finally {
      await srv.stop();
    }
  }, 120_000);
});
