// Collections embedded by models on SageMaker endpoints, through the HTTP API: the real server
// (a child process) with the real AWS SDK client pointed at a loopback fake of the SageMaker
// runtime (test/helpers/fake-sagemaker.ts) through QUIVER_SAGEMAKER_ENDPOINT. One collection per
// preset and one with a request template: created, ingested (one document the model refuses),
// queried; then throttling, a missing endpoint, a region the request is not signed for, and the
// specs refused at creation.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeSageMaker, fakeSageMakerVector } from '../helpers/fake-sagemaker.js';
import { TestServer, type Json, PATIENCE_MS, tempDir } from '../helpers/server.js';

const SECRET = 'quiver-sagemaker-integration-secret';
const ACCESS_KEY = 'AKIDQUIVERSMINTEGRAT';
const REGION = 'eu-west-1';
const CONCURRENCY = 2;
const DIMS = 48;

const DOCUMENTS = [
  { id: 'cat', text: 'The cat sat on the warm mat by the fire.' },
  { id: 'pasta', text: 'Boil the pasta in salted water for ten minutes.' },
  { id: 'stocks', text: 'Stock markets fell after the interest rate decision.' },
  { id: 'garden', text: 'Water the tomato plants in the garden every morning.' },
  { id: 'poisoned', text: 'This text carries POISON for the model.' },
];
const QUERY = 'how long to boil pasta';

const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const VOCAB = Object.fromEntries([...new Set([...DOCUMENTS.flatMap((d) => words(d.text)), ...words(QUERY)])].map((w, i) => [w, i + 1]));

