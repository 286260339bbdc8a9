// Cluster mode's read path with shards (issue 17, docs/cluster.md "Read path" and "Sharding"),
// with real processes: a 3-node NATS JetStream cluster, an api-role Quiver and two replicas, one
// holding shard 0 and the other shard 1 (QUIVER_CLUSTER_SHARDS). Beside them a standalone Quiver
// (no NATS) holds the same documents: the api node's answers over the two shards must be the
// standalone's (same documents in the same order, same scores) in vector, keyword (global BM25
// statistics), hybrid and filtered queries. Also: read routing on an unsharded collection with
// min_seq, and a shard nobody holds answering 503 at once rather than hanging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/cluster/placement.js';
import { TestServer, waitFor } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';
import { NatsCluster, natsServerVersion } from './nats-cluster.js';

/** Words enough that a two-word query matches fewer than the hybrid candidate depth (100) of the 240 documents. */
const WORDS = (
  'pasta tomato basil garlic olive bread flour yeast oven crust mountain glacier summit trail valley river ' +
  'forest cabin piano jazz trumpet rhythm melody chord guitar drum sailing ocean harbour wind anchor island ' +
  'planet comet orbit telescope galaxy nebula rocket engine circuit battery sensor signal garden tulip rose ' +
  'soil seed harvest winter snow frost summer beach sunset'
).split(' ');
const N = 240;

