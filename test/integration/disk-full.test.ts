// A full disk through the real server process, on a 16 MiB tmpfs mounted for this test (needs
// root on Linux; skipped with the reason otherwise): an ingest job that runs out of space is paused,
// not failed; writes answer 507 INSUFFICIENT_STORAGE with our message while reads keep answering;
// /readyz and quiver_storage_full say so; once the filler file is deleted the disk health recovers,
// writes are accepted, the paused job finishes, and every document acknowledged before is there.
// A full backup disk is a 507 naming the backup dir, and leaves the server ready.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir, type Json, PATIENCE_MS } from '../helpers/server.js';
import { randomVectors } from '../fixtures/vectors.js';

const DIM = 8;
const FULL_MESSAGE = 'the disk holding the data dir is full: writes are refused until space is freed there; reads still work';

let mountPoint: string | undefined;
let skipReason: string | undefined;
let s: TestServer | undefined;
const servers: TestServer[] = [];

beforeAll(() => {
  if (process.platform !== 'linux') {
    skipReason = `needs Linux to mount a size-limited tmpfs (this is ${process.platform})`;
    return;
  }
  if (process.getuid?.() !== 0) {
    skipReason = `needs root to mount a size-limited tmpfs (running as uid ${process.getuid?.()})`;
    return;
  }
  const dir = tempDir('quiver-diskfull-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'pipe' });
    mountPoint = dir;
  } catch (err) {
    fs.rmdirSync(dir);
    skipReason = `could not mount a tmpfs: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`;
  }
});

afterAll(async () => {
  // The server holds files in the mount: stop it before unmounting.
  await Promise.all(servers.map((x) => x.stop('SIGKILL')));
  if (mountPoint) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    }
    fs.rmdirSync(mountPoint);
  }
});