let fake: FakeSageMaker;
let s: TestServer;
const modelsDir = tempDir('quiver-sagemaker-models-');
beforeAll(async () => {
  fs.writeFileSync(path.join(modelsDir, 'vocab.json'), JSON.stringify(VOCAB));
  fake = await FakeSageMaker.start({ secretAccessKey: SECRET, accessKeyId: ACCESS_KEY, region: REGION });
  fake
    .endpoint('tei-minilm', { format: 'tei', dimensions: DIMS })
    .endpoint('hf-minilm', { format: 'huggingface', dimensions: DIMS })
    .endpoint('js-gte', { format: 'jumpstart', dimensions: DIMS })
    .endpoint('o2v-sentences', { format: 'object2vec', dimensions: DIMS, vocabulary: VOCAB })
    .endpoint('my-container', {
      dimensions: DIMS,
      format: (body) => {
        const inputs = (body as { payload: { sentences: string[] } }).payload.sentences;
        return { answer: { output: { vectors: inputs.map((t) => ({ values: fakeSageMakerVector(t, DIMS) })) } }, inputs };
      },
    });
  s = await TestServer.start({
    process: true,
    env: {
      QUIVER_SAGEMAKER_ENDPOINT: fake.url,
      QUIVER_SAGEMAKER_REGION: REGION,
      QUIVER_SAGEMAKER_CONCURRENCY: String(CONCURRENCY),
      QUIVER_MODELS_DIR: modelsDir,
      QUIVER_EMBED_RETRIES: '8',
      QUIVER_EMBED_RETRY_BASE_MS: '1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET,
      // Nothing on the machine (profiles, instance metadata) may stand in for these.
      AWS_CONFIG_FILE: '/nonexistent/quiver-test/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/quiver-test/aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
});
afterAll(async () => {
  await s?.stop();
  await fake?.close();
});
afterEach(() => {
  fake.reset();
});

const FINAL = new Set(['done', 'failed', 'cancelled']);

/** Submits an ingest job and polls it until it has finished. */
async function ingest(collection: string, documents: { id: string; text: string }[]): Promise<Json> {
  const r = await s.request('POST', `/v1/collections/${collection}/ingest`, { documents });
  expect(r.status).toBe(202);
  const id: string = r.body.job.id;
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const j = await s.request('GET', `/v1/jobs/${id}`);
    expect(j.status).toBe(200);
    if (FINAL.has(j.body.job.status)) return j.body.job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish: ${JSON.stringify(j.body.job)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

const SPECS: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['tei', { endpoint: 'tei-minilm', preset: 'tei' }, { inputs: expect.any(Array), truncate: true }],
  ['huggingface', { endpoint: 'hf-minilm', preset: 'huggingface' }, { inputs: expect.any(Array) }],
  ['jumpstart', { endpoint: 'js-gte', preset: 'jumpstart' }, { text_inputs: expect.any(Array) }],
  ['object2vec', { endpoint: 'o2v-sentences', preset: 'object2vec', vocabulary: 'vocab.json' }, { instances: expect.any(Array) }],
  [
    'template',
    { endpoint: 'my-container', request_template: { payload: { sentences: '{{texts}}', normalize: true } }, response_path: '$.output.vectors[*].values' },
    { payload: { sentences: expect.any(Array), normalize: true } },
  ],
];

describe.each(SPECS)('a collection on a SageMaker endpoint: %s', (name, spec, body) => {
  const collection = `sm-${name}`;

  it('is created without calling the endpoint, the spec stored with the region in force', async () => {
    const r = await s.request('POST', '/v1/collections', { name: collection, embedder: { provider: 'sagemaker', dimensions: DIMS, ...spec } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.collection).toMatchObject({ dimension: DIMS, embedder: { provider: 'sagemaker', region: REGION, dimensions: DIMS, batch_size: 32, ...spec } });
    if (name === 'object2vec') expect(r.body.collection.embedder.vocabulary_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fake.requests).toHaveLength(0);
  });

  it('ingests: the document the model refuses (ModelError) fails alone, the others land once each', async () => {
    // Object2Vec's request carries token ids, which the fake reads back as lower-case words.
    fake.fail({ error: 'ModelError', match: (inputs) => inputs.some((t) => t.toLowerCase().includes('poison')) });
    const job = await ingest(collection, DOCUMENTS);
    expect(job).toMatchObject({ status: 'done', total: 5, done: 4, failed: 1, error: null });
    expect(job.errors).toHaveLength(1);
    expect(job.errors[0].document_id).toBe('poisoned');
    expect(job.errors[0].message).toContain(`ModelError: endpoint "${String(spec.endpoint)}"'s model answered 400`);
    for (const r of fake.requests) {
      expect(r.path).toBe(`/endpoints/${String(spec.endpoint)}/invocations`);
      expect(r.body).toMatchObject(body);
      expect(r.signing).toMatchObject({ region: REGION, service: 'sagemaker', accessKeyId: ACCESS_KEY });
    }
    // Batch refused, then each text alone: every good document was embedded once.
    for (const marker of ['fire', 'pasta', 'markets', 'tomato']) expect(fake.calls(marker).filter((r) => r.status === 200).length, marker).toBe(1);
    expect((await s.request('GET', `/v1/collections/${collection}/documents/poisoned`)).status).toBe(404);
    const c = await s.request('GET', `/v1/collections/${collection}`);
    expect(c.body.collection).toMatchObject({ document_count: 4, vector_count: 4 });
  });

  it('answers a text query through the endpoint', async () => {
    const q = await s.request('POST', `/v1/collections/${collection}/query`, { text: QUERY, k: 2, mode: 'vector' });
    expect(q.status).toBe(200);
    expect(q.body.hits[0].id).toBe('pasta');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.inputs).toEqual([name === 'object2vec' ? words(QUERY).join(' ') : QUERY]);
  });
});

describe('the service, as it misbehaves', () => {
  it('retries throttling (400 and 429) and lands every document, never over QUIVER_SAGEMAKER_CONCURRENCY', async () => {
    await s.request('POST', '/v1/collections', { name: 'sm-throttled', embedder: { provider: 'sagemaker', endpoint: 'tei-minilm', preset: 'tei', dimensions: DIMS, batch_size: 2 } });
    fake.throttleFirst(3, 400).throttleFirst(3, 429);
    const documents = Array.from({ length: 12 }, (_, i) => ({ id: `t-${i}`, text: `throttled document number ${i}` }));
    const job = await ingest('sm-throttled', documents);
    expect(job).toMatchObject({ status: 'done', total: 12, done: 12, failed: 0, errors: [] });
    expect(fake.requests.filter((r) => r.error === 'ThrottlingException').map((r) => r.status)).toEqual([400, 400, 400, 429, 429, 429]);
    expect(fake.requests.every((r) => r.inputs.length <= 2)).toBe(true);
    expect(fake.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
  });

  it('fails the whole job with a clear error when the endpoint does not exist', async () => {
    await s.request('POST', '/v1/collections', { name: 'sm-missing', embedder: { provider: 'sagemaker', endpoint: 'not-deployed', preset: 'tei', dimensions: DIMS } });
    const job = await ingest('sm-missing', DOCUMENTS.slice(0, 2));
    expect(job).toMatchObject({ status: 'failed', done: 0 });
    expect(job.error).toContain('Endpoint not-deployed of account 123456789012 not found.');
    expect(job.error).toContain('check embedder.endpoint and embedder.region');
  });

  it('signs for the region the embedder names, over QUIVER_SAGEMAKER_REGION (a synchronous write answers 502)', async () => {
    const r = await s.request('POST', '/v1/collections', { name: 'sm-oregon', embedder: { provider: 'sagemaker', endpoint: 'tei-minilm', region: 'us-west-2', preset: 'tei', dimensions: DIMS } });
    expect(r.body.collection.embedder.region).toBe('us-west-2');
    const put = await s.request('PUT', '/v1/collections/sm-oregon/documents', { documents: [DOCUMENTS[0]] });
    expect(put.status).toBe(502);
    expect(put.body.error.code).toBe('EMBEDDING_FAILED');
    expect(put.body.error.message).toContain('InvalidSignatureException');
    expect(fake.requests[0]!.signing).toMatchObject({ region: 'us-west-2', service: 'sagemaker' });
  });
});

describe('specs refused at creation', () => {
  it('answers 400 naming the field and the problem', async () => {
    const base = { provider: 'sagemaker', endpoint: 'tei-minilm', dimensions: DIMS };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ provider: 'sagemaker', endpoint: 'tei-minilm', preset: 'tei' }, 'embedder.dimensions', 'required'],
      [{ ...base }, 'embedder.preset', 'required: one of tei, huggingface, jumpstart, object2vec'],
      [{ ...base, preset: 'bert' }, 'embedder.preset', 'expected one of tei, huggingface, jumpstart, object2vec'],
      [{ ...base, endpoint: 'my_endpoint!' }, 'embedder.endpoint', 'SageMaker endpoint name'],
      [{ ...base, preset: 'tei', region: 'mars-1' }, 'embedder.region', 'AWS region'],
      [{ ...base, preset: 'tei', response_path: '$.x' }, 'embedder.response_path', 'not both'],
      [{ ...base, request_template: { inputs: 'TEXTS' }, response_path: '$' }, 'embedder.request_template', 'exactly one value that is "{{texts}}"'],
      [{ ...base, request_template: { a: '{{texts}}', b: '{{text}}' }, response_path: '$' }, 'embedder.request_template', 'found 2'],
      [{ ...base, request_template: '{{texts}}', response_path: '$' }, 'embedder.request_template', 'JSON object or list'],
      [{ ...base, request_template: { inputs: '{{texts}}' } }, 'embedder.response_path', 'required with request_template'],
      [{ ...base, response_path: '$.embedding' }, 'embedder.request_template', 'required with response_path'],
      [{ ...base, request_template: { inputs: '{{texts}}' }, response_path: 'embedding' }, 'embedder.response_path', 'starts with $'],
      [{ ...base, request_template: { inputs: '{{text}}' }, response_path: '$', batch_size: 8 }, 'embedder.batch_size', 'one text a request'],
      [{ ...base, preset: 'object2vec' }, 'embedder.vocabulary', 'required with preset "object2vec"'],
      [{ ...base, preset: 'object2vec', vocabulary: 'missing.json' }, 'embedder.vocabulary', 'no file missing.json in the models folder'],
      [{ ...base, preset: 'object2vec', vocabulary: '../vocab.json' }, 'embedder.vocabulary', 'the name of a .json file in the models folder'],
      [{ ...base, preset: 'object2vec', vocabulary: 'vocab.json', vocabulary_sha256: '0'.repeat(64) }, 'embedder.vocabulary', 'has changed since the collection was made'],
      [{ ...base, preset: 'tei', vocabulary: 'vocab.json' }, 'embedder.vocabulary', 'only for preset "object2vec"'],
      [{ ...base, preset: 'tei', model: 'x' }, 'embedder', 'model'],
    ];
    for (const [embedder, field, problem] of cases) {
      const r = await s.request('POST', '/v1/collections', { name: 'sm-refused', embedder });
      expect(r.status, JSON.stringify(embedder)).toBe(400);
      expect(r.body.error.message, JSON.stringify(embedder)).toMatch(new RegExp(`^${field.replace('.', '\\.')}[:.]`));
      expect(r.body.error.message, JSON.stringify(embedder)).toContain(problem);
    }
    const wrong = await s.request('POST', '/v1/collections', { name: 'sm-refused', embedder: { ...base, preset: 'tei' }, dimension: 12 });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain(`dimension: provider "sagemaker" makes ${DIMS}-dimension vectors, not 12`);
    expect((await s.request('GET', '/v1/collections/sm-refused')).status).toBe(404);
    expect(fake.requests).toHaveLength(0);
  });
});
