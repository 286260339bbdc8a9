// Cluster mode's write path (issue 17, docs/cluster.md) with real processes: a 3-node NATS
// JetStream cluster (Debian's nats-server), one api-role Quiver, two replica-role Quivers and one
// ingest worker (the replicas apply the chunks it embedded; test/cluster/workers.test.ts tests workers).
// Writes are acknowledged with a stream sequence; both replicas then hold every acknowledged
// document exactly once and answer queries identically, also after a NATS node and a replica were
// killed with SIGKILL in the middle of the writes. A Quiver that cannot reach NATS says so and exits.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENCE_MS, ROOT, TestServer, tempDir, waitFor } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';
import { QuiverClient, isAccepted } from '../../src/client/index.js';
import { writeTinyClipModel } from '../helpers/clip-model.js';
import { labelledPng } from '../helpers/images.js';
import { EXACT_OVER_ALL, allDocuments } from './replica-reads.js';
import { NatsCluster, freePort, natsServerVersion } from './nats-cluster.js';

const TOPICS = ['pasta with tomato sauce', 'mountain hiking in the alps', 'jazz piano improvisation', 'sourdough bread baking', 'sailing across the ocean'];

function doc(i: number): Json {
  return { id: `d${i}`, text: `${TOPICS[i % TOPICS.length]} note number ${i}`, metadata: { i } };
}