/** Writes into file until the filesystem refuses (ENOSPC), in 1 MiB then 4 KiB pieces. */
function fill(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const size of [1 << 20, 4096]) {
      const piece = Buffer.alloc(size, 0x5a);
      try {
        for (;;) fs.writeSync(fd, piece);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Polls until check returns a value other than undefined; no fixed sleeps, a generous ceiling. */
async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${s?.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function storageFullMetric(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^quiver_storage_full (\d+)$/m.exec(text)?.[1]);
}

const logLines = (server: TestServer, msg: string): number => server.output().split('\n').filter((l) => l.includes(`"msg":"${msg}`)).length;

describe('disk full', () => {
  it('answers writes 507 while reads and the acknowledged data stay, and recovers when space is freed', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const mnt = mountPoint!;
    const server = (s = await TestServer.start({ process: true, dataDir: path.join(mnt, 'data'), env: { QUIVER_EMBEDDER: 'none', QUIVER_INGEST_BATCH: '1' } }));
    servers.push(server);
    expect((await server.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM })).status).toBe(201);

    // Acknowledged before the disk fills: 3 batches of 20.
    const acknowledged = new Map<string, { vector: number[]; text: string; metadata: Json }>();
    const put = (docs: { id: string; vector: number[]; text: string; metadata: Json }[]) => server.request('PUT', '/v1/collections/c/documents', { documents: docs });
    const batch = (prefix: string, n: number, seed: number) =>
      randomVectors(n, DIM, seed).map((vector, i) => ({ id: `${prefix}-${i}`, vector, text: `document ${prefix} ${i}`, metadata: { batch: prefix, n: i } }));
    for (const [k, prefix] of ['a', 'b', 'c'].entries()) {
      const docs = batch(prefix, 20, 10 + k);
      expect((await put(docs)).status).toBe(200);
      for (const d of docs) acknowledged.set(d.id, d);
    }
    expect(await storageFullMetric(server)).toBe(0);
    expect((await server.request('GET', '/readyz')).body).toEqual({ status: 'ready' });

    // Fill the disk but for a 256 KiB reserve, then free the reserve: room to accept an ingest job
    // (one transaction) but not to run it one document per transaction.
    fs.writeFileSync(path.join(mnt, 'reserve'), Buffer.alloc(256 * 1024, 0x5a));
    fill(path.join(mnt, 'filler'));
    fs.rmSync(path.join(mnt, 'reserve'));
    const jobDocs = batch('job', 50, 20);
    const submitted = await server.request('POST', '/v1/collections/c/ingest', { documents: jobDocs });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const jobId: string = submitted.body.job.id;
    await waitUntil('the ingest job to meet the full disk', () => Promise.resolve(logLines(server, 'job paused') > 0 ? true : undefined));
    const paused = (await server.request('GET', `/v1/jobs/${jobId}`)).body.job;
    expect(paused.status, 'a full disk pauses the job, it does not fail it').toBe('running');
    expect(paused.done).toBeLessThan(50);
    expect(paused.error).toBeNull();

    // Writes: 507 with our message, never 500 or SQLite's words.
    const refused = await put([{ id: 'late', vector: randomVectors(1, DIM, 99)[0]!, text: 'x'.repeat(100_000), metadata: { late: true } }]);
    expect(refused.status).toBe(507);
    expect(refused.body.error.code).toBe('INSUFFICIENT_STORAGE');
    expect(refused.body.error.message).toBe(FULL_MESSAGE);
    expect(JSON.stringify(refused.body)).not.toMatch(/sqlite|database or disk/i);

    // Reads keep answering.
    const a0 = acknowledged.get('a-0')!;
    const got = await server.request('GET', '/v1/collections/c/documents/a-0?include=vector');
    expect(got.status).toBe(200);
    expect(got.body.document).toMatchObject({ id: 'a-0', text: a0.text, metadata: a0.metadata, vector: a0.vector });
    expect((await server.request('GET', '/v1/collections/c/documents?limit=5')).status).toBe(200);
    const q = await server.request('POST', '/v1/collections/c/query', { vector: a0.vector, k: 1 });
    expect(q.status).toBe(200);
    expect(q.body.hits[0].id).toBe('a-0');

    // The state: /readyz 503 saying why, the gauge at 1, one warn line.
    const ready = await server.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'ready', storage: 'full' });
    expect(Date.parse(ready.body.full_since)).not.toBeNaN();
    expect(typeof ready.body.free_bytes).toBe('number');
    expect(await storageFullMetric(server)).toBe(1);
    expect(logLines(server, 'storage full')).toBe(1);

    // Space freed: /readyz and the gauge recover, writes are accepted, the job finishes.
    fs.rmSync(path.join(mnt, 'filler'));
    await waitUntil('/readyz to answer 200 again', async () => {
      const r = await server.request('GET', '/readyz');
      return r.status === 200 ? r : undefined;
    }).then((r) => expect(r.body).toEqual({ status: 'ready' }));
    expect(await storageFullMetric(server)).toBe(0);
    expect(logLines(server, 'storage recovered')).toBe(1);
    expect(logLines(server, 'storage full')).toBe(1);
    const after = batch('d', 20, 30);
    expect((await put(after)).status).toBe(200);
    for (const d of after) acknowledged.set(d.id, d);
    const job = await waitUntil('the paused job to finish', async () => {
      const j = (await server.request('GET', `/v1/jobs/${jobId}`)).body.job;
      return j.status === 'running' || j.status === 'queued' ? undefined : j;
    });
    expect(job).toMatchObject({ status: 'done', total: 50, done: 50, failed: 0, error: null });
    for (const d of jobDocs) acknowledged.set(d.id, d);

    // Every acknowledged document is there, as written, and the refused one is not.
    expect((await server.request('GET', '/v1/collections/c')).body.collection.document_count).toBe(acknowledged.size);
    for (const [id, d] of acknowledged) {
      const r = await server.request('GET', `/v1/collections/c/documents/${id}?include=vector`);
      expect(r.status, id).toBe(200);
      expect(r.body.document, id).toMatchObject({ id, text: d.text, metadata: d.metadata, vector: d.vector });
    }
    expect((await server.request('GET', '/v1/collections/c/documents/late')).status).toBe(404);
    await server.stop('SIGKILL');
  }, 240_000);

  it('answers a backup 507 naming the backup dir when only that disk is full, and stays ready', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const mnt = mountPoint!;
    const backupDir = path.join(mnt, 'backups');
    fs.mkdirSync(backupDir);
    const server = (s = await TestServer.start({ process: true, dataDir: path.join(tempDir(), 'data'), env: { QUIVER_EMBEDDER: 'none', QUIVER_BACKUP_DIR: backupDir } }));
    servers.push(server);
    expect((await server.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM })).status).toBe(201);
    const documents = randomVectors(50, DIM, 40).map((vector, i) => ({ id: `b-${i}`, vector, text: `backup document ${i} `.repeat(50) }));
    expect((await server.request('PUT', '/v1/collections/c/documents', { documents })).status).toBe(200);

    fill(path.join(mnt, 'filler'));
    const refused = await server.request('POST', '/v1/admin/backup', { path: 'nightly' });
    expect(refused.status).toBe(507);
    expect(refused.body.error).toMatchObject({
      code: 'INSUFFICIENT_STORAGE',
      message: 'the disk holding the backup dir (QUIVER_BACKUP_DIR) is full: the backup was not written; free space there and try again',
    });
    expect(fs.readdirSync(backupDir), 'no partial backup is left behind').toEqual([]);
    // The data dir's disk has room: still ready, no storage state, writes accepted.
    expect(await server.request('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(await storageFullMetric(server)).toBe(0);
    expect(logLines(server, 'storage full')).toBe(0);
    expect((await server.request('PUT', '/v1/collections/c/documents', { documents: documents.slice(0, 1).map((d) => ({ ...d, text: 'changed' })) })).status).toBe(200);

    fs.rmSync(path.join(mnt, 'filler'));
    expect((await server.request('POST', '/v1/admin/backup', { path: 'nightly' })).status).toBe(201);
    await server.stop('SIGKILL');
  }, 120_000);
});
