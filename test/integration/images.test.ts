// Image embeddings through the HTTP API (issue 16, part 3): documents with `image` (base64 PNG or
// JPEG) in a collection embedded by Titan Multimodal Embeddings G1, through the real AWS SDK
// client against the loopback fake Bedrock (test/helpers/fake-bedrock.ts), whose image model
// places an image by the label it carries (test/helpers/images.ts) so that an image and its
// caption land close. Text finds images, images find text, images come back byte for byte, are
// stored once, are refused clearly when too large, not an image, or sent to a text-only model,
// and survive a restart.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBedrock } from '../helpers/fake-bedrock.js';
import type { RecordedRequest } from '../helpers/fake-bedrock.js';
import { labelledJpeg, labelledPng } from '../helpers/images.js';
import { TestServer, tempDir, waitFor, type Json } from '../helpers/server.js';

const SECRET = 'quiver-images-secret';
const MODEL = 'amazon.titan-embed-image-v1';
const MAX_IMAGE_BYTES = 4096;

const apple = labelledPng('red apple fruit on a table');
const bicycle = labelledPng('blue bicycle parked by a wall', { rgb: [20, 40, 200] });
const harbour = labelledJpeg('boats in a harbour at sunset');
const b64 = (b: Buffer) => b.toString('base64');

let fake: FakeBedrock;
let s: TestServer;
const dataDir = tempDir('quiver-images-');
const env = () => ({
  QUIVER_BEDROCK_ENDPOINT: fake.url,
  QUIVER_BEDROCK_REGION: 'us-east-1',
  QUIVER_EMBED_RETRY_BASE_MS: '1',
  QUIVER_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
  AWS_ACCESS_KEY_ID: 'AKIDQUIVERIMAGES',
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_CONFIG_FILE: '/nonexistent/quiver-test/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/quiver-test/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
});

beforeAll(async () => {
  fake = await FakeBedrock.start({ secretAccessKey: SECRET });
  s = await TestServer.start({ process: true, dataDir, env: env() });
});
afterAll(async () => {
  await s?.stop();
  await fake?.close();
});

const imageCalls = (): RecordedRequest[] => fake.requests.filter((r) => (r.body as { inputImage?: unknown } | undefined)?.inputImage !== undefined);
const ids = (r: { body: Json }) => (r.body.hits as { id: string }[]).map((h) => h.id);

