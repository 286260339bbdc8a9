// The "openai" provider's client (src/embedding/openai.ts) against a loopback fake of an
// OpenAI-compatible server (test/helpers/fake-openai.ts): what it sends (key, body), how it
// reads answers (by index; malformed or mis-sized ones refused), retries (429 with Retry-After
// waited out, 5xx, timeouts), per-text isolation of a refused batch, and its concurrency bound.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EmbedError, OpenAIEmbedder, embeddingsUrl, retryAfterMs } from '../../src/embedding/index.js';
import type { OpenAIEmbedderOptions } from '../../src/embedding/index.js';
import { FakeOpenAI, fakeVector } from '../helpers/fake-openai.js';
import { runEmbedderSuite } from './embedder.case.js';

const KEY = 'sk-quiver-test-0123456789';
const DIM = 16;
const env: Record<string, string> = { OPENAI_API_KEY: KEY };
const fake = await FakeOpenAI.start({ key: KEY, dimensions: DIM });
afterAll(() => fake.close());
afterEach(() => fake.reset());

function make(opts: Partial<OpenAIEmbedderOptions> = {}): OpenAIEmbedder {
  return new OpenAIEmbedder({
    model: 'fake-model',
    baseUrl: fake.url,
    dimensions: DIM,
    apiKeyEnv: 'OPENAI_API_KEY',
    batchSize: 4,
    concurrency: 2,
    timeoutMs: 30_000,
    retry: { retries: 4, baseMs: 1 },
    env: (name) => env[name],
    ...opts,
  });
}

const expected = (text: string) => Array.from(Float32Array.from(fakeVector(text, DIM)));

runEmbedderSuite('OpenAIEmbedder (fake OpenAI-compatible server)', {
  make: () => Promise.resolve(make()),
  similar: ['red apples and red cherries', 'red apples and green pears'],
  unrelated: 'tax law of the seventeenth century',
});

