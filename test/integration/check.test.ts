// `quiver check --data-dir` run as users run it (node bin/quiver.js check ...) on data dirs the
// real server wrote: one dir is seeded once (two collections, a delete, then a clean SIGTERM stop,
// which writes the snapshots), and each case checks a copy of it, damaged as the case needs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quiver } from '../helpers/cli.js';
import { TestServer, tempDir, type Json } from '../helpers/server.js';
import { randomVectors } from '../fixtures/vectors.js';

const DIM = 8;

const check = (dir: string, ...more: string[]) => quiver(['check', '--data-dir', dir, ...more]);

async function checkJson(dir: string): Promise<{ code: number | null; report: Json }> {
  const r = await check(dir, '--json');
  expect(r.stderr).toBe('');
  return { code: r.code, report: JSON.parse(r.stdout) };
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every file under `dir` with its sha256, to show a check changed nothing. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = sha256(path.join(e.parentPath, e.name));
  }
  return out;
}

function editManifest(file: string, edit: (m: Record<string, unknown>) => void): void {
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m));
}

/** The table row of one collection in the human output. */
const row = (stdout: string, name: string) => stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? `(no row for ${name} in:\n${stdout})`;

let seeded: string;
/** Collection name → id, as the seeded database numbered them. */
const ids = new Map<string, number>();
const servers: TestServer[] = [];
/** Every dir this file makes, removed at the end. */
const dirs: string[] = [];
const scratchDir = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  seeded = scratchDir('quiver-check-');
  const s = await TestServer.start({ process: true, dataDir: seeded, env: { QUIVER_EMBEDDER: 'none' } });
  servers.push(s);
  for (const [name, metric] of [
    ['alpha', 'cosine'],
    ['beta', 'l2'],
  ] as const) {
    expect((await s.request('POST', '/v1/collections', { name, metric, embedder: { provider: 'none' }, dimension: DIM })).status).toBe(201);
  }
  const put = async (collection: string, n: number, seed: number) => {
    const documents = randomVectors(n, DIM, seed).map((vector, i) => ({ id: `doc-${i}`, vector }));
    expect((await s.request('PUT', `/v1/collections/${collection}/documents`, { documents })).status).toBe(200);
  };
  await put('alpha', 40, 1);
  await put('beta', 25, 2);
  expect((await s.request('DELETE', '/v1/collections/alpha/documents/doc-3')).status).toBe(204);
  // A clean stop writes every snapshot and checkpoints the WAL.
  expect(await s.stop('SIGTERM')).toBe(0);

  const { code, report } = await checkJson(seeded);
  expect(code, JSON.stringify(report, null, 2)).toBe(0);
  for (const c of report.collections) ids.set(c.name, c.id);
  expect([...ids.keys()].sort()).toEqual(['alpha', 'beta']);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of the seeded data dir to damage. */
function copy(): string {
  const d = scratchDir('quiver-check-case-');
  fs.cpSync(seeded, d, { recursive: true });
  return d;
}

const base = (dir: string, name: string) => path.join(dir, 'indexes', `c${ids.get(name)}`);

