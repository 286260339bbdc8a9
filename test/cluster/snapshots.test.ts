// Cluster snapshots, a new replica from snapshot + tail, and log purge (issue 17, docs/cluster.md
// "Snapshots and a new replica", "Retention") with real processes on one 3-node NATS cluster: an
// api-role Quiver and replicas started late with empty data dirs. Each new replica must restore the
// current snapshot, apply only the tail, and end up with every acknowledged document exactly once,
// answering as the replica that was there all along; the log is purged below what the snapshot
// and every live replica hold, and a replica whose position was purged while it was away re-seeds.
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir, waitFor } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';
import { EXACT_OVER_ALL, appliedUpTo } from './replica-reads.js';
import { NatsCluster, natsServerVersion } from './nats-cluster.js';

const TOPICS = ['pasta with tomato sauce', 'mountain hiking in the alps', 'jazz piano improvisation', 'sourdough bread baking', 'sailing across the ocean'];
/** Applied messages past the current snapshot after which the designated replica takes one by itself. */
const EVERY = 12;

function doc(i: number): Json {
  return { id: `d${i}`, text: `${TOPICS[i % TOPICS.length]} note number ${i}`, metadata: { i } };
}

describe('cluster mode: snapshots, a new replica from snapshot + tail, log purge', () => {
  let nats: NatsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let api: TestServer;
  /** The first replica: its node id sorts first, so it is the designated snapshot taker. */
  let first: TestServer;
  const started: TestServer[] = [];
  /** Every acknowledged document id of "notes" still there, and the last acknowledged sequence. */
  const expected = new Set<string>();
  let last = 0;
  let stream = '';
  let next = 0;

  const startReplica = async (nodeId: string, dataDir = tempDir()): Promise<TestServer> => {
    const s = await TestServer.start({
      process: true,
      dataDir,
      env: { QUIVER_NATS_URL: nats.url, QUIVER_ROLE: 'replica', QUIVER_NODE_ID: nodeId, QUIVER_CLUSTER_SNAPSHOT_EVERY: String(EVERY), QUIVER_CLUSTER_MIN_SEQ_WAIT_MS: '120000' },
    });
    started.push(s);
    return s;
  };

  beforeAll(async () => {
    expect(natsServerVersion(), 'nats-server must be installed (apt-get install nats-server; .ci/run does it)').toBeDefined();
    nats = await NatsCluster.start();
    nc = await connect({ servers: nats.url.split(',') });
    jsm = await jetstreamManager(nc);
    api = await TestServer.start({ process: true, env: { QUIVER_NATS_URL: nats.url, QUIVER_ROLE: 'api' } });
    // The worker embeds the texts written through the log (replicas never embed a write).
    const worker = await TestServer.start({ process: true, env: { QUIVER_NATS_URL: nats.url, QUIVER_ROLE: 'worker' } });
    started.push(api, worker);
    first = await startReplica('r-a');
  });

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop('SIGKILL').catch(() => undefined)));
    await nc?.close().catch(() => undefined);
    await nats?.stop();
  });

  /** Writes `batches` batches of 10 new documents to "notes" through the api node. */
  async function writeBatches(batches: number): Promise<void> {
    for (let b = 0; b < batches; b++) {
      const docs = Array.from({ length: 10 }, () => doc(next++));
      const r = await api.request('PUT', '/v1/collections/notes/documents', { documents: docs });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      for (const d of docs) expected.add(d.id as string);
      last = r.body.seq;
      stream = r.body.stream;
    }
  }

  /** Every document id of "notes" on one node, once it applied `seq`. */
  async function ids(s: TestServer, seq = last): Promise<string[]> {
    await appliedUpTo(s, 'notes', seq);
    const out: string[] = [];
    let cursor: string | null = null;
    let q = `min_seq=${seq}&limit=1000`;
    do {
      const r = await s.request('GET', `/v1/collections/notes/documents?${q}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status, `${JSON.stringify(r.body)}\n${s.output().slice(-4000)}`).toBe(200);
      out.push(...r.body.documents.map((d: Json) => d.id as string));
      cursor = r.body.next_cursor;
      q = 'limit=1000';
    } while (cursor);
    return out.sort();
  }

  /** The replica holds exactly the acknowledged documents, once each, and answers as `first` does. */
  async function expectComplete(s: TestServer): Promise<void> {
    const got = await ids(s);
    expect(new Set(got).size).toBe(got.length);
    expect(got).toEqual([...expected].sort());
    const view = await s.request('GET', '/v1/collections/notes');
    expect(view.body.collection.vector_count).toBe(expected.size);
    const answers = await Promise.all([first, s].map((r) => r.request('POST', `/v1/collections/notes/query?min_seq=${last}`, { text: 'bread baking', k: 10, filter: EXACT_OVER_ALL })));
    expect(answers[0]!.body.hits.length).toBe(10);
    expect(answers[1]!.body.hits).toEqual(answers[0]!.body.hits);
  }

  async function metric(s: TestServer, name: string): Promise<number | undefined> {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const m = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  }

  const firstSeq = async () => (await jsm.streams.info(stream)).state.first_seq;

  let snapshotSeq = 0;
  let second: TestServer;

  it('a replica started empty after a snapshot restores it and applies only the tail', async () => {
    expect((await api.request('POST', '/v1/collections', { name: 'notes' })).status).toBe(201);
    await writeBatches(8);
    await ids(first); // applied up to `last`
    const onApi = await api.request('POST', '/v1/admin/cluster/snapshot');
    expect(onApi.status).toBe(501);
    const t0 = Date.now();
    const snap = await first.request('POST', '/v1/admin/cluster/snapshot');
    const took = Date.now() - t0;
    const inSnapshot = expected.size;
    expect(snap.status, JSON.stringify(snap.body)).toBe(201);
    expect(snap.body.snapshot.node).toBe('r-a');
    expect(snap.body.snapshot.collections).toEqual([{ name: 'notes', stream, seq: last }]);
    expect(snap.body.snapshot.bytes).toBeGreaterThan(0);
    snapshotSeq = last;
    expect(await metric(first, 'quiver_cluster_snapshot_seq{collection="notes"}')).toBe(snapshotSeq);

    // The tail: more documents, one updated, one deleted.
    await writeBatches(4);
    const upd = await api.request('PUT', '/v1/collections/notes/documents', { documents: [{ ...doc(3), text: 'sourdough bread baking, edited' }] });
    expect(upd.status).toBe(202);
    const del = await api.request('DELETE', '/v1/collections/notes/documents/d5');
    expect(del.status).toBe(202);
    expected.delete('d5');
    last = del.body.seq;

    second = await startReplica('r-b');
    expect(second.output()).toContain('seeded the data dir from cluster snapshot');
    // It applied from the message after the snapshot's sequence, not from the start.
    const from = /"collection":"notes","stream":"[^"]+","from":(\d+),"msg":"applying the log"/.exec(second.output());
    expect(Number(from?.[1]), second.output()).toBe(snapshotSeq + 1);
    await expectComplete(second);
    console.log(`cluster snapshot: ${inSnapshot} documents, ${snap.body.snapshot.bytes} bytes, taken and uploaded in ${took} ms; new replica seeded and caught up`);
    const d3 = await second.request('GET', '/v1/collections/notes/documents/d3');
    expect(d3.body.document.text).toBe('sourdough bread baking, edited');
  });

  it('purges the log below the snapshot once every replica is past it; a third replica started empty is still complete', async () => {
    // Both replicas applied past the snapshot: the designated one purges below it.
    await waitFor('the log to be purged below the snapshot', async () => ((await firstSeq()) === snapshotSeq + 1 ? true : undefined));
    // Past EVERY messages the designated replica takes the next snapshot by itself, and purges again.
    await writeBatches(EVERY + 2);
    const newer = await waitFor('a snapshot taken by the threshold', async () => {
      const seq = await metric(first, 'quiver_cluster_snapshot_seq{collection="notes"}');
      return seq !== undefined && seq > snapshotSeq ? seq : undefined;
    });
    await waitFor('the log to be purged below the newer snapshot', async () => ((await firstSeq()) > snapshotSeq + 1 ? true : undefined));
    expect(await firstSeq()).toBeLessThanOrEqual(newer + 1);
    expect(await metric(first, 'quiver_cluster_log_first_seq{collection="notes"}')).toBeGreaterThan(snapshotSeq);

    const third = await startReplica('r-c');
    expect(third.output()).toContain('seeded the data dir from cluster snapshot');
    await expectComplete(third);
    await third.stop('SIGTERM');
  });

  it('a collection deleted after the snapshot is not brought back by a replica restored from it', async () => {
    expect((await api.request('POST', '/v1/collections', { name: 'scratch' })).status).toBe(201);
    const w = await api.request('PUT', '/v1/collections/scratch/documents', { documents: [doc(1), doc(2)] });
    expect(w.status).toBe(202);
    expect((await first.request('GET', `/v1/collections/scratch/documents/d1?min_seq=${w.body.seq}`)).status).toBe(200);
    const snap = await first.request('POST', '/v1/admin/cluster/snapshot');
    expect(snap.status, JSON.stringify(snap.body)).toBe(201);
    expect(snap.body.snapshot.collections.map((c: Json) => c.name).sort()).toEqual(['notes', 'scratch']);
    expect((await api.request('DELETE', '/v1/collections/scratch')).status).toBe(204);
    // The catalog's delete marker would make the new replica drop it as a delete; without the marker
    // (purged, as KV compaction does) the catalog simply does not name it, the case to check here.
    await jsm.streams.purge('KV_quiver-catalog', { filter: '$KV.quiver-catalog.scratch', keep: 0 });

    const fourth = await startReplica('r-d');
    expect(fourth.output()).toContain('seeded the data dir from cluster snapshot');
    expect(fourth.output()).toMatch(/"collection":"scratch","msg":"collection is not in the cluster catalog/);
    expect((await fourth.request('GET', '/v1/collections/scratch')).status).toBe(404);
    const list = await fourth.request('GET', '/v1/collections');
    expect(list.body.collections.map((c: Json) => c.name)).toEqual(['notes']);
    await expectComplete(fourth);
    await fourth.stop('SIGTERM');
  });

  it('a replica whose position was purged while it was away re-seeds from the snapshot on restart', async () => {
    const away = second;
    const position = last;
    await away.stop('SIGKILL');
    await writeBatches(3);
    await ids(first); // the snapshot holds the new batches, so it is past the stopped replica
    const snap = await first.request('POST', '/v1/admin/cluster/snapshot');
    expect(snap.status, JSON.stringify(snap.body)).toBe(201);
    // Once its heartbeat is older than 15 s it no longer holds the purge back.
    await waitFor('the log to be purged past the stopped replica', async () => ((await firstSeq()) > position + 1 ? true : undefined)).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${first.output().slice(-6000)}`);
    });
    second = await startReplica('r-b', away.dataDir);
    expect(second.output()).toMatch(/"msg":"seeding the data dir from the current cluster snapshot"/);
    expect(second.output()).toContain('purged while it was away');
    await expectComplete(second);
  });
});
