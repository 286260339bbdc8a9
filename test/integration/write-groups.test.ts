// Group commit through the real server process (QUIVER_SYNC=full): 50 concurrent upserts and
// deletes to one collection, with overlapping ids, are all answered; the stored state is the one
// some serial order of the requests gives (the server picks the order: a request's place is when
// it reaches the write door); it is the same after kill -9 and a restart, and search finds it;
// and /metrics shows that requests shared transactions.
import { afterEach, describe, expect, it } from 'vitest';
import { randomVectors } from '../fixtures/vectors.js';
import { TestServer, tempDir, waitFor } from '../helpers/server.js';

const DIM = 16;
const UPSERTS = 40;
const POOL = 60;
const BIG = 5000;
const servers: TestServer[] = [];
async function start(dataDir: string): Promise<TestServer> {
  const s = await TestServer.start({ process: true, dataDir, env: { QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'full' } });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

/** Upsert r writes 10 ids of a pool of 60, each with a vector of its own and metadata {r}. */
function upsert(r: number): { id: string; vector: number[]; metadata: { r: number } }[] {
  const vectors = randomVectors(10, DIM, 7000 + r);
  return vectors.map((vector, j) => ({ id: `u${(r * 7 + j * 11) % POOL}`, vector, metadata: { r } }));
}

/** A prometheus sample's value, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** True when the "must come before" edges admit a serial order (no cycle). */
function acyclic(edges: Map<number, Set<number>>, nodes: number[]): boolean {
  const indegree = new Map(nodes.map((n) => [n, 0]));
  for (const tos of edges.values()) for (const t of tos) indegree.set(t, indegree.get(t)! + 1);
  const ready = nodes.filter((n) => indegree.get(n) === 0);
  let seen = 0;
  while (ready.length > 0) {
    const n = ready.pop()!;
    seen++;
    for (const t of edges.get(n) ?? []) {
      indegree.set(t, indegree.get(t)! - 1);
      if (indegree.get(t) === 0) ready.push(t);
    }
  }
  return seen === nodes.length;
}

describe('group commit of concurrent writers', () => {
  it('answers 50 concurrent upserts and deletes with overlapping ids; the state is a serial order of them, durable and searchable', async () => {
    const dir = tempDir();
    let s = await start(dir);
    expect((await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: DIM })).status).toBe(201);
    const seeded = randomVectors(20, DIM, 6000).map((vector, i) => ({ id: `del-${i}`, vector }));
    expect((await s.request('PUT', '/v1/collections/c/documents', { documents: seeded })).status).toBe(200);

    // A large write first: once it is committed, the server inserts its vectors into the index
    // for a while (the collection stays busy), and the 50 requests below arrive meanwhile and
    // wait for the collection, so they are committed in groups.
    const bigDocs = randomVectors(BIG, DIM, 6500).map((vector, i) => ({ id: `big-${i}`, vector }));
    // At most 1000 documents per request (the default QUIVER_MAX_DOCUMENTS_PER_REQUEST).
    const large = Promise.all(Array.from({ length: BIG / 1000 }, (_, k) => s.request('PUT', '/v1/collections/c/documents', { documents: bigDocs.slice(k * 1000, k * 1000 + 1000) })));
    await waitFor('a large write to be committed', async () => {
      const info = await s.request('GET', '/v1/collections/c');
      return info.body.collection.document_count > 20 ? true : undefined;
    });
    // 40 upserts and 10 deletes (del-0 … del-4, each twice), all sent at once.
    const upserts = Array.from({ length: UPSERTS }, (_, r) => s.request('PUT', '/v1/collections/c/documents', { documents: upsert(r) }));
    const deletes = Array.from({ length: 10 }, (_, i) => s.request('DELETE', `/v1/collections/c/documents/del-${i % 5}`));
    const [up, del, big] = await Promise.all([Promise.all(upserts), Promise.all(deletes), large]);
    expect(big.map((r) => r.status)).toEqual(Array(BIG / 1000).fill(200));
    expect(up.map((r) => r.status)).toEqual(Array(UPSERTS).fill(200));
    for (let k = 0; k < 5; k++) {
      // One of the two deletes of an id finds it; the other, in arrival order after it, does not.
      expect([del[k]!.status, del[k + 5]!.status].sort(), `del-${k}`).toEqual([204, 404]);
    }
    const metrics = (await s.request('GET', '/metrics')).body as string;
    const groups = sample(metrics, 'quiver_write_groups_total')!;
    const requests = sample(metrics, 'quiver_write_group_requests_sum')!;
    // The seed, the large write and 50 requests, in fewer transactions than requests.
    expect(requests).toBe(51 + BIG / 1000);
    expect(groups).toBeLessThan(requests);
    expect(sample(metrics, 'quiver_write_group_requests_bucket{le="1"}')).toBeLessThan(groups);

    // Each id holds the vector and metadata of one upsert; every other upsert of that id must come
    // before it. Those constraints admit a serial order of the upserts (each wrote all or nothing).
    const writers = new Map<string, number[]>();
    for (let r = 0; r < UPSERTS; r++) for (const d of upsert(r)) writers.set(d.id, [...(writers.get(d.id) ?? []), r]);
    const expectState = async (server: TestServer): Promise<Map<string, number[]>> => {
      const edges = new Map<number, Set<number>>();
      const finals = new Map<string, number[]>();
      for (const [id, rs] of writers) {
        const got = await server.request('GET', `/v1/collections/c/documents/${id}?include=vector`);
        expect(got.status, id).toBe(200);
        const winner = got.body.document.metadata.r as number;
        expect(rs, id).toContain(winner);
        const vector = upsert(winner).find((d) => d.id === id)!.vector;
        expect(got.body.document.vector, id).toEqual(vector);
        finals.set(id, vector);
        for (const r of rs) if (r !== winner) edges.set(r, (edges.get(r) ?? new Set()).add(winner));
      }
      expect(acyclic(edges, Array.from({ length: UPSERTS }, (_, r) => r)), 'the upserts admit a serial order').toBe(true);
      for (let i = 0; i < 20; i++) expect((await server.request('GET', `/v1/collections/c/documents/del-${i}`)).status, `del-${i}`).toBe(i < 5 ? 404 : 200);
      const info = await server.request('GET', '/v1/collections/c');
      expect(info.body.collection.document_count).toBe(writers.size + 15 + BIG);
      expect(info.body.collection.vector_count).toBe(writers.size + 15 + BIG);
      return finals;
    };
    const before = await expectState(s);

    // Every answer was sent after its commit: a kill -9 now loses none of them.
    expect(await s.stop('SIGKILL')).toBe('SIGKILL');
    s = await start(dir);
    const after = await expectState(s);
    expect(after).toEqual(before);
    for (const [id, vector] of after) {
      const r = await s.request('POST', '/v1/collections/c/query', { vector, k: 1, include: [] });
      expect(r.body.hits[0]?.id, `${id} must be the nearest to its own vector`).toBe(id);
    }
  });
});