describe('cluster mode: the write path on NATS JetStream', () => {
  let nats: NatsCluster;
  let api: TestServer;
  const replicas: TestServer[] = [];
  const replicaDirs = [tempDir(), tempDir()];
  const started: TestServer[] = [];
  // A tiny CLIP-shaped model (test/helpers/clip-model.ts): a collection that takes images.
  const modelsDir = tempDir('quiver-cluster-models-');

  const startNode = async (role: 'api' | 'replica' | 'worker', dataDir?: string): Promise<TestServer> => {
    const s = await TestServer.start({ process: true, dataDir, env: { QUIVER_NATS_URL: nats.url, QUIVER_ROLE: role, QUIVER_CLUSTER_MIN_SEQ_WAIT_MS: '120000', QUIVER_MODELS_DIR: modelsDir } });
    started.push(s);
    return s;
  };

  beforeAll(async () => {
    expect(natsServerVersion(), 'nats-server must be installed (apt-get install nats-server; .ci/run does it)').toBeDefined();
    nats = await NatsCluster.start();
    await writeTinyClipModel(path.join(modelsDir, 'tiny-clip'));
    api = await startNode('api');
    await startNode('worker');
    for (const dir of replicaDirs) replicas.push(await startNode('replica', dir));
  });

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop('SIGKILL').catch(() => undefined)));
    await nats?.stop();
  });

  /** The properties the api node's /openapi.json gives one response of one operation, sorted. */
  async function documented(method: string, route: string, status: number): Promise<string[]> {
    const spec = (await api.request('GET', '/openapi.json')).body;
    const schema = spec.paths?.[route]?.[method]?.responses?.[status]?.content?.['application/json']?.schema;
    expect(schema, `${method} ${route} ${status} in /openapi.json`).toBeDefined();
    return Object.keys(schema.properties ?? {}).sort();
  }

  it('acknowledges writes with a sequence after which both replicas hold them exactly once and answer alike', async () => {
    const created = await api.request('POST', '/v1/collections', { name: 'notes' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    let last = 0;
    for (let b = 0; b < 10; b++) {
      const r = await api.request('PUT', '/v1/collections/notes/documents', { documents: Array.from({ length: 30 }, (_, j) => doc(b * 30 + j)) });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      expect(r.body.accepted).toBe(30);
      expect(r.body.seq).toBeGreaterThan(last);
      last = r.body.seq;
    }
    // The same documents again (a client retrying after a lost answer): applied, nothing doubles.
    const again = await api.request('PUT', '/v1/collections/notes/documents', { documents: [doc(0), doc(1)] });
    expect(again.status).toBe(202);
    const del = await api.request('DELETE', '/v1/collections/notes/documents/d7');
    expect(del.status).toBe(202);
    last = del.body.seq;
    // The served OpenAPI document describes these 202 answers as they are.
    expect(Object.keys(again.body).sort()).toEqual(await documented('put', '/v1/collections/{name}/documents', 202));
    expect(Object.keys(del.body).sort()).toEqual(await documented('delete', '/v1/collections/{name}/documents/{id}', 202));
    // The typed client tells an accepted write from a written one.
    const viaClient = await new QuiverClient({ url: api.url }).collection('notes').upsert([doc(0)]);
    if (!isAccepted(viaClient)) throw new Error(`the api node wrote instead of accepting: ${JSON.stringify(viaClient)}`);
    expect(viaClient.seq).toBe(del.body.seq + 1);
    last = viaClient.seq;

    const views: Json[] = [];
    const answers: Json[] = [];
    for (const r of replicas) {
      const docs = await allDocuments(r, 'notes', last);
      expect(docs.map((d: Json) => d.id).sort()).toEqual(
        Array.from({ length: 300 }, (_, i) => `d${i}`)
          .filter((id) => id !== 'd7')
          .sort(),
      );
      const view = await r.request('GET', '/v1/collections/notes');
      // One chunk, one vector per document: an apply done twice would leave more.
      expect(view.body.collection.document_count).toBe(299);
      expect(view.body.collection.vector_count).toBe(299);
      views.push(view.body.collection.document_count);
      const q = await r.request('POST', `/v1/collections/notes/query?min_seq=${last}`, { text: 'bread baking', k: 10, filter: EXACT_OVER_ALL });
      expect(q.status, JSON.stringify(q.body)).toBe(200);
      expect(q.body.hits.length).toBe(10);
      expect(q.body.plan.vector).toBe('exact');
      answers.push(q.body.hits.map((h: Json) => [h.id, h.score]));
    }
    expect(answers[0]).toEqual(answers[1]);

    // The replica reports how far it applied; the api node holds the catalog but no documents.
    const metrics = await (await fetch(`${replicas[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`quiver_cluster_applied_seq\\{collection="notes"\\} ${last}`));
    expect(metrics).toMatch(/quiver_cluster_replica_lag\{collection="notes"\} 0/);
    const ready = await replicas[0]!.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.cluster.lag).toEqual([{ collection: 'notes', applied: last, last }]);
    // The api node holds no documents: it routes the query to a replica (test/cluster/shards.test.ts
    // covers routing in depth) and refuses the reads it does not route.
    const onApi = await api.request('POST', `/v1/collections/notes/query?min_seq=${last}`, { text: 'bread baking', k: 10, filter: EXACT_OVER_ALL });
    expect(onApi.status, JSON.stringify(onApi.body)).toBe(200);
    expect(onApi.body.hits.map((h: Json) => [h.id, h.score])).toEqual(answers[0]);
    // The Chroma and Qdrant surfaces are not routed: refused on the api node, not answered from its empty store.
    for (const route of ['/collections/notes/points/scroll', '/api/v2/heartbeat']) {
      const r = await api.request(route.startsWith('/api') ? 'GET' : 'POST', route, route.startsWith('/api') ? undefined : { limit: 3 });
      expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(501);
      expect(JSON.stringify(r.body)).toMatch(/api-role node/);
    }
    expect((await api.request('GET', '/v1/no-such-route')).status).toBe(404);
    // A replica serves them from its own data.
    const scroll = await replicas[0]!.request('POST', '/collections/notes/points/scroll', { limit: 3 });
    expect(scroll.status, JSON.stringify(scroll.body)).toBe(200);
    // What it does not route it refuses, naming what to do instead.
    const answer = await api.request('POST', '/v1/collections/notes/answer', { question: 'bread?' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(501);
    expect(answer.body.error.message).toMatch(/api-role node/);
  });

  it('runs an ingest job on the api node by publishing its batches to the log; the job shows where the last one is', async () => {
    expect((await api.request('POST', '/v1/collections', { name: 'bulk' })).status).toBe(201);
    const documents = Array.from({ length: 250 }, (_, i) => doc(2000 + i));
    const submitted = await api.request('POST', '/v1/collections/bulk/ingest', { documents });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const job = await waitFor('the ingest job to finish', async () => {
      const j = (await api.request('GET', `/v1/jobs/${submitted.body.job.id}`)).body.job;
      return j.status === 'done' || j.status === 'failed' ? j : undefined;
    });
    expect(job).toMatchObject({ status: 'done', total: 250, done: 250, failed: 0 });
    expect(job.log.stream).toMatch(/^QUIVER_C_bulk_/);
    for (const r of replicas) {
      const docs = await allDocuments(r, 'bulk', job.log.seq);
      expect(docs.map((d: Json) => d.id).sort()).toEqual(documents.map((d) => d.id).sort());
    }
    // A bad document is refused when the job is submitted, before anything is published.
    const bad = await api.request('POST', '/v1/collections/bulk/ingest', { documents: [doc(1), { id: 'x', vector: [] }] });
    expect(bad.status, JSON.stringify(bad.body)).toBe(400);
    expect(bad.body.error.message).toMatch(/documents\.1/);
  });

  it('rejects bad writes with the same 4xx as standalone, before anything is published', async () => {
    const r = await api.request('PUT', '/v1/collections/notes/documents', { documents: [{ id: 'x' }] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/documents\.0/);
    const bad = await replicas[0]!.request('GET', '/v1/collections/notes/documents?min_seq=abc');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/min_seq/);
  });

  it('refuses a document with an image (501, naming it) before publishing: the log carries no images, so no replica could apply it', async () => {
    const created = await api.request('POST', '/v1/collections', { name: 'pictures', embedder: { provider: 'local', model: 'tiny-clip' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const image = labelledPng('', { rgb: [220, 10, 10] }).toString('base64');
    const r = await api.request('PUT', '/v1/collections/pictures/documents', { documents: [{ id: 'caption', text: 'a red apple' }, { id: 'photo', image }] });
    expect(r.status, JSON.stringify(r.body)).toBe(501);
    expect(r.body.error.code).toBe('CLUSTER_UNSUPPORTED');
    expect(r.body.error.message).toMatch(/documents\.1\.image/);
    // Nothing of that batch reached the log: the next write is the stream's first message.
    const text = await api.request('PUT', '/v1/collections/pictures/documents', { documents: [{ id: 'caption', text: 'a red apple' }] });
    expect(text.status, JSON.stringify(text.body)).toBe(202);
    expect(text.body.seq).toBe(1);
    for (const replica of replicas) expect((await allDocuments(replica, 'pictures', text.body.seq)).map((d: Json) => d.id)).toEqual(['caption']);
  });

  it('deletes by filter through the log: 202 with a sequence, then gone on every replica; a bad filter is a 400 first', async () => {
    expect((await api.request('POST', '/v1/collections', { name: 'purge' })).status).toBe(201);
    const w = await api.request('PUT', '/v1/collections/purge/documents', { documents: Array.from({ length: 10 }, (_, i) => doc(i)) });
    expect(w.status, JSON.stringify(w.body)).toBe(202);
    const bad = await api.request('POST', '/v1/collections/purge/documents/delete', { filter: { i: { $near: 3 } } });
    expect(bad.status, JSON.stringify(bad.body)).toBe(400);
    expect(bad.body.error.message).toMatch(/^filter/);
    const del = await api.request('POST', '/v1/collections/purge/documents/delete', { filter: { i: { $gte: 6 } } });
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    expect(del.body.seq).toBeGreaterThan(w.body.seq);
    // The bad filter published nothing: the delete is the next message after the write.
    expect(del.body.seq).toBe(w.body.seq + 1);
    expect(Object.keys(del.body).sort()).toEqual(await documented('post', '/v1/collections/{name}/documents/delete', 202));
    for (const r of replicas) {
      expect((await allDocuments(r, 'purge', del.body.seq)).map((d: Json) => d.id).sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
      expect((await r.request('GET', '/v1/collections/purge')).body.collection.vector_count).toBe(6);
    }
  });

  it('loses and doubles no acknowledged write when a NATS node and a replica are killed -9 mid-ingest', async () => {
    const created = await api.request('POST', '/v1/collections', { name: 'chaos' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const acked = new Set<string>();
    let last = 0;
    let refused = 0;
    const write = async (b: number) => {
      const docs = Array.from({ length: 20 }, (_, j) => doc(b * 20 + j));
      const r = await api.request('PUT', '/v1/collections/chaos/documents', { documents: docs });
      if (r.status === 202) {
        for (const d of docs) acked.add(d.id);
        last = Math.max(last, r.body.seq);
      } else {
        // Not acknowledged: NATS lost its leader meanwhile; the answer says so.
        expect(r.status, JSON.stringify(r.body)).toBe(503);
        expect(r.body.error.code).toBe('CLUSTER_UNAVAILABLE');
        refused++;
      }
    };
    let b = 0;
    for (; b < 10; b++) await write(b);
    // kill -9 one NATS node and one replica while writes are in flight.
    const writing = (async () => {
      for (; b < 40; b++) await write(b);
    })();
    // ...once the replica to be killed has applied part of them, so its restart has a position to resume from.
    const appliedBefore = await waitFor('replica 2 to apply some of the writes', async () => {
      const lag = (await replicas[1]!.request('GET', '/readyz')).body.cluster?.lag as Json[] | undefined;
      const applied = lag?.find((l: Json) => l.collection === 'chaos')?.applied as number | undefined;
      return applied !== undefined && applied >= 3 && b >= 12 ? applied : undefined;
    });
    await nats.kill('n1');
    await replicas[1]!.stop('SIGKILL');
    await writing;
    await nats.restart('n1');
    replicas[1] = await startNode('replica', replicaDirs[1]);
    for (; b < 45; b++) await write(b);
    expect(acked.size).toBeGreaterThanOrEqual(20 * 20);
    // The restarted replica went on from the sequence stored with its data, not from the start.
    const resumed = /"collection":"chaos","stream":"[^"]+","from":(\d+),"msg":"applying the log"/.exec(replicas[1].output());
    expect(resumed, replicas[1].output()).not.toBeNull();
    expect(Number(resumed![1])).toBeGreaterThan(Math.max(1, appliedBefore));

    const seen: string[][] = [];
    for (const r of replicas) {
      const docs = await allDocuments(r, 'chaos', last);
      const ids = docs.map((d: Json) => d.id as string);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of acked) expect(ids).toContain(id);
      const view = await r.request('GET', '/v1/collections/chaos');
      expect(view.body.collection.vector_count).toBe(ids.length);
      seen.push(ids.sort());
    }
    expect(seen[0]).toEqual(seen[1]);
    const answers = await Promise.all(replicas.map((r) => r.request('POST', `/v1/collections/chaos/query?min_seq=${last}`, { text: 'jazz piano', k: 10, filter: EXACT_OVER_ALL })));
    expect(answers[0]!.body.plan.vector).toBe('exact');
    expect(answers[0]!.body.hits).toEqual(answers[1]!.body.hits);
    console.log(`cluster chaos: ${acked.size} documents acknowledged, ${refused} batches refused with 503 while NATS elected a leader`);
  });

  it('deletes a collection on every node through the catalog, and a new one of the same name starts empty', async () => {
    expect((await api.request('POST', '/v1/collections', { name: 'scratch' })).status).toBe(201);
    const w = await api.request('PUT', '/v1/collections/scratch/documents', { documents: [doc(1), doc(2)] });
    expect(w.status).toBe(202);
    for (const r of replicas) expect((await allDocuments(r, 'scratch', w.body.seq)).length).toBe(2);
    expect((await api.request('DELETE', '/v1/collections/scratch')).status).toBe(204);
    for (const r of replicas) {
      await waitFor('the replica to drop the collection', async () => ((await r.request('GET', '/v1/collections/scratch')).status === 404 ? true : undefined));
    }
    expect((await api.request('POST', '/v1/collections', { name: 'scratch' })).status).toBe(201);
    const again = await api.request('PUT', '/v1/collections/scratch/documents', { documents: [doc(3)] });
    expect(again.status).toBe(202);
    expect(again.body.stream).not.toBe(w.body.stream);
    for (const r of replicas) expect((await allDocuments(r, 'scratch', again.body.seq)).map((d: Json) => d.id)).toEqual(['d3']);
    const dup = await api.request('POST', '/v1/collections', { name: 'scratch' });
    expect(dup.status).toBe(409);
  });

  it('with NATS gone altogether, writes get a clear 503, reads go on, and both recover when it returns', async () => {
    const before = await api.request('PUT', '/v1/collections/notes/documents', { documents: [doc(1000)] });
    expect(before.status).toBe(202);
    // Applied on the replica before NATS goes: a read during the outage must not need NATS.
    expect((await replicas[0]!.request('GET', `/v1/collections/notes/documents/d1000?min_seq=${before.body.seq}`)).status).toBe(200);
    await nats.killAll();
    let jobId = '';
    try {
      const refused = await api.request('PUT', '/v1/collections/notes/documents', { documents: [doc(1001)] });
      expect(refused.status, JSON.stringify(refused.body)).toBe(503);
      expect(refused.body.error.code).toBe('CLUSTER_UNAVAILABLE');
      expect(refused.body.error.message).toMatch(/sending it again is safe/);
      // Replicas answer from their own data meanwhile.
      const read = await replicas[0]!.request('GET', '/v1/collections/notes/documents/d1000');
      expect(read.status, JSON.stringify(read.body)).toBe(200);
      // An ingest job is accepted (it is recorded on the api node) and waits for the log.
      const submitted = await api.request('POST', '/v1/collections/notes/ingest', { documents: [doc(1002), doc(1003)] });
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
      jobId = submitted.body.job.id;
    } finally {
      await nats.startAll();
    }
    const job = await waitFor('the job accepted during the outage to finish', async () => {
      const j = (await api.request('GET', `/v1/jobs/${jobId}`)).body.job;
      return j.status === 'done' || j.status === 'failed' ? j : undefined;
    });
    expect(job).toMatchObject({ status: 'done', done: 2, failed: 0 });
    for (const r of replicas) expect((await r.request('GET', `/v1/collections/notes/documents/d1003?min_seq=${job.log.seq}`)).status).toBe(200);
    // The client's retry of the refused write, once NATS is back.
    const after = await waitFor('a write to be acknowledged again', async () => {
      const r = await api.request('PUT', '/v1/collections/notes/documents', { documents: [doc(1001)] });
      return r.status === 202 ? (r.body) : undefined;
    });
    expect(after.seq).toBeGreaterThan(before.body.seq);
    for (const r of replicas) {
      const got = await r.request('GET', `/v1/collections/notes/documents/d1001?min_seq=${after.seq}`);
      expect(got.status, JSON.stringify(got.body)).toBe(200);
      expect(got.body.document.text).toBe(doc(1001).text);
    }
  });

  /** `quiver serve` with these arguments and variables, run until it exits: its exit code and stderr. */
  async function serveUntilExit(args: string[], env: Record<string, string>): Promise<{ code: number; err: string }> {
    const proc = spawn(process.execPath, ['bin/quiver.js', 'serve', ...args], {
      cwd: ROOT,
      env: { ...process.env, QUIVER_PORT: '0', QUIVER_DATA_DIR: tempDir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await waitFor(
      'the process to exit',
      () => new Promise<number | undefined>((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', (c) => resolve(c ?? -1)))),
      PATIENCE_MS,
    );
    return { code, err };
  }

  it('a Quiver that cannot reach NATS at start says which address and variable, and exits', async () => {
    const port = await freePort();
    const { code, err } = await serveUntilExit(['--role', 'replica'], { QUIVER_NATS_URL: `nats://127.0.0.1:${port}` });
    expect(code).toBe(1);
    expect(err).toContain(`quiver: cannot start in cluster mode: cannot connect to NATS at nats://127.0.0.1:${port} (QUIVER_NATS_URL)`);
  });

  it('quiver serve --role takes only the roles there are', async () => {
    const { code, err } = await serveUntilExit(['--role', 'leader'], { QUIVER_NATS_URL: nats.url });
    expect(code).toBe(2);
    expect(err).toContain('QUIVER_ROLE: expected "api", "replica", "worker" or "all" (got "leader")');
  });
});