describe('OpenAIEmbedder', () => {
  it('sends the key from the named variable, the model and the texts, and places vectors by index', async () => {
    const texts = ['one cat', 'two dogs', 'three birds'];
    const out = await make().embed(texts);
    expect(out.map((v) => Array.from(v!))).toEqual(texts.map(expected));
    expect(fake.calls).toHaveLength(1);
    const call = fake.calls[0]!;
    expect(call.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.body).toEqual({ model: 'fake-model', input: texts, encoding_format: 'float' });
  });

  it('sends dimensions to text-embedding-3 models only, which can shorten their vectors', async () => {
    await make({ model: 'text-embedding-3-small' }).embed(['cat']);
    expect(fake.calls[0]!.body).toMatchObject({ model: 'text-embedding-3-small', dimensions: DIM });
    await make({ model: 'nomic-embed-text' }).embed(['cat']);
    expect(fake.calls[1]!.body).not.toHaveProperty('dimensions');
  });

  it('sends no Authorization header when the variable is not set (local servers need none), and a 401 then says which variable', async () => {
    const e = make({ apiKeyEnv: 'MISSING_API_KEY' });
    const err = await e.embed(['cat']).catch((x: unknown) => x);
    expect(fake.calls[0]!.headers.authorization).toBeUndefined();
    expect(err).toBeInstanceOf(EmbedError);
    expect(err).toMatchObject({ kind: 'fatal' });
    expect((err as EmbedError).reason).toContain('MISSING_API_KEY is not set');
    expect(fake.calls).toHaveLength(1); // no retries of a refusal
  });

  it('waits out a 429 Retry-After (seconds) and then succeeds', async () => {
    fake.script({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const out = await make().embed(['slow cat']);
    expect(Array.from(out[0]!)).toEqual(expected('slow cat'));
    expect(fake.calls.map((c) => c.status)).toEqual([429, 200]);
    // The back-off alone (base 1 ms) would have retried at once.
    expect(fake.calls[1]!.at - fake.calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('waits out a Retry-After given as an HTTP date', async () => {
    fake.script({ kind: 'status', status: 503, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } });
    await make().embed(['dated cat']);
    expect(fake.calls.map((c) => c.status)).toEqual([503, 200]);
    // HTTP dates have whole seconds: at least ~1 s of the 2 remains.
    expect(fake.calls[1]!.at - fake.calls[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('retries 5xx with back-off and gives up after the retries as transient', async () => {
    fake.script({ kind: 'status', status: 500 }, 2).script({ kind: 'status', status: 502 }, 1);
    expect(await make().embed(['x'])).toHaveLength(1);
    expect(fake.calls.map((c) => c.status)).toEqual([500, 500, 502, 200]);
    fake.reset();
    fake.script({ kind: 'status', status: 503 }, Infinity);
    const err = await make({ retry: { retries: 2, baseMs: 1 } })
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'transient' });
    expect(fake.calls).toHaveLength(3);
  });

  it('refuses a malformed answer and one of the wrong size, for every text (fatal: the spec or base_url is wrong)', async () => {
    fake.script({ kind: 'malformed' });
    const bad = await make().embed(['x']).catch((e: unknown) => e);
    expect(bad).toMatchObject({ kind: 'fatal' });
    expect((bad as EmbedError).reason).toContain('not JSON');
    fake.script({ kind: 'dimensions', dimensions: DIM + 1 });
    const wrong = await make().embed(['x']).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ kind: 'fatal' });
    expect((wrong as EmbedError).reason).toContain(`${DIM + 1}-dimension vectors`);
    expect((wrong as EmbedError).reason).toContain(`expects ${DIM}`);
  });

  it('sends a refused batch again text by text, so only the bad text fails', async () => {
    fake.refuseTextsContaining('POISON');
    const texts = ['a cat', 'POISON pill', 'a dog', 'a bird', 'a fish', 'a frog'];
    const out = await make().embedSettled(texts);
    expect(out).toHaveLength(6);
    expect(out[1]).toBeInstanceOf(EmbedError);
    expect((out[1] as EmbedError).kind).toBe('input');
    expect((out[1] as EmbedError).reason).toContain('input contains POISON');
    for (const i of [0, 2, 3, 4, 5]) expect(Array.from(out[i] as Float32Array)).toEqual(expected(texts[i]!));
    // Batches of 4: the first (holding the poison) refused and split into 4 single calls; the second went through.
    expect(fake.inputs().filter((b) => b.length === 1)).toHaveLength(4);
  });

  it('reads a zero vector as "nothing to embed" (null), as Quiver serves texts its model cannot embed', async () => {
    const zero = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ index: 0, embedding: new Array(DIM).fill(0) }] }));
    });
    await new Promise<void>((r) => zero.listen(0, '127.0.0.1', r));
    try {
      const e = make({ baseUrl: `http://127.0.0.1:${(zero.address() as AddressInfo).port}/v1` });
      expect(await e.embed(['zxqv'])).toEqual([null]);
    } finally {
      zero.close();
    }
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    fake.pause();
    const e = make({ concurrency: 2, batchSize: 1 });
    const all = e.embed(['a', 'b', 'c', 'd', 'e', 'f']);
    const until = Date.now() + 30_000;
    while (fake.calls.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    // Give any request beyond the bound the chance to arrive.
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.calls).toHaveLength(2);
    fake.resume();
    expect(await all).toHaveLength(6);
    expect(fake.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('times out a request that gets no answer, as transient', async () => {
    fake.pause();
    const err = await make({ timeoutMs: 200, retry: { retries: 1, baseMs: 1 } })
      .embed(['x'])
      .catch((e: unknown) => e);
    fake.resume();
    expect(err).toMatchObject({ kind: 'transient' });
    expect((err as EmbedError).reason).toContain('no answer within 200 ms');
  });

  it('calls a server that is not there a transient failure', async () => {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const err = await make({ baseUrl: `http://127.0.0.1:${port}/v1`, retry: { retries: 0, baseMs: 1 } })
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'transient' });
  });
});

describe('embeddingsUrl and retryAfterMs', () => {
  it('appends /embeddings and keeps a query string (Azure api-version)', () => {
    expect(embeddingsUrl('https://api.openai.com/v1')).toBe('https://api.openai.com/v1/embeddings');
    expect(embeddingsUrl('http://localhost:11434/v1/')).toBe('http://localhost:11434/v1/embeddings');
    expect(embeddingsUrl('https://r.openai.azure.com/openai/deployments/e3?api-version=2024-10-21')).toBe('https://r.openai.azure.com/openai/deployments/e3/embeddings?api-version=2024-10-21');
  });

  it('reads seconds, HTTP dates and retry-after-ms, caps them, and ignores nonsense', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    expect(retryAfterMs(h({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(h({ 'retry-after': '0.5' }))).toBe(500);
    expect(retryAfterMs(h({ 'retry-after-ms': '120', 'retry-after': '9' }))).toBe(120);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(h({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs(h({ 'retry-after': '86400' }))).toBe(60_000);
    expect(retryAfterMs(h({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(h({}))).toBeUndefined();
  });
});
