// Image embeddings with a local CLIP-style model through the HTTP API (issue 16, part 3): a tiny
// generated text + vision pair in QUIVER_MODELS_DIR (test/helpers/clip-model.ts), run by
// transformers.js with no network. Its space is colour, so a red picture lands on "red": text finds
// images, images find text, and a text-only local model still refuses images.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyClipModel } from '../helpers/clip-model.js';
import { labelledJpeg, labelledPng } from '../helpers/images.js';
import { TestServer, tempDir, waitFor } from '../helpers/server.js';
import { writeTinyModel } from '../../scripts/static-model.js';

const b64 = (b: Buffer) => b.toString('base64');
const red = labelledPng('', { rgb: [230, 10, 10], width: 12, height: 9 });
const green = labelledPng('', { rgb: [10, 220, 20] });
const blue = labelledPng('', { rgb: [15, 20, 240], width: 5, height: 16 });

let s: TestServer;
beforeAll(async () => {
  const modelsDir = tempDir('quiver-clip-models-');
  await writeTinyClipModel(path.join(modelsDir, 'tiny-clip'));
  await writeTinyModel(path.join(modelsDir, 'tiny-text'), { dim: 4, words: ['red', 'blue'] });
  s = await TestServer.start({ env: { QUIVER_MODELS_DIR: modelsDir } });
});
afterAll(async () => {
  await s.stop();
});

describe('a local CLIP-style model', () => {
  it('is image-capable: its dimension comes from the model and the collection takes images and texts', async () => {
    const c = await s.request('POST', '/v1/collections', { name: 'colours', embedder: { provider: 'local', model: 'tiny-clip' } });
    expect(c.status).toBe(201);
    expect(c.body.collection).toMatchObject({ dimension: 4, embedder: { provider: 'local', model: 'tiny-clip' } });
    const put = await s.request('PUT', '/v1/collections/colours/documents', {
      documents: [
        { id: 'red-pic', image: b64(red) },
        { id: 'green-pic', image: b64(green) },
        { id: 'blue-pic', image: b64(blue) },
        { id: 'sky', text: 'blue sky' },
        { id: 'apple', text: 'a red apple' },
        { id: 'grass', text: 'green grass' },
      ],
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ created: 6, embedded: 6, not_embedded: [] });
  });

  it('a text query finds the image of its colour', async () => {
    for (const [text, expected] of [['red', 'red-pic'], ['green', 'green-pic'], ['blue', 'blue-pic']] as const) {
      const r = await s.request('POST', '/v1/collections/colours/query', { text, k: 6, mode: 'vector', filter: {} });
      expect(r.status).toBe(200);
      const images = (r.body.hits as { id: string }[]).map((h) => h.id).filter((id) => id.endsWith('-pic'));
      expect(images[0], `"${text}" should find ${expected}`).toBe(expected);
    }
  });

  it('an image query finds the text of its colour, and the same image first of all', async () => {
    for (const [image, caption, self] of [[red, 'apple', 'red-pic'], [green, 'grass', 'green-pic'], [blue, 'sky', 'blue-pic']] as const) {
      const r = await s.request('POST', '/v1/collections/colours/query', { image: b64(image), k: 6, include: ['text'] });
      expect(r.status).toBe(200);
      const ids = (r.body.hits as { id: string }[]).map((h) => h.id);
      expect(ids[0]).toBe(self);
      expect(ids.filter((id) => !id.endsWith('-pic'))[0], `the ${self} image should find "${caption}"`).toBe(caption);
    }
  });

  it('an image the decoder cannot read is refused with the reason (502, as a Titan ValidationException is); a good one still goes in', async () => {
    // JPEG framing with no picture inside: it passes the format check but no decoder can read it.
    const put = await s.request('PUT', '/v1/collections/colours/documents', { documents: [{ id: 'broken', image: b64(labelledJpeg('nothing here')) }] });
    expect(put.status).toBe(502);
    expect(put.body.error.code).toBe('EMBEDDING_FAILED');
    expect(put.body.error.message).toMatch(/^the embedding model failed: the image could not be decoded: [^\n]+$/);
    const good = await s.request('PUT', '/v1/collections/colours/documents', { documents: [{ id: 'red-again', image: b64(labelledPng('', { rgb: [240, 0, 0], width: 3, height: 3 })) }] });
    expect(good.body).toMatchObject({ created: 1, embedded: 1 });
    const r = await s.request('POST', '/v1/collections/colours/query', { text: 'red', k: 2, mode: 'vector' });
    expect((r.body.hits as { id: string }[]).map((h) => h.id).sort()).toEqual(['red-again', 'red-pic']);
  });

  it('an ingest job embeds images through the worker too, failing only the image it cannot decode', async () => {
    const r = await s.request('POST', '/v1/collections/colours/ingest', {
      documents: [
        { id: 'job-blue', image: b64(labelledPng('', { rgb: [0, 0, 255], width: 7, height: 7 })) },
        { id: 'job-broken', image: b64(labelledJpeg('still nothing')) },
      ],
    });
    expect(r.status).toBe(202);
    const job = await waitFor('the image job to finish', async () => {
      const j = (await s.request('GET', `/v1/jobs/${r.body.job.id as string}`)).body.job;
      return j.status === 'queued' || j.status === 'running' ? undefined : j;
    });
    expect(job).toMatchObject({ done: 1, failed: 1 });
    expect(JSON.stringify(job)).toMatch(/could not be decoded/);
    const q = await s.request('POST', '/v1/collections/colours/query', { text: 'blue', k: 2, mode: 'vector' });
    expect((q.body.hits as { id: string }[]).map((h) => h.id).sort()).toEqual(['blue-pic', 'job-blue']);
  });
});

describe('a text-only local model', () => {
  it('still refuses images with 400 naming the field', async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'words', embedder: { provider: 'local', model: 'tiny-text' } })).status).toBe(201);
    const put = await s.request('PUT', '/v1/collections/words/documents', { documents: [{ id: 'x', image: b64(red) }] });
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe('IMAGE_NOT_SUPPORTED');
    expect(put.body.error.message).toMatch(/^documents\.0\.image/);
    const q = await s.request('POST', '/v1/collections/words/query', { image: b64(red) });
    expect(q.status).toBe(400);
    expect(q.body.error.code).toBe('IMAGE_NOT_SUPPORTED');
  });
});
