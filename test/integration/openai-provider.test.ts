// Collections embedded by the "openai" provider, through Quiver's HTTP API: against a loopback
// fake OpenAI-compatible server (key, body, Retry-After, 5xx, malformed and mis-sized answers, one
// refused text in a job), and against a second Quiver process's own /v1/embeddings, where a
// collection must give the same search results as one embedded by the local model directly.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI, fakeVector } from '../helpers/fake-openai.js';
import { TestServer, waitFor } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';

const KEY = 'sk-fake-openai-0123456789abcdef';
const B_KEY = 'quiver-b-read-key-0123456789';
const DIM = 16;

let fake: FakeOpenAI;
let a: TestServer;
beforeAll(async () => {
  fake = await FakeOpenAI.start({ key: KEY, dimensions: DIM });
  a = await TestServer.start({
    env: {
      FAKE_OPENAI_API_KEY: KEY,
      QUIVER_B_API_KEY: B_KEY,
      WRONG_API_KEY: 'not-the-key-0123456789',
      QUIVER_EMBED_RETRIES: '3',
      QUIVER_EMBED_RETRY_BASE_MS: '1',
      QUIVER_OPENAI_CONCURRENCY: '2',
      QUIVER_INGEST_BATCH: '8',
    },
  });
});
afterAll(async () => {
  await a?.stop();
  await fake?.close();
});
afterEach(() => fake.reset());