describe('a Titan Multimodal collection', () => {
  it('is created with 256 dimensions and no call to Bedrock', async () => {
    const r = await s.request('POST', '/v1/collections', { name: 'pics', embedder: { provider: 'bedrock', model: MODEL, dimensions: 256 } });
    expect(r.status).toBe(201);
    expect(r.body.collection).toMatchObject({ dimension: 256, embedder: { provider: 'bedrock', model: MODEL, dimensions: 256 } });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses dimensions the model does not make', async () => {
    const r = await s.request('POST', '/v1/collections', { name: 'bad', embedder: { provider: 'bedrock', model: MODEL, dimensions: 512 } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/embedder\.dimensions: expected 256, 384 or 1024/);
  });

  it('embeds image-only, text-only and image+text documents', async () => {
    const r = await s.request('PUT', '/v1/collections/pics/documents', {
      documents: [
        { id: 'apple.png', image: b64(apple), metadata: { kind: 'photo' } },
        { id: 'bike.png', image: b64(bicycle) },
        { id: 'harbour.jpg', image: b64(harbour), text: 'Evening at the port' },
        { id: 'note-fruit', text: 'a red apple is a healthy fruit' },
        { id: 'note-boats', text: 'fishing boats come back to the harbour' },
      ],
    });
    expect(r.status).toBe(200);
    // Five texts or images sent: three images, two notes, and the harbour's text chunk.
    expect(r.body).toMatchObject({ created: 5, embedded: 6, not_embedded: [] });
    // The body the fake checked, as Titan Multimodal Embeddings G1 takes it: one input per call.
    const images = imageCalls();
    expect(images).toHaveLength(3);
    for (const call of images) {
      expect(call.path).toBe(`/model/${MODEL}/invoke`);
      expect(Object.keys(call.body as object).sort()).toEqual(['embeddingConfig', 'inputImage']);
      expect(call.body).toMatchObject({ embeddingConfig: { outputEmbeddingLength: 256 } });
      expect(call.status).toBe(200); // SigV4 checked against the secret
    }
    expect(fake.calls('Evening at the port')[0]?.body).toEqual({ inputText: 'Evening at the port', embeddingConfig: { outputEmbeddingLength: 256 } });
  });

  it('finds an image by a text query (vector and the default hybrid mode)', async () => {
    const v = await s.request('POST', '/v1/collections/pics/query', { text: 'apple', k: 2, mode: 'vector', filter: { kind: 'photo' } });
    expect(v.status).toBe(200);
    expect(ids(v)).toEqual(['apple.png']);
    const bike = await s.request('POST', '/v1/collections/pics/query', { text: 'bicycle', k: 1, mode: 'vector' });
    expect(ids(bike)).toEqual(['bike.png']);
    // Hybrid: the image-only document has no keyword row, so it comes from the vector ranking alone.
    const h = await s.request('POST', '/v1/collections/pics/query', { text: 'blue bicycle', k: 3 });
    expect(h.body.mode).toBe('hybrid');
    const hit = (h.body.hits as Json[]).find((x) => x.id === 'bike.png');
    expect(hit).toMatchObject({ keyword_rank: null, text: null });
    expect(hit.vector_rank).toBe(1);
    // Keyword mode never returns an image-only document: it has no words.
    const k = await s.request('POST', '/v1/collections/pics/query', { text: 'bicycle', k: 10, mode: 'keyword' });
    expect(ids(k)).not.toContain('bike.png');
    // A text+image document's keyword entries are its text chunks only: the image chunk has no words of its own.
    const port = await s.request('POST', '/v1/collections/pics/query', { text: 'evening port', k: 10, mode: 'keyword', group_by: 'none' });
    expect((port.body.hits as Json[]).map((x) => [x.id, x.chunk_index])).toEqual([['harbour.jpg', 0]]);
  });

  it('finds text by an image query', async () => {
    const fruit = labelledPng('apple fruit', { rgb: [10, 200, 10] });
    const r = await s.request('POST', '/v1/collections/pics/query', { image: b64(fruit), k: 2, include: ['text'] });
    expect(r.status).toBe(200);
    expect(r.body.mode).toBe('vector');
    expect(ids(r)).toEqual(['apple.png', 'note-fruit']);
    const boats = await s.request('POST', '/v1/collections/pics/query', { image: b64(labelledJpeg('boats in the harbour')), k: 2 });
    expect(ids(boats).sort()).toEqual(['harbour.jpg', 'note-boats']);
    const hybrid = await s.request('POST', '/v1/collections/pics/query', { image: b64(fruit), mode: 'hybrid' });
    expect(hybrid.status).toBe(400);
    expect(hybrid.body.error.message).toMatch(/^mode: an image query ranks by vector only/);
  });

  it('returns the image only when include asks, byte for byte', async () => {
    const plain = await s.request('POST', '/v1/collections/pics/query', { text: 'apple', k: 1, mode: 'vector' });
    expect(plain.body.hits[0]).not.toHaveProperty('image');
    const withImage = await s.request('POST', '/v1/collections/pics/query', { text: 'harbour boats', k: 3, mode: 'vector', include: ['image', 'metadata'] });
    const byId = new Map((withImage.body.hits as Json[]).map((h) => [h.id, h]));
    expect(byId.get('harbour.jpg').image).toBe(b64(harbour));
    expect(byId.get('note-boats').image).toBeNull();
    const doc = await s.request('GET', '/v1/collections/pics/documents/apple.png?include=image,chunks');
    expect(doc.status).toBe(200);
    expect(Buffer.from(doc.body.document.image as string, 'base64').equals(apple)).toBe(true);
    expect(doc.body.document.chunks).toEqual([{ index: 0, start: 0, end: 0, text: null, embedded: true, modality: 'image' }]);
    const bare = await s.request('GET', '/v1/collections/pics/documents/apple.png');
    expect(bare.body.document).not.toHaveProperty('image');
    expect(bare.body.document.image_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stores an image once however many documents carry it, and embeds it once', async () => {
    const before = imageCalls().length;
    const r = await s.request('PUT', '/v1/collections/pics/documents', { documents: [{ id: 'apple-copy', image: b64(apple), text: 'the same apple again' }] });
    expect(r.status).toBe(200);
    expect(imageCalls().length).toBe(before); // the cached vector of the same bytes
    const a = await s.request('GET', '/v1/collections/pics/documents/apple.png');
    const b = await s.request('GET', '/v1/collections/pics/documents/apple-copy');
    expect(b.body.document.image_sha256).toBe(a.body.document.image_sha256);
    const db = new Database(path.join(dataDir, 'quiver.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT sha256, length(bytes) AS n FROM images ORDER BY sha256').all() as { sha256: string; n: number }[];
      expect(rows).toHaveLength(3);
      expect(rows.find((x) => x.sha256 === a.body.document.image_sha256)?.n).toBe(apple.length);
      // Deleting one carrier keeps the image; deleting the last releases it.
      expect((await s.request('DELETE', '/v1/collections/pics/documents/apple-copy')).status).toBe(204);
      expect(db.prepare('SELECT count(*) AS n FROM images').get()).toEqual({ n: 3 });
      expect((await s.request('DELETE', '/v1/collections/pics/documents/bike.png')).status).toBe(204);
      expect(db.prepare('SELECT count(*) AS n FROM images').get()).toEqual({ n: 2 });
    } finally {
      db.close();
    }
  });

  it('refuses an oversize image with 413 naming the field, nothing written', async () => {
    const big = labelledPng('big', { width: 64, height: 64 });
    const noisy = Buffer.concat([big, Buffer.alloc(MAX_IMAGE_BYTES)]);
    const r = await s.request('PUT', '/v1/collections/pics/documents', { documents: [{ id: 'ok', text: 'fine' }, { id: 'big', image: b64(noisy) }] });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('IMAGE_TOO_LARGE');
    expect(r.body.error.message).toMatch(/^documents\.1\.image: the image is \d+ bytes, over the limit of 4096 bytes \(QUIVER_MAX_IMAGE_BYTES\)/);
    expect((await s.request('GET', '/v1/collections/pics/documents/ok')).status).toBe(404);
    const q = await s.request('POST', '/v1/collections/pics/query', { image: b64(noisy) });
    expect(q.status).toBe(413);
    expect(q.body.error.message).toMatch(/^image: the image is/);
  });

  it('refuses what is not a PNG or JPEG, or not base64, naming the field', async () => {
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    const r = await s.request('PUT', '/v1/collections/pics/documents', { documents: [{ id: 'g', image: b64(gif) }] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('documents.0.image: expected a PNG or JPEG image, got a GIF');
    const text = await s.request('PUT', '/v1/collections/pics/documents', { documents: [{ id: 't', image: b64(Buffer.from('hello world')) }] });
    expect(text.body.error.message).toMatch(/^documents\.0\.image: expected a PNG or JPEG image, got bytes starting 68656c6c/);
    const mangled = await s.request('PUT', '/v1/collections/pics/documents', { documents: [{ id: 'm', image: 'not base64!' }] });
    expect(mangled.status).toBe(400);
    expect(mangled.body.error.message).toMatch(/^documents\.0\.image: expected standard base64/);
    const dataUrl = await s.request('POST', '/v1/collections/pics/query', { image: `data:image/png;base64,${b64(apple)}` });
    expect(dataUrl.status).toBe(400);
    expect(dataUrl.body.error.message).toMatch(/^image: expected the base64 of the image alone/);
    const both = await s.request('POST', '/v1/collections/pics/query', { image: b64(apple), text: 'apple' });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/^image: give image alone/);
  });

  it('an ingest job embeds image documents as a synchronous write does', async () => {
    const tractor = labelledPng('green tractor in a field', { rgb: [20, 160, 20] });
    const r = await s.request('POST', '/v1/collections/pics/ingest', { documents: [{ id: 'tractor.png', image: b64(tractor) }] });
    expect(r.status).toBe(202);
    const job = await waitFor('the image job to finish', async () => {
      const j = (await s.request('GET', `/v1/jobs/${r.body.job.id as string}`)).body.job;
      return j.status === 'queued' || j.status === 'running' ? undefined : j;
    });
    expect(job).toMatchObject({ status: 'done', done: 1, failed: 0 });
    const q = await s.request('POST', '/v1/collections/pics/query', { text: 'tractor', k: 1, mode: 'vector', include: ['image'] });
    expect(ids(q)).toEqual(['tractor.png']);
    expect(q.body.hits[0].image).toBe(b64(tractor));
  });

  it('an ingest job refuses an image document at request time too', async () => {
    const r = await s.request('POST', '/v1/collections/pics/ingest', { documents: [{ id: 'x', image: b64(Buffer.from('%PDF-1.4 hello')) }] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('documents.0.image: expected a PNG or JPEG image, got a PDF');
  });
});

describe('a collection whose model embeds text only', () => {
  it('refuses an image document and an image query with 400 naming the field', async () => {
    const created = await s.request('POST', '/v1/collections', { name: 'words', embedder: { provider: 'bedrock', model: 'amazon.titan-embed-text-v2:0', dimensions: 256 } });
    expect(created.status).toBe(201);
    const before = fake.requests.length;
    const put = await s.request('PUT', '/v1/collections/words/documents', { documents: [{ id: 'a', text: 'fine' }, { id: 'b', image: b64(apple) }] });
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe('IMAGE_NOT_SUPPORTED');
    expect(put.body.error.message).toMatch(/^documents\.1\.image: the model of collection "words" \(bedrock amazon\.titan-embed-text-v2:0\) embeds text only/);
    const ingest = await s.request('POST', '/v1/collections/words/ingest', { documents: [{ id: 'b', image: b64(apple) }] });
    expect(ingest.status).toBe(400);
    expect(ingest.body.error.code).toBe('IMAGE_NOT_SUPPORTED');
    const q = await s.request('POST', '/v1/collections/words/query', { image: b64(apple) });
    expect(q.status).toBe(400);
    expect(q.body.error.message).toMatch(/^image: the model of collection "words"/);
    expect(fake.requests.length).toBe(before); // nothing reached Bedrock
  });

  it('the local model refuses images as well; a client vector may carry an image as stored data', async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'local' })).status).toBe(201);
    const put = await s.request('PUT', '/v1/collections/local/documents', { documents: [{ id: 'b', image: b64(apple) }] });
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe('IMAGE_NOT_SUPPORTED');
    expect((await s.request('POST', '/v1/collections', { name: 'vectors', embedder: { provider: 'none' }, dimension: 2 })).status).toBe(201);
    const stored = await s.request('PUT', '/v1/collections/vectors/documents', { documents: [{ id: 'v', vector: [1, 0], image: b64(bicycle) }] });
    expect(stored.status).toBe(200);
    const got = await s.request('GET', '/v1/collections/vectors/documents/v?include=image');
    expect(got.body.document.image).toBe(b64(bicycle));
    const noVector = await s.request('PUT', '/v1/collections/vectors/documents', { documents: [{ id: 'w', image: b64(bicycle) }] });
    expect(noVector.status).toBe(400);
    expect(noVector.body.error.message).toMatch(/^documents\.0\.vector: collection "vectors" has no embedding model/);
    // The collection's deletion cascades to its documents, and the last reference releases the image.
    const sha = got.body.document.image_sha256 as string;
    const db = new Database(path.join(dataDir, 'quiver.db'), { readonly: true, fileMustExist: true });
    try {
      const count = () => db.prepare('SELECT count(*) AS n FROM images WHERE sha256 = ?').get(sha);
      expect(count()).toEqual({ n: 1 });
      expect((await s.request('DELETE', '/v1/collections/vectors')).status).toBe(204);
      expect(count()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});

describe('after a restart', () => {
  it('keeps images, their vectors and their single copies', async () => {
    await s.stop();
    s = await TestServer.start({ process: true, dataDir, env: env() });
    const before = fake.requests.length;
    const r = await s.request('POST', '/v1/collections/pics/query', { text: 'apple', k: 1, mode: 'vector', include: ['image'] });
    expect(ids(r)).toEqual(['apple.png']);
    expect(r.body.hits[0].image).toBe(b64(apple));
    const q = await s.request('POST', '/v1/collections/pics/query', { image: b64(harbour), k: 1 });
    expect(ids(q)).toEqual(['harbour.jpg']);
    // The query text and the query image were embedded; no document was embedded again.
    expect(fake.requests.length - before).toBe(2);
    const doc = await s.request('GET', '/v1/collections/pics/documents/harbour.jpg?include=image');
    expect(doc.body.document).toMatchObject({ text: 'Evening at the port', image: b64(harbour) });
  });
});
