// Durability through the real server process: restarts, kill -9 after an acknowledged write,
// and recovery from a deleted or truncated index snapshot.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';
import { randomVectors } from '../fixtures/vectors.js';

const DIM = 16;
const servers: TestServer[] = [];
async function start(dataDir: string, env: Record<string, string> = {}): Promise<TestServer> {
  const s = await TestServer.start({ process: true, dataDir, env: { QUIVER_EMBEDDER: 'none', ...env } });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

async function seed(s: TestServer, n: number, offset = 0): Promise<number[][]> {
  const vectors = randomVectors(n, DIM, 1000 + offset);
  const documents = vectors.map((vector, i) => ({ id: `doc-${offset + i}`, vector, metadata: { n: offset + i } }));
  const r = await s.request('PUT', '/v1/collections/c/documents', { documents });
  expect(r.status).toBe(200);
  return vectors;
}

/** Every document is found by its own vector as the top hit, and the counts agree. */
async function expectAllFindable(s: TestServer, vectors: Map<string, number[]>): Promise<void> {
  const info = await s.request('GET', '/v1/collections/c');
  expect(info.body.collection.document_count).toBe(vectors.size);
  expect(info.body.collection.vector_count).toBe(vectors.size);
  for (const [id, vector] of vectors) {
    const r = await s.request('POST', '/v1/collections/c/query', { vector, k: 1, include: [] });
    expect(r.status).toBe(200);
    expect(r.body.hits[0]?.id, `document ${id} must be the nearest to its own vector`).toBe(id);
  }
}

describe('durability', () => {
  it('keeps collections, documents and the index across a clean restart', async () => {
    const dir = tempDir();
    let s = await start(dir);
    expect((await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM })).status).toBe(201);
    const vectors = await seed(s, 200);
    expect((await s.request('DELETE', '/v1/collections/c/documents/doc-7')).status).toBe(204);
    expect(await s.stop('SIGTERM')).toBe(0);
    expect(fs.existsSync(path.join(dir, 'indexes', 'c1.hnsw'))).toBe(true);

    s = await start(dir);
    await s.waitForOutput('"source":"snapshot"');
    const expected = new Map(vectors.map((v, i) => [`doc-${i}`, v]));
    expected.delete('doc-7');
    await expectAllFindable(s, expected);
    expect((await s.request('GET', '/v1/collections/c/documents/doc-7')).status).toBe(404);
    expect((await s.request('GET', '/v1/collections/c/documents/doc-8')).body.document.metadata).toEqual({ n: 8 });
  });

  it('loses no acknowledged write when killed with SIGKILL, and replays it over an older snapshot', async () => {
    const dir = tempDir();
    let s = await start(dir);
    await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM });
    const first = await seed(s, 100);
    // A clean stop writes a snapshot of the first 100 ...
    await s.stop('SIGTERM');
    s = await start(dir);
    // ... then more writes and a delete that only SQLite has when the process dies.
    const second = await seed(s, 50, 100);
    expect((await s.request('DELETE', '/v1/collections/c/documents/doc-3')).status).toBe(204);
    const updated = randomVectors(1, DIM, 99)[0]!;
    expect((await s.request('PUT', '/v1/collections/c/documents', { documents: [{ id: 'doc-4', vector: updated }] })).status).toBe(200);
    expect(await s.stop('SIGKILL')).toBe('SIGKILL');

    s = await start(dir);
    await s.waitForOutput(/"source":"snapshot","replayedAdds":51,"replayedDeletes":2/);
    const expected = new Map([...first, ...second].map((v, i) => [`doc-${i}`, v]));
    expected.delete('doc-3');
    expected.set('doc-4', updated);
    await expectAllFindable(s, expected);
  });

  it('keeps every acknowledged batch, and each unacknowledged batch wholly or not at all, when killed under write load', async () => {
    const dir = tempDir();
    let s = await start(dir);
    await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM });
    const acked: number[] = [];
    const sent: number[] = [];
    let killed = false;
    const writer = async (w: number) => {
      for (let b = w; !killed; b += 4) {
        sent.push(b);
        const documents = randomVectors(20, DIM, 5000 + b).map((vector, i) => ({ id: `b${b}-${i}`, vector }));
        try {
          const r = await s.request('PUT', '/v1/collections/c/documents', { documents });
          if (r.status === 200) acked.push(b);
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acked.length < 12) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    await s.stop('SIGKILL');
    await Promise.all(writers);

    s = await start(dir);
    for (const b of sent) {
      const ids = Array.from({ length: 20 }, (_, i) => `b${b}-${i}`);
      const found = await Promise.all(ids.map(async (id) => (await s.request('GET', `/v1/collections/c/documents/${id}`)).status === 200));
      const count = found.filter(Boolean).length;
      if (acked.includes(b)) expect(count, `acknowledged batch ${b}`).toBe(20);
      else expect([0, 20], `unacknowledged batch ${b} must be all or nothing`).toContain(count);
    }
    const info = await s.request('GET', '/v1/collections/c');
    expect(info.body.collection.vector_count).toBe(info.body.collection.document_count);
  });

  for (const damage of ['deleted', 'truncated'] as const) {
    it(`rebuilds the index from SQLite when the snapshot is ${damage}`, async () => {
      const dir = tempDir();
      let s = await start(dir);
      await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM });
      const vectors = await seed(s, 150);
      await s.stop('SIGTERM');
      const file = path.join(dir, 'indexes', 'c1.hnsw');
      if (damage === 'deleted') fs.rmSync(file);
      else fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));

      s = await start(dir);
      await s.waitForOutput('index rebuilt from SQLite');
      await expectAllFindable(s, new Map(vectors.map((v, i) => [`doc-${i}`, v])));
      // The rebuilt index is written back, so the next start loads it.
      await s.stop('SIGTERM');
      s = await start(dir);
      await s.waitForOutput('"source":"snapshot"');
    });
  }

  it('removes the index files of a deleted collection', async () => {
    const dir = tempDir();
    const s = await start(dir);
    await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM });
    await seed(s, 10);
    await s.stop('SIGTERM');
    const s2 = await start(dir);
    expect(fs.existsSync(path.join(dir, 'indexes', 'c1.hnsw'))).toBe(true);
    expect((await s2.request('DELETE', '/v1/collections/c')).status).toBe(204);
    expect(fs.readdirSync(path.join(dir, 'indexes')).filter((f) => f.startsWith('c1.'))).toEqual([]);
    expect((await s2.request('GET', '/v1/collections/c')).status).toBe(404);
  });
});
