// API keys through the real server: the 401/403 matrix per role, collection scopes (a scoped key
// does not even see other collections), both header forms, keys never echoed, keys from a file,
// and refusing bad key configuration at start-up.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';
import { runNode } from '../helpers/cli.js';

const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  write: 'write-key-0123456789abcdef',
  read: 'read-key-0123456789abcdef',
  scoped: 'scoped-write-key-0123456789',
  scopedRead: 'scoped-read-key-0123456789',
  wrong: 'not-a-key-0123456789abcdef',
};
type Who = 'none' | keyof typeof KEYS;
const bearer = (who: Who): Record<string, string> => (who === 'none' ? {} : { authorization: `Bearer ${KEYS[who]}` });

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({
    env: {
      QUIVER_EMBEDDER: 'none',
      QUIVER_BACKUP_DIR: tempDir('quiver-auth-backups-'),
      QUIVER_API_KEYS: [
        `${KEYS.admin}:admin`,
        `${KEYS.write}:write`,
        `${KEYS.read}:read`,
        `${KEYS.scoped}:write:mine|also_mine`,
        `${KEYS.scopedRead}:read:mine`,
      ].join(','),
    },
  });
  for (const name of ['mine', 'theirs']) {
    const r = await s.request('POST', '/v1/collections', { name, embedder: { provider: 'none' }, dimension: 2 }, bearer('admin'));
    expect(r.status).toBe(201);
    const put = await s.request('PUT', `/v1/collections/${name}/documents`, { documents: [{ id: 'seed', vector: [1, 0] }] }, bearer('admin'));
    expect(put.status).toBe(200);
  }
});
afterAll(async () => {
  await s.stop();
});

interface Case {
  what: string;
  method: string;
  path: string;
  body?: unknown;
  /** Expected status per caller. */
  expect: Partial<Record<Who, number>>;
}

let n = 0;
const uniq = () => `d${n++}`;

const cases: Case[] = [
  { what: 'list collections', method: 'GET', path: '/v1/collections', expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200, scopedRead: 200 } },
  { what: 'show a collection', method: 'GET', path: '/v1/collections/mine', expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200, scopedRead: 200 } },
  { what: "show another's collection", method: 'GET', path: '/v1/collections/theirs', expect: { read: 200, scoped: 403, scopedRead: 403 } },
  { what: 'list documents', method: 'GET', path: '/v1/collections/mine/documents', expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200, scopedRead: 200 } },
  { what: 'get a document', method: 'GET', path: '/v1/collections/mine/documents/seed', expect: { none: 401, read: 200, scopedRead: 200 } },
  { what: 'query', method: 'POST', path: '/v1/collections/mine/query', body: { vector: [1, 0], k: 1 }, expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 200, scopedRead: 200 } },
  { what: "query another's collection", method: 'POST', path: '/v1/collections/theirs/query', body: { vector: [1, 0] }, expect: { read: 200, scoped: 403, scopedRead: 403 } },
  { what: 'upsert', method: 'PUT', path: '/v1/collections/mine/documents', body: () => ({ documents: [{ id: uniq(), vector: [0, 1] }] }), expect: { none: 401, wrong: 401, read: 403, scopedRead: 403, write: 200, admin: 200, scoped: 200 } },
  { what: "upsert into another's collection", method: 'PUT', path: '/v1/collections/theirs/documents', body: { documents: [{ id: 'x', vector: [0, 1] }] }, expect: { scoped: 403, write: 200 } },
  { what: 'delete a document', method: 'DELETE', path: '/v1/collections/mine/documents/nope', expect: { none: 401, read: 403, scopedRead: 403, write: 404, admin: 404, scoped: 404 } },
  { what: 'create a collection', method: 'POST', path: '/v1/collections', body: () => ({ name: uniq(), embedder: { provider: 'none' }, dimension: 2 }), expect: { none: 401, wrong: 401, read: 403, write: 403, scoped: 403, admin: 201 } },
  { what: 'delete a collection', method: 'DELETE', path: '/v1/collections/nonexistent', expect: { none: 401, read: 403, write: 403, scoped: 403, admin: 404 } },
  { what: 'back up', method: 'POST', path: '/v1/admin/backup', body: {}, expect: { none: 401, wrong: 401, read: 403, write: 403, scoped: 403, admin: 201 } },
  { what: 'metrics', method: 'GET', path: '/metrics', expect: { none: 401, wrong: 401, read: 200, write: 200, admin: 200, scoped: 403, scopedRead: 403 } },
  { what: 'health', method: 'GET', path: '/healthz', expect: { none: 200, wrong: 200 } },
  { what: 'readiness', method: 'GET', path: '/readyz', expect: { none: 200 } },
  { what: 'the API description', method: 'GET', path: '/openapi.json', expect: { none: 200 } },
  { what: 'the docs page', method: 'GET', path: '/docs', expect: { none: 200 } },
  { what: 'an unknown /v1 path', method: 'GET', path: '/v1/nothing-here', expect: { none: 401, read: 404 } },
];

