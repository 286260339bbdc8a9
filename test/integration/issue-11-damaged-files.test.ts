// Reliability issue, items 3 and 7: derived files that cannot be read never stop the server
// (SQLite is intact, so it rebuilds and serves), and a lost database is never served as an empty
// one without a word. Through the real process: these are start-up paths.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';

const ENV = { QUIVER_EMBEDDER: 'none' };
const N = 60;
let template: string;
const running: TestServer[] = [];

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const vector = (i: number) => [Math.cos(i), Math.sin(i), (i % 7) / 7, 1];

/** A data dir holding one collection of N documents, cleanly stopped (snapshot written). */
beforeAll(async () => {
  template = tempDir('quiver-damaged-');
  const s = await TestServer.start({ process: true, dataDir: template, env: ENV });
  expect((await s.request('POST', '/v1/collections', { name: 'c1', embedder: { provider: 'none' }, dimension: 4 })).status).toBe(201);
  const docs = Array.from({ length: N }, (_, i) => ({ id: `d${i}`, vector: vector(i) }));
  expect((await s.request('PUT', '/v1/collections/c1/documents', { documents: docs })).status).toBe(200);
  expect(await s.stop()).toBe(0);
  expect(fs.existsSync(path.join(template, 'indexes', 'c1.json'))).toBe(true);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop('SIGKILL')));
});

function copyOfTemplate(): string {
  const dir = tempDir('quiver-damaged-case-');
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

async function start(dataDir: string, env: Record<string, string> = {}): Promise<TestServer> {
  const s = await TestServer.start({ process: true, dataDir, env: { ...ENV, ...env } });
  running.push(s);
  return s;
}

/** Every document is findable as its own nearest neighbour: the rebuilt index holds them all. */
async function expectAllFindable(s: TestServer): Promise<void> {
  const info = await s.request('GET', '/v1/collections/c1');
  expect(info.body.collection.vector_count).toBe(N);
  for (const i of [0, 17, N - 1]) {
    const r = await s.request('POST', '/v1/collections/c1/query', { vector: vector(i), k: 1, include: [] });
    expect(r.body.hits[0].id).toBe(`d${i}`);
  }
}

const editManifest = (dir: string, edit: (m: Record<string, unknown>) => void) => {
  const file = path.join(dir, 'indexes', 'c1.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m));
};

describe('a damaged index snapshot is rebuilt from SQLite, never a crash loop', () => {
  it.each([
    ['null', 'not a JSON object'],
    ['{"format": 1}', 'is not a whole number'],
    ['[1, 2', 'unreadable manifest'],
  ])('a manifest holding %s: starts, says why, serves every document', async (content, reason) => {
    const dir = copyOfTemplate();
    fs.writeFileSync(path.join(dir, 'indexes', 'c1.json'), content);
    const s = await start(dir);
    await s.waitForOutput(new RegExp(`"reason":"[^\\n]*${reason}[^\\n]*"msg":"index rebuilt from SQLite"`));
    await expectAllFindable(s);
  });

  it('an .hnsw file hnswlib refuses although its checksum matches: starts, says why, serves', async () => {
    const dir = copyOfTemplate();
    const hnsw = path.join(dir, 'indexes', 'c1.hnsw');
    fs.truncateSync(hnsw, Math.floor(fs.statSync(hnsw).size / 2));
    editManifest(dir, (m) => (m.hnswSha256 = sha256(hnsw)));
    const s = await start(dir);
    await s.waitForOutput(/"reason":"hnswlib refuses c1\.hnsw although its checksum matches[^"]*"[^\n]*"msg":"index rebuilt from SQLite"/);
    await expectAllFindable(s);
  });

  it('a snapshot built with another M is rebuilt with the collection\'s own, not loaded silently', async () => {
    const dir = copyOfTemplate();
    editManifest(dir, (m) => (m.m = 48));
    const s = await start(dir);
    expect(s.output()).toMatch(/"reason":"snapshot was built with M 48, efConstruction \d+; the collection has M 16[^"]*"/);
    await expectAllFindable(s);
    // The rebuilt index is written at once, with the collection's parameters.
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'indexes', 'c1.json'), 'utf8')) as { m: number };
    expect(manifest.m).toBe(16);
  });
});

describe('a lost database is not served as an empty one', () => {
  it.each([
    ['deleted', (db: string) => fs.rmSync(db)],
    ['emptied', (db: string) => fs.truncateSync(db, 0)],
  ])('quiver.db %s while snapshots remain: refuses to start naming the files, or starts fresh when told', async (what, damage) => {
    const dir = copyOfTemplate();
    const db = path.join(dir, 'quiver.db');
    for (const f of ['quiver.db-wal', 'quiver.db-shm']) fs.rmSync(path.join(dir, f), { force: true });
    damage(db);
    const refused = await TestServer.start({ process: true, dataDir: dir, env: ENV }).then(
      (s) => {
        running.push(s);
        return undefined;
      },
      (err: unknown) => String(err),
    );
    expect(refused).toContain('exited with 1');
    expect(refused).toContain(`refusing to start: ${db} is ${what === 'deleted' ? 'missing' : 'empty'}`);
    expect(refused).toContain('c1.json');
    expect(refused).toContain('QUIVER_START_FRESH=true');
    // Nothing was created in the refusal.
    expect(fs.existsSync(db) ? fs.statSync(db).size : 0).toBe(0);

    const fresh = await start(dir, { QUIVER_START_FRESH: 'true' });
    expect((await fresh.request('GET', '/v1/collections')).body.collections).toEqual([]);
  });
});
