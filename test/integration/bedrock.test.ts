// Collections embedded by Amazon Bedrock (Titan v2) through the HTTP API: the real server, with
// the real AWS SDK client pointed at a local fake of the Bedrock runtime
// (test/helpers/fake-bedrock.ts) through QUIVER_BEDROCK_ENDPOINT. Synchronous upserts and
// queries, then ingest jobs under throttling, rejected texts and denied access.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeBedrock } from '../helpers/fake-bedrock.js';
import type { RecordedRequest } from '../helpers/fake-bedrock.js';
import { TestServer, type Json, PATIENCE_MS } from '../helpers/server.js';

const SECRET = 'quiver-integration-secret';
const CONCURRENCY = 2;
const MODEL = 'amazon.titan-embed-text-v2:0';

let fake: FakeBedrock;
let s: TestServer;
beforeAll(async () => {
  fake = await FakeBedrock.start({ secretAccessKey: SECRET });
  s = await TestServer.start({
    process: true,
    env: {
      QUIVER_BEDROCK_ENDPOINT: fake.url,
      QUIVER_BEDROCK_REGION: 'us-east-1',
      QUIVER_BEDROCK_CONCURRENCY: String(CONCURRENCY),
      QUIVER_EMBED_RETRIES: '8',
      QUIVER_EMBED_RETRY_BASE_MS: '1',
      AWS_ACCESS_KEY_ID: 'AKIDQUIVERINTEGRATION',
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

/** Requests whose inputText contains this marker. */
const callsFor = (marker: string): RecordedRequest[] => fake.requests.filter((r) => String((r.body as { inputText?: unknown } | undefined)?.inputText).includes(marker));

async function createCollection(name: string): Promise<Json> {
  const r = await s.request('POST', '/v1/collections', { name, embedder: { provider: 'bedrock', model: MODEL, dimensions: 256 } });
  expect(r.status).toBe(201);
  return r.body.collection;
}

describe('synchronous upsert and query with Titan v2', () => {
  it('creates a 256-dimension collection without calling Bedrock', async () => {
    const created = await createCollection('titan');
    expect(created).toMatchObject({ dimension: 256, embedder: { provider: 'bedrock', model: MODEL, dimensions: 256, normalize: true } });
    const got = await s.request('GET', '/v1/collections/titan');
    expect(got.body.collection).toMatchObject({ dimension: 256, embedder: { provider: 'bedrock', model: MODEL } });
    expect(fake.requests).toHaveLength(0);
  });

  it('embeds documents on PUT and finds them by a text query', async () => {
    const documents = [
      { id: 'cat', text: 'The cat sat on the warm mat by the fire.' },
      { id: 'pasta', text: 'Boil the pasta in salted water for ten minutes.' },
      { id: 'stocks', text: 'Stock markets fell after the interest rate decision.' },
    ];
    const put = await s.request('PUT', '/v1/collections/titan/documents', { documents });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ created: 3, embedded: 3, not_embedded: [] });
    expect(fake.requests).toHaveLength(3);
    for (const r of fake.requests) {
      expect(r.path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
      expect(r.body).toMatchObject({ dimensions: 256, normalize: true, embeddingTypes: ['float'] });
      expect(r.status).toBe(200); // the fake checked each SigV4 signature with the secret key
    }
    const q = await s.request('POST', '/v1/collections/titan/query', { text: 'how long to boil pasta', k: 3, mode: 'vector' });
    expect(q.status).toBe(200);
    expect(q.body.hits[0].id).toBe('pasta');
    expect(callsFor('how long to boil pasta')).toHaveLength(1);
    const c = await s.request('GET', '/v1/collections/titan');
    expect(c.body.collection).toMatchObject({ document_count: 3, vector_count: 3, dimension: 256 });
  });

  it('retries throttling during a synchronous upsert', async () => {
    fake.throttleFirst(3);
    const put = await s.request('PUT', '/v1/collections/titan/documents', { documents: [{ id: 'rain', text: 'Heavy rain is expected over the hills tonight.' }] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ created: 1, embedded: 1 });
    expect(callsFor('Heavy rain').map((r) => r.status)).toEqual([429, 429, 429, 200]);
  });

  it('answers 502 naming the reason when Bedrock rejects a text, and writes none of the batch', async () => {
    fake.rejectTextContaining('FORBIDDEN', 'Malformed input request: this text is FORBIDDEN here, please reformat your input and try again.');
    const put = await s.request('PUT', '/v1/collections/titan/documents', {
      documents: [
        { id: 'fine', text: 'A perfectly fine sentence about gardens.' },
        { id: 'refused', text: 'A FORBIDDEN sentence.' },
      ],
    });
    expect(put.status).toBe(502);
    expect(put.body.error.code).toBe('EMBEDDING_FAILED');
    expect(put.body.error.message).toContain('ValidationException: Malformed input request: this text is FORBIDDEN here');
    expect(callsFor('FORBIDDEN')).toHaveLength(1); // not retried: it is the text, not the service
    expect((await s.request('GET', '/v1/collections/titan/documents/fine')).status).toBe(404);
    expect((await s.request('GET', '/v1/collections/titan')).body.collection.document_count).toBe(4);
  });
});

const FINAL = new Set(['done', 'failed', 'cancelled']);

/** Submits an ingest job and polls it until it has finished. */
async function ingest(collection: string, documents: { id: string; text: string }[]): Promise<Json> {
  const r = await s.request('POST', `/v1/collections/${collection}/ingest`, { documents });
  expect(r.status).toBe(202);
  expect(r.body.job).toMatchObject({ collection, total: documents.length });
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

const docs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, text: `${prefix} document number ${i} about topic ${i % 3}.` }));

describe('ingest jobs with Titan v2', () => {
  it('retries throttling and lands every document, never over the configured concurrency', async () => {
    await createCollection('throttled');
    fake.throttleFirst(6);
    const documents = docs('throttled', 10);
    const job = await ingest('throttled', documents);
    expect(job).toMatchObject({ status: 'done', total: 10, done: 10, skipped: 0, failed: 0, errors: [], error: null });
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(6);
    for (const d of documents) expect(callsFor(`${d.text}`).filter((r) => r.status === 200)).toHaveLength(1);
    expect(fake.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    const c = await s.request('GET', '/v1/collections/throttled');
    expect(c.body.collection).toMatchObject({ document_count: 10, vector_count: 10 });
    const q = await s.request('POST', '/v1/collections/throttled/query', { text: 'throttled document number 7 about topic 1.', k: 1, mode: 'vector' });
    expect(q.body.hits[0].id).toBe('throttled-7');
  });

  it('fails only the document Bedrock rejects, with its reason, and embeds the others once', async () => {
    await createCollection('mixed');
    fake.rejectTextContaining('POISON');
    const documents = [...docs('mixed', 4), { id: 'poisoned', text: 'This text carries POISON for the model.' }];
    const job = await ingest('mixed', documents);
    expect(job).toMatchObject({ status: 'done', total: 5, done: 4, skipped: 0, failed: 1, error: null });
    expect(job.errors).toHaveLength(1);
    expect(job.errors[0].document_id).toBe('poisoned');
    expect(job.errors[0].message).toContain('ValidationException');
    // Per-text isolation survives the engine: the good texts were not sent a second time.
    for (const d of documents.slice(0, 4)) expect(callsFor(d.text)).toHaveLength(1);
    expect(callsFor('POISON')).toHaveLength(1);
    expect((await s.request('GET', '/v1/collections/mixed/documents/mixed-2')).status).toBe(200);
    expect((await s.request('GET', '/v1/collections/mixed/documents/poisoned')).status).toBe(404);
  });

  it('fails the whole job with a clear error when access is denied', async () => {
    await createCollection('denied');
    fake.denyAll();
    const job = await ingest('denied', docs('denied', 3));
    expect(job).toMatchObject({ status: 'failed', total: 3, done: 0 });
    expect(job.error).toContain("AccessDeniedException: You don't have access to the model");
    expect(job.error).toContain('check the AWS credentials, region and model access');
    expect(fake.requests.every((r) => r.status === 403)).toBe(true);
    expect((await s.request('GET', '/v1/collections/denied')).body.collection.document_count).toBe(0);
  });
});
