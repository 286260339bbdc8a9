// Semantic search with real local models through the HTTP API: the built-in GloVe model that
// ships with the install, and any transformers.js model placed in QUIVER_MODELS_DIR.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';
import { runNode } from '../helpers/cli.js';
import { writeTinyModel } from '../../scripts/static-model.js';
import type { TinyModel } from '../../scripts/static-model.js';

const DOCS = [
  { id: 'cat', text: 'The cat sat on the mat and purred quietly.' },
  { id: 'dog', text: 'A dog barked at the mailman and chased him down the street.' },
  { id: 'stocks', text: 'Stock markets fell sharply after the central bank raised interest rates.' },
  { id: 'pasta', text: 'Boil the pasta for ten minutes, then drain it and add the tomato sauce.' },
  { id: 'football', text: 'The team scored a late goal to win the championship final.' },
  { id: 'rain', text: 'Heavy rain and strong winds are expected across the region tomorrow.' },
  { id: 'guitar', text: 'She practiced the guitar every evening to play songs with her band.' },
  { id: 'flight', text: 'Our flight to Paris was delayed by three hours at the airport.' },
];
const QUERIES: [string, string][] = [
  ['a kitten sleeping on a rug', 'cat'],
  ['puppy barking loudly', 'dog'],
  ['shares dropped as the bank increased borrowing costs', 'stocks'],
  ['how long should I cook spaghetti', 'pasta'],
  ['soccer match result', 'football'],
  ['weather forecast storm', 'rain'],
  ['learning to play music', 'guitar'],
  ['plane trip late departure', 'flight'],
];

let tiny: TinyModel;
let modelsDir: string;
let s: TestServer;
beforeAll(async () => {
  modelsDir = tempDir('quiver-models-');
  tiny = await writeTinyModel(path.join(modelsDir, 'tiny-test'), { dim: 8, words: ['apple', 'banana', 'cherry', 'vector'] });
  s = await TestServer.start({ env: { QUIVER_MODELS_DIR: modelsDir } });
});
afterAll(async () => {
  await s.stop();
});