describe('quiver check', () => {
  it('says "ok" for every collection of a cleanly stopped dir, exits 0 and changes nothing in quiver.db or indexes/', async () => {
    const dir = copy();
    const before = fingerprint(dir);
    const r = await check(dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^database {2}quiver\.db, [\d.]+ KB, schema version \d+, integrity ok, foreign keys ok$/m);
    expect(r.stdout).toMatch(/^collection\s+id\s+documents\s+chunks\s+vectors\s+seq\s+index$/m);
    expect(row(r.stdout, 'alpha')).toMatch(/^alpha\s+\d+\s+39\s+39\s+39\s+\d+\s+ok \(snapshot seq \d+, replays 0 writes\)$/);
    expect(row(r.stdout, 'beta')).toMatch(/^beta\s+\d+\s+25\s+25\s+25\s+\d+\s+ok \(snapshot seq \d+, replays 0 writes\)$/);
    expect(r.stdout).toContain('\nok: everything is usable as is\n');
    expect(r.stdout).not.toContain('PROBLEM');
    // SQLite may add empty -wal/-shm files for a read-only reader of a WAL database; nothing else changes.
    const after = fingerprint(dir);
    for (const f of ['quiver.db-wal', 'quiver.db-shm']) {
      delete before[f];
      delete after[f];
    }
    expect(Object.keys(after)).toContain('quiver.db');
    expect(after).toEqual(before);
    if (fs.existsSync(path.join(dir, 'quiver.db-wal'))) expect(fs.statSync(path.join(dir, 'quiver.db-wal')).size).toBe(0);
  });

  it('--json prints a report that parses, with the same verdicts, exit status and counts', async () => {
    const { code, report } = await checkJson(copy());
    expect(code).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      problems: [],
      orphan_snapshots: [],
      database: { present: true, integrity: ['ok'], foreign_key_violations: 0 },
    });
    expect(report.database.schema_version).toBe(report.database.known_schema_version);
    const alpha = report.collections.find((c: Json) => c.name === 'alpha');
    expect(alpha).toMatchObject({ metric: 'cosine', dimension: DIM, documents: 39, chunks: 39, vectors: 39, bad_vectors: 0, m: expect.any(Number) });
    expect(alpha.snapshot).toMatchObject({ action: 'load', seq: alpha.seq, replayed_writes: 0, problem: null, reason: null });
    expect(alpha.status).toBe(`ok (snapshot seq ${alpha.seq}, replays 0 writes)`);

    const broken = copy();
    fs.writeFileSync(`${base(broken, 'beta')}.json`, 'null');
    const bad = await checkJson(broken);
    expect(bad.code).toBe(1);
    expect(bad.report.ok).toBe(false);
    const beta = bad.report.collections.find((c: Json) => c.name === 'beta');
    expect(beta.snapshot).toMatchObject({ action: 'rebuild', problem: 'manifest' });
    expect(bad.report.problems).toEqual([expect.stringContaining('collection "beta"')]);
  });

  it('a manifest replaced with null: exit 1, naming the collection and the unreadable manifest', async () => {
    const dir = copy();
    fs.writeFileSync(`${base(dir, 'alpha')}.json`, 'null');
    const r = await check(dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const c = `c${ids.get('alpha')}`;
    expect(row(r.stdout, 'alpha')).toContain(`would rebuild from SQLite: manifest ${c}.json is unreadable: it holds null, not a manifest object`);
    expect(row(r.stdout, 'beta')).toContain('ok (snapshot seq');
    expect(r.stdout).toContain(`PROBLEM: collection "alpha" (id ${ids.get('alpha')}): would rebuild from SQLite: manifest ${c}.json is unreadable`);
  });

  it('an .hnsw file hnswlib refuses although its checksum matches (truncated, checksum updated): exit 1', async () => {
    const dir = copy();
    const b = base(dir, 'beta');
    fs.truncateSync(`${b}.hnsw`, Math.floor(fs.statSync(`${b}.hnsw`).size / 2));
    editManifest(`${b}.json`, (m) => (m.hnswSha256 = sha256(`${b}.hnsw`)));
    const r = await check(dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(row(r.stdout, 'beta')).toMatch(new RegExp(`would rebuild from SQLite: hnswlib refuses c${ids.get('beta')}\\.hnsw although its checksum matches \\(Hnswlib Error: .+\\)`));
    expect(row(r.stdout, 'alpha')).toContain('ok (snapshot seq');

    // Truncated without the checksum updated: caught before hnswlib reads the file.
    const plain = copy();
    fs.truncateSync(`${base(plain, 'beta')}.hnsw`, 100);
    const p = await check(plain);
    expect(p.code).toBe(1);
    expect(row(p.stdout, 'beta')).toContain(`checksum mismatch in ${base(plain, 'beta')}.hnsw`);
  });

  it('a manifest whose M differs from the collection\'s: exit 1, showing both', async () => {
    const dir = copy();
    const { report } = await checkJson(dir);
    const m = report.collections.find((c: Json) => c.name === 'alpha').m as number;
    editManifest(`${base(dir, 'alpha')}.json`, (manifest) => (manifest.m = m * 2));
    const r = await check(dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(row(r.stdout, 'alpha')).toMatch(new RegExp(`would rebuild from SQLite: snapshot c\\d+\\.json says M=${m * 2} efConstruction=\\d+, the collection has M=${m} efConstruction=\\d+`));
  });

  it('snapshot labels that disagree with SQLite, and a snapshot ahead of the database: exit 1 with the reason', async () => {
    const dir = copy();
    // Drop one label from alpha's label file and keep the manifest consistent with it.
    const a = base(dir, 'alpha');
    const labels = fs.readFileSync(`${a}.labels`);
    const dropped = labels.readDoubleLE(labels.byteLength - 8);
    fs.writeFileSync(`${a}.labels`, labels.subarray(0, labels.byteLength - 8));
    editManifest(`${a}.json`, (m) => {
      m.live = (m.live as number) - 1;
      m.labelsSha256 = sha256(`${a}.labels`);
    });
    editManifest(`${base(dir, 'beta')}.json`, (m) => (m.seq = (m.seq as number) + 5));
    const r = await check(dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(row(r.stdout, 'alpha')).toContain(`would rebuild from SQLite: the snapshot holds 38 vector(s), SQLite has 39 (chunk ${dropped} is in SQLite but not in the snapshot)`);
    expect(row(r.stdout, 'beta')).toMatch(/would rebuild from SQLite: snapshot seq \d+ is ahead of the collection's seq \d+ in quiver\.db/);
    expect(r.stdout).toContain('a server starting now would rebuild 2 index(es) from SQLite');
  });

  it('counts the writes a restart replays over an older snapshot (killed with SIGKILL): still exit 0', async () => {
    const dir = copy();
    // No periodic snapshot: the ones on disk stay those of the clean stop.
    const s = await TestServer.start({ process: true, dataDir: dir, env: { QUIVER_EMBEDDER: 'none', QUIVER_SNAPSHOT_INTERVAL_MS: '86400000' } });
    servers.push(s);
    const documents = randomVectors(5, DIM, 9).map((vector, i) => ({ id: `new-${i}`, vector }));
    expect((await s.request('PUT', '/v1/collections/beta/documents', { documents })).status).toBe(200);
    expect((await s.request('DELETE', '/v1/collections/alpha/documents/doc-5')).status).toBe(204);
    expect(await s.stop('SIGKILL')).toBe('SIGKILL');

    const r = await check(dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(row(r.stdout, 'alpha')).toMatch(/^alpha\s+\d+\s+38\s+38\s+38\s+\d+\s+ok \(snapshot seq \d+, replays 1 write\)$/);
    expect(row(r.stdout, 'beta')).toMatch(/^beta\s+\d+\s+30\s+30\s+30\s+\d+\s+ok \(snapshot seq \d+, replays 1 write\)$/);
    const { report } = await checkJson(dir);
    const byName = new Map<string, Json>(report.collections.map((c: Json) => [c.name, c]));
    expect(byName.get('alpha').snapshot).toMatchObject({ action: 'load', replayed_writes: 1, replayed_adds: 0, replayed_deletes: 1 });
    expect(byName.get('beta').snapshot).toMatchObject({ action: 'load', replayed_writes: 1, replayed_adds: 5, replayed_deletes: 0 });
  });

  it('a deleted quiver.db while snapshots remain: exit 1 with a loud message, and no database is created', async () => {
    const dir = copy();
    for (const f of fs.readdirSync(dir)) if (f.startsWith('quiver.db')) fs.rmSync(path.join(dir, f));
    const r = await check(dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('database  quiver.db MISSING');
    expect(r.stdout).toContain(`PROBLEM: quiver.db is MISSING: ${path.join(path.resolve(dir), 'quiver.db')} does not exist, but`);
    expect(r.stdout).toContain('A server started on this dir would create an empty database and serve none of them');
    expect(fs.readdirSync(dir)).toEqual(['indexes']);

    const { code, report } = await checkJson(dir);
    expect(code).toBe(1);
    expect(report.database.present).toBe(false);
    expect(report.orphan_snapshots.map((o: Json) => o.id).sort()).toEqual([...ids.values()].sort());
  });

  it('exits 2 for a dir that does not exist, a missing --data-dir, and a dir that is not a data dir', async () => {
    const missing = path.join(scratchDir('quiver-check-none-'), 'nope');
    const r = await check(missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`quiver check: data dir ${missing} does not exist (ENOENT)\n`);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(missing)).toBe(false);

    const noOption = await quiver(['check']);
    expect(noOption.code).toBe(2);
    expect(noOption.stderr).toContain("required option '--data-dir <dir>' not specified");

    const empty = scratchDir('quiver-check-empty-');
    const e = await check(empty);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(`${empty} is not a Quiver data dir: it holds neither quiver.db nor index snapshots`);
  });
});