/** A deterministic text per document: words picked by a small PRNG (mulberry32), lengths varying, so few BM25 ties. */
function doc(i: number): Json {
  let x = (i + 1) * 0x9e3779b9;
  const next = () => {
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const length = 5 + (i % 9);
  const words = Array.from({ length }, () => WORDS[next() % WORDS.length]);
  return { id: `doc-${i}`, text: `${words.join(' ')} note ${i}`, metadata: { group: i % 3, n: i } };
}

/** The run of positions a sharded answer may reorder: documents whose scores tie (labels break ties, and they differ). */
function comparable(hits: Json[]): { ids: string[]; scores: number[] } {
  return { ids: hits.map((h) => h.id as string), scores: hits.map((h) => h.score as number) };
}

/**
 * Same documents in the same order with the same scores (1e-6), up to the order inside runs of
 * equal scores; the last run of the window is left out when the window may cut it differently.
 */
function expectSameAnswer(what: string, sharded: Json[], standalone: Json[], k: number): void {
  const a = comparable(sharded);
  const b = comparable(standalone);
  expect(a.ids.length, what).toBe(b.ids.length);
  a.scores.forEach((s, i) => expect(Math.abs(s - b.scores[i]!), `${what}: score at ${i}`).toBeLessThan(1e-6));
  let start = 0;
  while (start < Math.min(k, b.ids.length)) {
    let end = start + 1;
    while (end < b.ids.length && Math.abs(b.scores[end]! - b.scores[start]!) < 1e-9) end++;
    if (end > k) break; // a tie across the window's edge: either side may be cut
    expect([...a.ids.slice(start, end)].sort(), `${what}: positions ${start}..${end - 1}`).toEqual([...b.ids.slice(start, end)].sort());
    start = end;
  }
  expect(start, `${what}: compared no hit at all`).toBeGreaterThan(0);
}

describe('cluster mode: read routing, shards and exact merges', () => {
  let nats: NatsCluster;
  let api: TestServer;
  let standalone: TestServer;
  const replicas: TestServer[] = [];
  const started: TestServer[] = [];
  let lastSeq = 0;

  /** Waits until the replica applies every shard of the collection it holds (its /readyz lists them). */
  const holding = (r: TestServer, names: string[]) =>
    waitFor(`the replica to apply ${names.join(', ')}`, async () => {
      const lag = ((await r.request('GET', '/readyz')).body.cluster?.lag ?? []) as Json[];
      return names.every((n) => lag.some((l) => l.collection === n)) ? true : undefined;
    });

  beforeAll(async () => {
    expect(natsServerVersion(), 'nats-server must be installed (apt-get install nats-server; .ci/run does it)').toBeDefined();
    nats = await NatsCluster.start();
    const env = (role: string, shards?: string) => ({
      QUIVER_NATS_URL: nats.url,
      QUIVER_ROLE: role,
      QUIVER_CLUSTER_MIN_SEQ_WAIT_MS: '120000',
      ...(shards ? { QUIVER_CLUSTER_SHARDS: shards, QUIVER_NODE_ID: `holds-${shards}` } : {}),
    });
    // The worker embeds the texts written through the log (replicas never embed a write).
    const starting = await Promise.allSettled([
      TestServer.start({ process: true, env: env('api') }),
      TestServer.start({ process: true, env: env('replica', '0') }),
      TestServer.start({ process: true, env: env('replica', '1') }),
      TestServer.start({ process: true }),
      TestServer.start({ process: true, env: env('worker') }),
    ]);
    // Every process that did start is stopped by afterAll, also when another failed to start.
    for (const p of starting) if (p.status === 'fulfilled') started.push(p.value);
    const failed = starting.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
    [api, , , standalone] = started as [TestServer, TestServer, TestServer, TestServer, TestServer];
    replicas.push(started[1]!, started[2]!);
  });

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop('SIGKILL').catch(() => undefined)));
    await nats?.stop();
  });

  it('refuses shards out of range, and in standalone mode, naming the field', async () => {
    for (const shards of [0, 65, 1.5]) {
      const r = await api.request('POST', '/v1/collections', { name: 'bad', shards });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/shards/);
    }
    const r = await standalone.request('POST', '/v1/collections', { name: 'bad', shards: 2 });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/shards.*cluster mode only/);
  });

  it('splits writes by shard: each replica holds only its shard, and together they hold every document', async () => {
    const created = await api.request('POST', '/v1/collections', { name: 'sharded', shards: 2 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await standalone.request('POST', '/v1/collections', { name: 'sharded' })).status).toBe(201);
    for (let b = 0; b < N; b += 60) {
      const documents = Array.from({ length: 60 }, (_, j) => doc(b + j));
      const w = await api.request('PUT', '/v1/collections/sharded/documents', { documents });
      expect(w.status, JSON.stringify(w.body)).toBe(202);
      expect(w.body.seq).toBeGreaterThan(lastSeq);
      lastSeq = w.body.seq;
      expect((await standalone.request('PUT', '/v1/collections/sharded/documents', { documents })).status).toBe(200);
    }
    const held: string[][] = [];
    for (const [k, r] of replicas.entries()) {
      const page = await r.request('GET', `/v1/collections/sharded/documents?limit=1000&min_seq=${lastSeq}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      const ids = page.body.documents.map((d: Json) => d.id as string);
      for (const id of ids) expect(shardOf(id, 2), id).toBe(k);
      // Hash placement: both shards hold a good share (binomial around N/2).
      expect(ids.length).toBeGreaterThan(N / 4);
      held.push(ids);
    }
    expect([...held[0]!, ...held[1]!].sort()).toEqual(Array.from({ length: N }, (_, i) => `doc-${i}`).sort());

    // Through the api node: a document from each shard, and the list merged in id order.
    for (const ids of held) {
      const got = await api.request('GET', `/v1/collections/sharded/documents/${ids[0]}?include=vector`);
      expect(got.status, JSON.stringify(got.body)).toBe(200);
      const local = await standalone.request('GET', `/v1/collections/sharded/documents/${ids[0]}?include=vector`);
      expect(got.body.document.text).toBe(local.body.document.text);
      expect(got.body.document.vector).toEqual(local.body.document.vector);
    }
    expect((await api.request('GET', '/v1/collections/sharded/documents/nope')).status).toBe(404);
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const r: Json = await api.request('GET', `/v1/collections/sharded/documents?limit=70&filter=${encodeURIComponent('{"group":1}')}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      listed.push(...r.body.documents.map((d: Json) => d.id as string));
      cursor = r.body.next_cursor;
    } while (cursor);
    const expected = await standalone.request('GET', `/v1/collections/sharded/documents?limit=1000&filter=${encodeURIComponent('{"group":1}')}`);
    expect(listed).toEqual(expected.body.documents.map((d: Json) => d.id));
  });

  const QUERIES: [string, Json][] = [
    ['vector', { text: 'jazz piano melody', mode: 'vector', k: 10, ef: 500 }],
    ['vector, deep window', { text: 'snowy mountain trail', mode: 'vector', k: 8, offset: 12, ef: 500 }],
    ['vector given', { vector: 'FROM_DOC', mode: 'vector', k: 10, ef: 500, include: ['text', 'metadata'] }],
    ['keyword', { text: 'tomato pasta', mode: 'keyword', k: 10 }],
    ['keyword, rare and common words', { text: 'comet garden harvest', mode: 'keyword', k: 15, include: ['text'] }],
    ['keyword, phrase', { text: '"olive bread" oven', mode: 'keyword', k: 10 }],
    ['hybrid (adaptive)', { text: 'ocean sailing', k: 10, ef: 500 }],
    ['hybrid (rrf)', { text: 'rocket engine', k: 10, fusion: 'rrf', ef: 500 }],
    ['hybrid (convex)', { text: 'garden tulip', k: 10, fusion: 'convex', ef: 500 }],
    ['filtered vector', { text: 'galaxy telescope', mode: 'vector', k: 10, ef: 500, filter: { group: 1 } }],
    ['filtered keyword', { text: 'river valley', mode: 'keyword', k: 10, filter: { n: { $gte: 100 } } }],
    ['filtered hybrid', { text: 'winter frost', k: 10, ef: 500, filter: { group: { $in: [0, 2] } } }],
  ];

  it('answers vector, keyword, hybrid and filtered queries over two shards exactly as one node holding everything', async () => {
    const vector = (await standalone.request('GET', '/v1/collections/sharded/documents/doc-7?include=vector')).body.document.vector;
    const took: [number, number] = [0, 0];
    for (const [what, query] of QUERIES) {
      const body = query.vector === 'FROM_DOC' ? { ...query, vector } : query;
      const timed = async (s: TestServer, url: string, which: 0 | 1) => {
        const t0 = performance.now();
        const r = await s.request('POST', url, body);
        took[which] += performance.now() - t0;
        return r;
      };
      const sharded = await timed(api, `/v1/collections/sharded/query?min_seq=${lastSeq}`, 0);
      const single = await timed(standalone, '/v1/collections/sharded/query', 1);
      expect(sharded.status, `${what}: ${JSON.stringify(sharded.body)}`).toBe(200);
      expect(single.status, `${what}: ${JSON.stringify(single.body)}`).toBe(200);
      expect(sharded.body.mode).toBe(single.body.mode);
      expect(single.body.hits.length, what).toBeGreaterThan(0);
      expectSameAnswer(what, sharded.body.hits, single.body.hits, query.k);
      // Top-k mixes the two shards (the merge is doing work), and the fields asked for arrive.
      const shards = new Set(sharded.body.hits.map((h: Json) => shardOf(h.id, 2)));
      if (!query.filter && !query.offset) expect(shards.size, `${what}: hits from both shards`).toBe(2);
      for (const h of sharded.body.hits) {
        const twin = single.body.hits.find((x: Json) => x.id === h.id);
        if (!twin) continue;
        if (query.include?.includes('text')) expect(h.text).toBe(twin.text);
        if (query.include?.includes('metadata')) expect(h.metadata).toEqual(twin.metadata);
        if (single.body.mode === 'hybrid') {
          expect([h.vector_rank, h.keyword_rank], `${what}: ${h.id}`).toEqual([twin.vector_rank, twin.keyword_rank]);
        }
      }
    }
    // A figure, not a test (the machine is shared): the cost of the fan-out on loopback.
    console.log(`shards: ${QUERIES.length} queries, api node over 2 shards ${(took[0] / QUERIES.length).toFixed(1)} ms each, standalone ${(took[1] / QUERIES.length).toFixed(1)} ms each`);
  });

  it('records the placement in KV: every node says which shards it holds, and the api node lists the holders of each shard', async () => {
    const view = await waitFor('both replicas to write a heartbeat with their shards', async () => {
      const r = await api.request('GET', '/v1/admin/cluster/nodes');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const ids = r.body.nodes.map((n: Json) => n.id);
      return ids.includes('holds-0') && ids.includes('holds-1') ? r.body : undefined;
    });
    expect(view.nodes.find((n: Json) => n.id === 'holds-1')).toMatchObject({ role: 'replica', shards: [1] });
    expect(view.nodes.filter((n: Json) => n.role === 'api').map((n: Json) => n.shards)).toEqual([null]);
    expect(view.placement.find((p: Json) => p.collection === 'sharded')).toEqual({
      collection: 'sharded',
      shards: 2,
      holders: [
        { shard: 0, nodes: ['holds-0'] },
        { shard: 1, nodes: ['holds-1'] },
      ],
    });
    // Standalone has no cluster to describe.
    const none = await standalone.request('GET', '/v1/admin/cluster/nodes');
    expect(none.status).toBe(409);
  });

  it('refuses what it cannot route, and a bad filter, on the api node with the usual status', async () => {
    const bad = await api.request('POST', '/v1/collections/sharded/query', { text: 'pasta', filter: { n: { $nope: 1 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/filter/);
    // Feedback needs the keyword hits' vectors from every shard, a round the fan-out does not make.
    const feedback = await api.request('POST', '/v1/collections/sharded/query', { text: 'pasta', feedback: {} });
    expect(feedback.status, JSON.stringify(feedback.body)).toBe(501);
    expect(feedback.body.error.message).toMatch(/feedback/);
    const context = await api.request('POST', '/v1/collections/sharded/context', { text: 'pasta' });
    expect(context.status).toBe(501);
    expect(context.body.error.message).toMatch(/sharded collection \(2 shards\)/);
    expect((await api.request('POST', '/v1/collections/sharded/recommend', { positive: ['doc-1'] })).status).toBe(501);
  });

  it('routes reads of an unsharded collection to a replica, with read-your-writes through min_seq', async () => {
    expect((await api.request('POST', '/v1/collections', { name: 'plain' })).status).toBe(201);
    await holding(replicas[0]!, ['plain']);
    const w = await api.request('PUT', '/v1/collections/plain/documents', { documents: [doc(1), doc(2), { id: 'fresh', text: 'a brand new telescope for the comet' }] });
    expect(w.status, JSON.stringify(w.body)).toBe(202);
    const q = await api.request('POST', `/v1/collections/plain/query?min_seq=${w.body.seq}`, { text: 'telescope comet', mode: 'keyword', k: 3 });
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    expect(q.body.hits[0].id).toBe('fresh');
    const got = await api.request('GET', `/v1/collections/plain/documents/fresh?min_seq=${w.body.seq}`);
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    // The replica holding shard 0 has it; the one holding only shard 1 holds nothing of this collection.
    expect((await replicas[0]!.request('GET', '/v1/collections/plain/documents/fresh')).status).toBe(200);
    expect((await replicas[1]!.request('GET', '/v1/collections/plain/documents/fresh')).status).toBe(404);
    // Context, recommend and similar need the whole collection in one place: for an unsharded one
    // the replica holding it answers them, as its own routes do.
    const reads: [string, string, Json?][] = [
      ['POST', '/v1/collections/plain/context', { text: 'telescope comet', max_tokens: 200 }],
      ['POST', '/v1/collections/plain/recommend', { positive: ['fresh'], k: 2 }],
      ['GET', '/v1/collections/plain/documents/fresh/similar?k=2'],
    ];
    for (const [method, url, body] of reads) {
      const routed = await api.request(method, url, body);
      const own = await replicas[0]!.request(method, url, body);
      expect(routed.status, `${url}: ${JSON.stringify(routed.body)}`).toBe(200);
      const { took_ms: _a, ...routedBody } = routed.body;
      const { took_ms: _b, ...ownBody } = own.body;
      expect(routedBody, url).toEqual(ownBody);
    }
    expect((await api.request('POST', '/v1/collections/plain/context', { text: 'telescope' })).body.chunks[0].document_id).toBe('fresh');
    // The replica's errors come back as they are; a bad body is the api node's own 400.
    const missing = await api.request('GET', '/v1/collections/plain/documents/nope/similar');
    expect(missing.status, JSON.stringify(missing.body)).toBe(404);
    expect(missing.body.error.code).toBe('DOCUMENT_NOT_FOUND');
    const bad = await api.request('POST', '/v1/collections/plain/recommend', { positive: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/positive/);
  });

  it('answers 503 naming the shard, at once, when no replica holds a shard', async () => {
    expect((await api.request('POST', '/v1/collections', { name: 'orphan', shards: 3 })).status).toBe(201);
    await holding(replicas[0]!, ['orphan/s0']);
    await holding(replicas[1]!, ['orphan/s1']);
    const w = await api.request('PUT', '/v1/collections/orphan/documents', { documents: Array.from({ length: 30 }, (_, i) => doc(i)) });
    expect(w.status).toBe(202);
    const q = await api.request('POST', `/v1/collections/orphan/query?min_seq=${w.body.seq}`, { text: 'pasta', k: 3 });
    expect(q.status, JSON.stringify(q.body)).toBe(503);
    expect(q.body.error.code).toBe('SHARD_UNAVAILABLE');
    expect(q.body.error.message).toMatch(/shard 2 of collection "orphan"/);
  });
});