describe('the 401/403 matrix', () => {
  for (const c of cases) {
    for (const [who, status] of Object.entries(c.expect) as [Who, number][]) {
      it(`${who}: ${c.what} (${c.method} ${c.path}) → ${status}`, async () => {
        const body = typeof c.body === 'function' ? (c.body as () => unknown)() : c.body;
        const r = await s.request(c.method, c.path, body, bearer(who));
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        if (status === 401) {
          expect(r.body.error.code).toBe('UNAUTHORIZED');
          expect(JSON.stringify(r.body)).not.toContain(KEYS.wrong);
        }
        if (status === 403) expect(r.body.error.code).toBe('FORBIDDEN');
      });
    }
  }
});

describe('API keys', () => {
  it('accepts x-api-key as well as Authorization: Bearer, and refuses malformed headers', async () => {
    expect((await s.request('GET', '/v1/collections', undefined, { 'x-api-key': KEYS.read })).status).toBe(200);
    expect((await s.request('GET', '/v1/collections', undefined, { authorization: `bearer ${KEYS.read}` })).status).toBe(200);
    for (const authorization of [KEYS.read, `Basic ${KEYS.read}`, 'Bearer', `Bearer ${KEYS.read} extra`]) {
      const r = await s.request('GET', '/v1/collections', undefined, { authorization });
      expect(r.status, authorization).toBe(401);
    }
    // A near miss (one character off, a prefix, the key with a suffix) is just as wrong.
    for (const k of [KEYS.read.slice(0, -1), `${KEYS.read}x`, KEYS.read.toUpperCase()]) {
      expect((await s.request('GET', '/v1/collections', undefined, { 'x-api-key': k })).status).toBe(401);
    }
  });

  it('never echoes the key in a 401 or 403, and says how to authenticate', async () => {
    const r = await fetch(`${s.url}/v1/collections`, { headers: { authorization: `Bearer ${KEYS.wrong}` } });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const text = await r.text();
    expect(text).not.toContain(KEYS.wrong);
    expect(JSON.parse(text).error.message).toMatch(/Authorization: Bearer <key>/);
    const forbidden = await s.request('PUT', '/v1/collections/mine/documents', { documents: [{ id: 'x', vector: [1, 1] }] }, bearer('read'));
    expect(forbidden.status).toBe(403);
    expect(JSON.stringify(forbidden.body)).not.toContain(KEYS.read);
    expect(forbidden.body.error.message).toContain('role "read"');
    // Nor in the log: only an 8-digit fingerprint of the hash names a key there.
    expect(s.output()).not.toContain(KEYS.read);
    expect(s.output()).not.toContain(KEYS.wrong);
  });

  it('a scoped key sees only its collections, in lists too, and cannot tell whether others exist', async () => {
    const all = await s.request('GET', '/v1/collections', undefined, bearer('read'));
    expect(all.body.collections.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['mine', 'theirs']));
    const scoped = await s.request('GET', '/v1/collections', undefined, bearer('scoped'));
    expect(scoped.body.collections.map((c: { name: string }) => c.name)).toEqual(['mine']);
    const existing = await s.request('GET', '/v1/collections/theirs', undefined, bearer('scoped'));
    const missing = await s.request('GET', '/v1/collections/no_such_one', undefined, bearer('scoped'));
    expect(existing.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(existing.body.error.message.replace('theirs', 'X')).toBe(missing.body.error.message.replace('no_such_one', 'X'));
    // Case and encoding tricks reach the same collection as the router sees it.
    expect((await s.request('GET', '/V1/Collections/theirs/documents', undefined, bearer('scoped'))).status).toBe(403);
    expect((await s.request('GET', '/v1/collections/%74heirs/documents', undefined, bearer('scoped'))).status).toBe(403);
    expect((await s.request('GET', '/v1/collections/%6Dine/documents', undefined, bearer('scoped'))).status).toBe(200);
    // A scoped key may not create collections, not even one inside its scope.
    expect((await s.request('POST', '/v1/collections', { name: 'also_mine', embedder: { provider: 'none' }, dimension: 2 }, bearer('scoped'))).status).toBe(403);
  });
});

describe('key configuration', () => {
  it('reads keys from QUIVER_API_KEYS_FILE, one a line, with comments', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'keys');
    fs.writeFileSync(file, `# operators\n${KEYS.admin}:admin\n\n${KEYS.read}:read:mine\n`);
    const f = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_API_KEYS_FILE: file } });
    try {
      expect((await f.request('GET', '/v1/collections')).status).toBe(401);
      expect((await f.request('POST', '/v1/collections', { name: 'mine', embedder: { provider: 'none' }, dimension: 2 }, bearer('admin'))).status).toBe(201);
      expect((await f.request('GET', '/v1/collections/mine', undefined, bearer('read'))).status).toBe(200);
      expect((await f.request('DELETE', '/v1/collections/mine', undefined, bearer('read'))).status).toBe(403);
    } finally {
      await f.stop();
    }
  });

  it.each([
    ['short:admin', 'QUIVER_API_KEYS: entry 1: a key must be 16-256 characters'],
    [`${KEYS.admin}:root`, 'QUIVER_API_KEYS: entry 1: role must be admin, write or read'],
    [`${KEYS.admin}:read:../etc`, 'is not a collection name'],
    [`${KEYS.admin}:read,${KEYS.admin}:admin`, 'entry 2: the same key appears twice'],
  ])('refuses QUIVER_API_KEYS=%j at start-up without printing the key', async (value, message) => {
    const r = await runNode(['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, QUIVER_DATA_DIR: tempDir(), QUIVER_PORT: '0', QUIVER_API_KEYS: value } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain(KEYS.admin);
  });
});