async function create(name: string, embedder: Record<string, unknown>): Promise<Json> {
  const r = await a.request('POST', '/v1/collections', { name, embedder, chunking: { strategy: 'none' } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.collection;
}

const remote = (extra: Record<string, unknown> = {}) => ({ provider: 'openai', model: 'fake-model', base_url: fake.url, dimensions: DIM, api_key_env: 'FAKE_OPENAI_API_KEY', batch_size: 4, ...extra });

async function finished(jobId: string): Promise<Json> {
  return waitFor(`job ${jobId}`, async () => {
    const j = (await a.request('GET', `/v1/jobs/${jobId}`)).body.job;
    return ['done', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
  });
}

describe('against a fake OpenAI-compatible server', () => {
  it('creates the collection without a call, stores the spec but never the key', async () => {
    const c = await create('fake', remote());
    expect(c.dimension).toBe(DIM);
    expect(c.embedder).toEqual({ provider: 'openai', model: 'fake-model', base_url: fake.url, dimensions: DIM, api_key_env: 'FAKE_OPENAI_API_KEY', batch_size: 4 });
    expect(fake.calls).toHaveLength(0);
  });

  it('embeds an upsert and a query through the service, with the key from the named variable', async () => {
    const documents = ['red apples', 'green pears', 'tax law', 'red cherries', 'ripe plums'].map((text, i) => ({ id: `d${i}`, text }));
    const w = await a.request('PUT', '/v1/collections/fake/documents', { documents });
    expect(w.status, JSON.stringify(w.body)).toBe(200);
    expect(w.body.embedded).toBe(5);
    // batch_size 4: two requests.
    expect(fake.inputs().map((b) => b.length).sort()).toEqual([1, 4]);
    expect(fake.calls.every((c) => c.headers.authorization === `Bearer ${KEY}` && c.body?.model === 'fake-model')).toBe(true);
    const doc = await a.request('GET', '/v1/collections/fake/documents/d0?include=vector');
    expect(doc.body.document.vector).toEqual(Array.from(Float32Array.from(fakeVector('red apples', DIM))));
    const q = await a.request('POST', '/v1/collections/fake/query', { text: 'red apples', mode: 'vector', k: 1 });
    expect(q.status).toBe(200);
    expect(q.body.hits[0].id).toBe('d0');
    expect(q.body.hits[0].score).toBeCloseTo(1, 5);
    expect(fake.inputs().at(-1)).toEqual(['red apples']);
    // The database holds the variable's name, not its value.
    // (WAL mode: recent pages are in quiver.db-wal.)
    const db = Buffer.concat(['quiver.db', 'quiver.db-wal'].map((f) => path.join(a.dataDir, f)).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
    expect(db.includes(Buffer.from(KEY))).toBe(false);
    expect(db.includes(Buffer.from('FAKE_OPENAI_API_KEY'))).toBe(true);
  });

  it('waits out a 429 with Retry-After, then writes', async () => {
    fake.script({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const w = await a.request('PUT', '/v1/collections/fake/documents', { documents: [{ id: 'late', text: 'late blooming roses' }] });
    expect(w.status, JSON.stringify(w.body)).toBe(200);
    expect(fake.calls.map((c) => c.status)).toEqual([429, 200]);
    expect(fake.calls[1]!.at - fake.calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('answers a synchronous write 502 naming the problem when the service keeps failing, answers badly or with the wrong size', async () => {
    fake.script({ kind: 'status', status: 500 }, Infinity);
    const down = await a.request('PUT', '/v1/collections/fake/documents', { documents: [{ id: 'x', text: 'anything at all' }] });
    expect(down.status).toBe(502);
    expect(down.body.error.code).toBe('EMBEDDING_FAILED');
    expect(down.body.error.message).toContain('answered 500');
    expect(fake.calls).toHaveLength(4); // one try and QUIVER_EMBED_RETRIES=3 retries
    fake.reset();
    fake.script({ kind: 'malformed' });
    const bad = await a.request('PUT', '/v1/collections/fake/documents', { documents: [{ id: 'x', text: 'anything else' }] });
    expect(bad.status).toBe(502);
    expect(bad.body.error.message).toContain('not JSON');
    fake.script({ kind: 'dimensions', dimensions: 12 });
    const wrong = await a.request('PUT', '/v1/collections/fake/documents', { documents: [{ id: 'x', text: 'anything more' }] });
    expect(wrong.status).toBe(502);
    expect(wrong.body.error.message).toContain('12-dimension vectors');
    expect((await a.request('GET', '/v1/collections/fake/documents/x')).status).toBe(404);
  });

  it('fails only the document whose text the service refuses in an ingest job', async () => {
    fake.refuseTextsContaining('POISON');
    const documents = Array.from({ length: 10 }, (_, i) => ({ id: `j${i}`, text: i === 6 ? 'a POISON text' : `job text number ${i}` }));
    const r = await a.request('POST', '/v1/collections/fake/ingest', { documents });
    expect(r.status).toBe(202);
    const job = await finished(r.body.job.id);
    expect(job).toMatchObject({ status: 'done', failed: 1 });
    expect(job.errors).toHaveLength(1);
    expect(job.errors[0].document_id).toBe('j6');
    expect(job.errors[0].message).toContain('input contains POISON');
    for (const i of [0, 5, 9]) expect((await a.request('GET', `/v1/collections/fake/documents/j${i}`)).status).toBe(200);
    expect((await a.request('GET', '/v1/collections/fake/documents/j6')).status).toBe(404);
  });

  it('fails an ingest job whose service refuses the key, saying which variable to check', async () => {
    await create('wrongkey', remote({ api_key_env: 'WRONG_API_KEY' }));
    const r = await a.request('POST', '/v1/collections/wrongkey/ingest', { documents: [{ id: 'a', text: 'some text' }] });
    const job = await finished(r.body.job.id);
    expect(job.status).toBe('failed');
    expect(job.error).toContain('answered 401');
    expect(job.error).toContain('WRONG_API_KEY');
    expect(job.error).not.toContain('not-the-key');
  });

  it('refuses specs it cannot use, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ provider: 'openai', model: 'nomic-embed-text' }, 'embedder.dimensions'],
      [{ provider: 'openai', model: 'text-embedding-3-large', dimensions: 4096 }, 'embedder.dimensions'],
      [{ provider: 'openai', model: 'text-embedding-ada-002', dimensions: 512 }, 'embedder.dimensions'],
      [remote({ api_key_env: 'AWS_SECRET_ACCESS_KEY' }), 'embedder.api_key_env'],
      [remote({ base_url: 'http://user:secret@example.com/v1' }), 'embedder.base_url'],
      [remote({ base_url: 'file:///etc/passwd' }), 'embedder.base_url'],
      [remote({ base_url: 'not a url' }), 'embedder.base_url'],
      [remote({ batch_size: 0 }), 'embedder.batch_size'],
      [remote({ baseUrl: fake.url }), 'embedder'],
    ];
    for (const [embedder, field] of cases) {
      const r = await a.request('POST', '/v1/collections', { name: 'refused', embedder });
      expect(r.status, JSON.stringify(embedder)).toBe(400);
      expect(r.body.error.message.startsWith(`${field}:`), r.body.error.message).toBe(true);
    }
    const known = await create('known', { provider: 'openai', model: 'text-embedding-3-small', dimensions: 512 });
    expect(known).toMatchObject({ dimension: 512, embedder: { base_url: 'https://api.openai.com/v1', api_key_env: 'OPENAI_API_KEY', batch_size: 128 } });
    expect((await create('large', { provider: 'openai', model: 'text-embedding-3-large' })).dimension).toBe(3072);
  });
});

describe("against another Quiver's /v1/embeddings", () => {
  let b: TestServer;
  beforeAll(async () => {
    b = await TestServer.start({ process: true, env: { QUIVER_API_KEYS: `${B_KEY}:read` } });
  });
  afterAll(async () => {
    await b?.stop();
  });

  const TEXTS = [
    'The cat sat on the mat and purred.',
    'Boil the pasta for ten minutes and drain it.',
    'A dog chased the ball across the park.',
    'Stir the tomato sauce and add basil.',
    'The kitten slept in a warm basket.',
    'zxqvbnm qqwxj', // no word the model knows: stored without a vector either way
  ];

  it('gives the same search results as the local model embedding directly', async () => {
    await create('direct', { provider: 'local', model: 'quiver-glove-sif-100d' });
    const via = await create('via', { provider: 'openai', base_url: `${b.url}/v1`, model: 'quiver-glove-sif-100d', dimensions: 100, api_key_env: 'QUIVER_B_API_KEY' });
    expect(via.dimension).toBe(100);
    const documents = TEXTS.map((text, i) => ({ id: `t${i}`, text, metadata: { n: i } }));
    const direct = await a.request('PUT', '/v1/collections/direct/documents', { documents });
    const remote = await a.request('PUT', '/v1/collections/via/documents', { documents });
    expect(remote.status, JSON.stringify(remote.body)).toBe(200);
    expect(remote.body.not_embedded).toEqual(direct.body.not_embedded);
    expect(remote.body.not_embedded).toEqual(['t5']);
    for (const text of ['a sleepy cat', 'cooking spaghetti', 'puppy playing fetch']) {
      for (const mode of ['vector', 'hybrid']) {
        const q = { text, mode, k: 5 };
        const d = (await a.request('POST', '/v1/collections/direct/query', q)).body.hits as Json[];
        const v = (await a.request('POST', '/v1/collections/via/query', q)).body.hits as Json[];
        expect(v.map((h) => h.id), `${mode}: ${text}`).toEqual(d.map((h) => h.id));
        v.forEach((h, i) => expect(h.score).toBeCloseTo(d[i]!.score as number, 5));
      }
    }
    const dv = (await a.request('GET', '/v1/collections/direct/documents/t0?include=vector')).body.document.vector;
    const vv = (await a.request('GET', '/v1/collections/via/documents/t0?include=vector')).body.document.vector;
    expect(vv).toEqual(dv);
  });

  it('names the missing model when the other Quiver does not have it', async () => {
    await create('vianope', { provider: 'openai', base_url: `${b.url}/v1`, model: 'no-such-model', dimensions: 100, api_key_env: 'QUIVER_B_API_KEY' });
    const r = await a.request('PUT', '/v1/collections/vianope/documents', { documents: [{ id: 'x', text: 'cat' }] });
    expect(r.status).toBe(502);
    expect(r.body.error.message).toContain('answered 404');
    expect(r.body.error.message).toContain('no-such-model');
  });
});