describe('built-in local model', () => {
  it('creates a collection with the default model and finds documents by meaning', async () => {
    const c = await s.request('POST', '/v1/collections', { name: 'topics' });
    expect(c.status).toBe(201);
    expect(c.body.collection).toMatchObject({ dimension: 100, embedder: { provider: 'local', model: 'quiver-glove-sif-100d' } });
    const put = await s.request('PUT', '/v1/collections/topics/documents', { documents: DOCS });
    expect(put.body).toMatchObject({ created: DOCS.length, embedded: DOCS.length, not_embedded: [] });
    for (const [text, expected] of QUERIES) {
      // mode vector: this measures the model; the default (hybrid) would also let shared words count.
      const r = await s.request('POST', '/v1/collections/topics/query', { text, k: 3, mode: 'vector' });
      expect(r.status).toBe(200);
      expect(r.body.hits[0].id, `"${text}" should find ${expected}`).toBe(expected);
      expect(r.body.hits[0].text).toBe(DOCS.find((d) => d.id === expected)!.text);
    }
  });

  it('refuses a dimension other than the model\'s, naming both numbers, for a local and a Bedrock model alike', async () => {
    const local = await s.request('POST', '/v1/collections', { name: 'wrong_dim', dimension: 3 });
    expect(local.status).toBe(400);
    expect(local.body.error.message).toBe('dimension: model "quiver-glove-sif-100d" makes 100-dimension vectors, not 3; omit dimension');
    const titan = await s.request('POST', '/v1/collections', { name: 'wrong_dim', embedder: { provider: 'bedrock', model: 'amazon.titan-embed-text-v2:0', dimensions: 256 }, dimension: 512 });
    expect(titan.status).toBe(400);
    expect(titan.body.error.message).toBe('dimension: model "amazon.titan-embed-text-v2:0" makes 256-dimension vectors, not 512; omit dimension');
    expect((await s.request('GET', '/v1/collections/wrong_dim')).status).toBe(404);
  });

  it('never embeds unchanged text twice', async () => {
    const again = await s.request('PUT', '/v1/collections/topics/documents', { documents: DOCS });
    expect(again.body).toMatchObject({ unchanged: DOCS.length, embedded: 0 });
    // Same text under a new id: stored, but taken from the embedding cache.
    const copy = await s.request('PUT', '/v1/collections/topics/documents', { documents: [{ id: 'cat-copy', text: DOCS[0]!.text }] });
    expect(copy.body).toMatchObject({ created: 1, embedded: 0 });
    const changed = await s.request('PUT', '/v1/collections/topics/documents', { documents: [{ id: 'cat-copy', text: 'A lion roared on the savanna.' }] });
    expect(changed.body).toMatchObject({ updated: 1, embedded: 1 });
    const r = await s.request('POST', '/v1/collections/topics/query', { text: 'wild animals in africa', k: 1 });
    expect(r.body.hits[0].id).toBe('cat-copy');
  });

  it('stores text of only unknown words without a vector, and says so', async () => {
    const r = await s.request('PUT', '/v1/collections/topics/documents', { documents: [{ id: 'junk', text: 'qwzxv bnmkj' }] });
    expect(r.status).toBe(200);
    expect(r.body.not_embedded).toEqual(['junk']);
    expect((await s.request('GET', '/v1/collections/topics/documents/junk')).body.document.text).toBe('qwzxv bnmkj');
    const q = await s.request('POST', '/v1/collections/topics/query', { text: 'qwzxv', k: 5, mode: 'vector' });
    expect(q.status).toBe(200);
    expect(q.body.hits).toEqual([]);
    expect(q.body.warning).toContain('no words the model knows');
    const all = await s.request('POST', '/v1/collections/topics/query', { text: 'animals', k: 100, include: [] });
    expect(all.body.hits.map((h: { id: string }) => h.id)).not.toContain('junk');
    for (const h of all.body.hits as { score: number }[]) expect(Number.isFinite(h.score)).toBe(true);
  });

  it('refuses blank text with 400 naming the document', async () => {
    const r = await s.request('PUT', '/v1/collections/topics/documents', { documents: [{ id: 'ok', text: 'fine' }, { id: 'blank', text: '   ' }] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('documents.1.text: must not be blank');
  });

  it('keeps /healthz answering while a large batch is embedded', async () => {
    const documents = Array.from({ length: 1000 }, (_, i) => ({
      id: `bulk-${i}`,
      text: `${DOCS[i % DOCS.length]!.text} Record number ${i} about ${['markets', 'music', 'travel', 'sport'][i % 4]} ${'and more words '.repeat(30)}`,
    }));
    let done = false;
    const upsert = s.request('PUT', '/v1/collections/topics/documents', { documents }).finally(() => (done = true));
    let answeredDuring = 0;
    while (!done) {
      const h = await s.request('GET', '/healthz');
      expect(h.status).toBe(200);
      if (!done) answeredDuring++;
    }
    expect((await upsert).body.created).toBe(1000);
    expect(answeredDuring).toBeGreaterThan(2);
  });
});

describe('models in QUIVER_MODELS_DIR', () => {
  it('uses a transformers.js model placed in the folder, computing the masked mean it defines', async () => {
    const c = await s.request('POST', '/v1/collections', { name: 'tiny', embedder: { provider: 'local', model: 'tiny-test' } });
    expect(c.status).toBe(201);
    expect(c.body.collection).toMatchObject({ dimension: 8, embedder: { model: 'tiny-test' } });
    await s.request('PUT', '/v1/collections/tiny/documents', { documents: [{ id: 'ab', text: 'Apple banana' }, { id: 'cv', text: 'cherry vector' }] });
    const got = await s.request('GET', '/v1/collections/tiny/documents/ab?include=vector');
    const idx = (w: string) => tiny.vocab.indexOf(w);
    const mean = Array.from({ length: 8 }, (_, j) => (tiny.vectors[idx('apple') * 8 + j]! + tiny.vectors[idx('banana') * 8 + j]!) / 2);
    const norm = Math.hypot(...mean);
    got.body.document.vector.forEach((x: number, j: number) => expect(x).toBeCloseTo(mean[j]! / norm, 5));
    const q = await s.request('POST', '/v1/collections/tiny/query', { text: 'cherry', k: 1 });
    expect(q.body.hits[0].id).toBe('cv');
  });

  it('answers 400 naming the folder it looked in for a missing model', async () => {
    const r = await s.request('POST', '/v1/collections', { name: 'missing', embedder: { provider: 'local', model: 'no-such-model' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('MODEL_NOT_FOUND');
    expect(r.body.error.message).toContain(path.join(modelsDir, 'no-such-model'));
    expect((await s.request('GET', '/v1/collections/missing')).status).toBe(404);
  });

  it('reopens collections with their models after a restart', async () => {
    await s.stop();
    s = await TestServer.start({ dataDir: s.dataDir, env: { QUIVER_MODELS_DIR: modelsDir } });
    expect((await s.request('POST', '/v1/collections/tiny/query', { text: 'apple', k: 1 })).body.hits[0].id).toBe('ab');
    expect((await s.request('POST', '/v1/collections/topics/query', { text: 'puppy barking', k: 1 })).body.hits[0].id).toBe('dog');
  });
});

describe('start-up', () => {
  it('stops with one line naming a bad variable', async () => {
    const r = await runNode(['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, QUIVER_PORT: 'eighty', QUIVER_DATA_DIR: tempDir() } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['quiver: invalid configuration: QUIVER_PORT: expected a whole number (got "eighty")']);
  });
});
