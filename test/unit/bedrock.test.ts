// The Bedrock Titan embedder with the real AWS SDK client, against a local fake of the Bedrock
// runtime (test/helpers/fake-bedrock.ts) that checks request bodies and SigV4 signatures and
// answers errors the way the service does.
import crypto from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BedrockEmbedder, EmbedError } from '../../src/embedding/index.js';
import type { BedrockOptions } from '../../src/embedding/index.js';
import { EMBED_CHANNEL, instrumentEmbedder } from '../../src/embedding/instrument.js';
import type { EmbedEvent } from '../../src/embedding/instrument.js';
import type { ImageData } from '../../src/domain/types.js';
import { FakeBedrock, fakeTitanVector } from '../helpers/fake-bedrock.js';
import { labelledPng } from '../helpers/images.js';
import type { BedrockErrorName } from '../helpers/fake-bedrock.js';
import { runEmbedderSuite } from './embedder.case.js';

const ACCESS_KEY = 'AKIDQUIVERTEST000001';
const SECRET = 'quiver-test-secret-key';
// The standard credential chain reads these; nothing on the machine (profiles, IMDS) may leak in.
process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
process.env.AWS_SECRET_ACCESS_KEY = SECRET;
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;
delete process.env.AWS_REGION;
delete process.env.AWS_DEFAULT_REGION;
process.env.AWS_CONFIG_FILE = '/nonexistent/quiver-test/aws-config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/quiver-test/aws-credentials';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const V2 = 'amazon.titan-embed-text-v2:0';
const V1 = 'amazon.titan-embed-text-v1';

const fake = await FakeBedrock.start({ secretAccessKey: SECRET });
const made: BedrockEmbedder[] = [];
afterAll(async () => {
  await Promise.all(made.map((e) => e.close()));
  await fake.close();
});

function make(opts: Partial<BedrockOptions> = {}): BedrockEmbedder {
  const e = new BedrockEmbedder({ model: V2, region: 'us-east-1', endpoint: fake.url, concurrency: 4, retry: { retries: 4, baseMs: 1 }, ...opts });
  made.push(e);
  return e;
}

/** The fake's vector as the client must hand it back: the same numbers, as float32. */
const expected = (text: string, dims: number, normalize: boolean) => Array.from(Float32Array.from(fakeTitanVector(text, dims, normalize)));

function settledError(v: Float32Array | null | EmbedError | undefined): EmbedError {
  expect(v).toBeInstanceOf(EmbedError);
  return v as EmbedError;
}

describe('BedrockEmbedder against a fake Bedrock runtime', () => {
  afterEach(() => {
    fake.resume();
    fake.reset();
  });

  it.each([256, 512, 1024])('sends the Titan v2 body as documented and reads %i dimensions', async (dims) => {
    const e = make({ dimensions: dims });
    expect(e.dimensions).toBe(dims);
    const text = `Titan v2 at ${dims} dimensions`;
    const [v] = await e.embed([text]);
    expect(fake.requests).toHaveLength(1);
    const r = fake.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.accept).toBe('application/json');
    expect(r.body).toEqual({ inputText: text, dimensions: dims, normalize: true, embeddingTypes: ['float'] });
    expect(r.status).toBe(200);
    expect(Array.from(v!)).toEqual(expected(text, dims, true));
  });

  it('gives each output size and normalisation its own model id (the embedding cache key)', () => {
    const ids = [make({ dimensions: 256 }), make({ dimensions: 1024 }), make({ dimensions: 1024, normalize: false }), make({ model: V1 })].map((e) => e.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('sends normalize: false when asked and keeps the unnormalised vector', async () => {
    const e = make({ dimensions: 512, normalize: false });
    const text = 'raw raw raw vector please';
    const [v] = await e.embed([text]);
    expect(fake.requests[0]!.body).toEqual({ inputText: text, dimensions: 512, normalize: false, embeddingTypes: ['float'] });
    expect(Array.from(v!)).toEqual(expected(text, 512, false));
    expect(Math.hypot(...v!)).toBeGreaterThan(1.5);
  });

  it('sends Titan v1 only inputText and reads 1536 dimensions', async () => {
    const e = make({ model: V1 });
    expect(e.dimensions).toBe(1536);
    const text = 'the first Titan text embeddings model';
    const [v] = await e.embed([text]);
    const r = fake.requests[0]!;
    expect(r.path).toBe('/model/amazon.titan-embed-text-v1/invoke');
    expect(r.body).toEqual({ inputText: text });
    expect(Array.from(v!)).toEqual(expected(text, 1536, false));
  });

  it('signs every request with SigV4 for bedrock in the configured region, and the signature checks out', async () => {
    const e = make({ region: 'eu-west-1' });
    const out = await e.embed(['signed one', 'signed two: with (punctuation)!']);
    expect(out.every((v) => v instanceof Float32Array)).toBe(true);
    expect(fake.requests).toHaveLength(2);
    for (const r of fake.requests) {
      // The fake recomputed each signature with the secret key (a mismatch would be a 403).
      expect(r.status).toBe(200);
      expect(r.headers.authorization).toMatch(
        new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/eu-west-1/bedrock/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$`),
      );
      expect(r.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    }
  });

  it('is refused as fatal when the signature does not match (wrong secret key)', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const e = make();
      const [r] = await e.embedSettled(['a text signed with the wrong key']);
      const err = settledError(r);
      expect(err.kind).toBe('fatal');
      expect(err.reason).toContain('InvalidSignatureException');
      expect(fake.requests).toHaveLength(1);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = SECRET;
    }
  });

  it('a call with no answer in time fails as a retried timeout instead of holding its job forever', async () => {
    fake.pause();
    // Long enough for each request to reach the fake on a busy machine; the answer never comes.
    const e = make({ timeoutMs: 2000, retry: { retries: 1, baseMs: 1 } });
    const [settled] = await e.embedSettled(['never answered']);
    expect(settled).toBeInstanceOf(Error);
    expect((settled as EmbedError).kind).toBe('transient');
    expect(fake.requests).toHaveLength(2);
  });

  it('never has more requests in flight than its concurrency', async () => {
    const e = make({ concurrency: 3 });
    const texts = Array.from({ length: 20 }, (_, i) => `concurrent text number ${i}`);
    fake.pause();
    const done = e.embed(texts);
    await fake.waitForInFlight(3);
    // Room for a 4th request to arrive if the limit did not hold; the check does not depend on it.
    await new Promise((r) => setTimeout(r, 50));
    const held = fake.inFlight;
    fake.resume();
    const out = await done;
    expect(held).toBe(3);
    expect(fake.maxInFlight).toBe(3);
    expect(fake.requests).toHaveLength(20);
    out.forEach((v, i) => expect(Array.from(v!)).toEqual(expected(texts[i]!, 1024, true)));
  });

  it('retries throttling with back-off and then succeeds', async () => {
    fake.throttleFirst(3);
    const e = make({ retry: { retries: 4, baseMs: 1 } });
    const [v] = await e.embed(['throttled at first']);
    expect(Array.from(v!)).toEqual(expected('throttled at first', 1024, true));
    expect(fake.calls('throttled at first').map((r) => r.status)).toEqual([429, 429, 429, 200]);
  });

  it('fails as transient when throttling outlasts the retries', async () => {
    fake.fail({ error: 'ThrottlingException' });
    const e = make({ retry: { retries: 2, baseMs: 1 } });
    const err = settledError((await e.embedSettled(['always throttled']))[0]);
    expect(err.kind).toBe('transient');
    expect(err.reason).toMatch(/^ThrottlingException: Too many requests/);
    expect(fake.calls('always throttled')).toHaveLength(3);
    await expect(e.embed(['always throttled'])).rejects.toMatchObject({ name: 'EmbedError', kind: 'transient' });
  });

  it.each<[BedrockErrorName, number, string]>([
    ['ModelNotReadyException', 429, 'transient'],
    ['InternalServerException', 500, 'transient'],
    ['ServiceUnavailableException', 503, 'transient'],
    ['ValidationException', 400, 'input'],
    ['AccessDeniedException', 403, 'fatal'],
  ])('classifies %s (HTTP %i) from the wire as %s, retrying only transient errors', async (error, status, kind) => {
    fake.fail({ error });
    const e = make({ retry: { retries: 2, baseMs: 1 } });
    const err = settledError((await e.embedSettled([`answered with ${error}`]))[0]);
    expect(err.kind).toBe(kind);
    expect(err.reason).toContain(error);
    const calls = fake.calls(`answered with ${error}`);
    expect(calls.every((r) => r.status === status)).toBe(true);
    expect(calls).toHaveLength(kind === 'transient' ? 3 : 1);
  });

  it('fails only the text Bedrock rejects (ValidationException), embedding the others once', async () => {
    fake.rejectTextContaining('FORBIDDEN', 'Malformed input request: the text is not allowed, please reformat your input and try again.');
    const e = make();
    const texts = ['a good first text', 'a FORBIDDEN text', 'a good third text'];
    const out = await e.embedSettled(texts);
    expect(Array.from(out[0] as Float32Array)).toEqual(expected(texts[0]!, 1024, true));
    expect(Array.from(out[2] as Float32Array)).toEqual(expected(texts[2]!, 1024, true));
    const err = settledError(out[1]);
    expect(err.kind).toBe('input');
    expect(err.reason).toBe('ValidationException: Malformed input request: the text is not allowed, please reformat your input and try again.');
    for (const t of texts) expect(fake.calls(t)).toHaveLength(1);
    // embed() fails the whole call with that error.
    await expect(e.embed(texts)).rejects.toMatchObject({ kind: 'input', reason: err.reason });
  });

  it('fails AccessDeniedException as fatal, naming what to check, without retrying', async () => {
    fake.denyAll();
    const e = make({ retry: { retries: 5, baseMs: 1 } });
    const err = settledError((await e.embedSettled(['no access to the model']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain("AccessDeniedException: You don't have access to the model");
    expect(err.reason).toContain('check the AWS credentials');
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses text over the input limit without a call; text over the token limit is an input error from Bedrock', async () => {
    const e = make();
    const tooLong = settledError((await e.embedSettled(['x'.repeat(50_001)]))[0]);
    expect(tooLong.kind).toBe('input');
    expect(tooLong.reason).toContain('8,192 tokens');
    expect(fake.requests).toHaveLength(0);
    // Under 50,000 characters but 9,000 words: the service counts the tokens and says no.
    const manyWords = 'word '.repeat(9000);
    const tooManyTokens = settledError((await e.embedSettled([manyWords]))[0]);
    expect(tooManyTokens.kind).toBe('input');
    expect(tooManyTokens.reason).toContain('Too many input tokens');
    expect(fake.requests).toHaveLength(1);
  });

  it('answers blank text with null without a call', async () => {
    const e = make();
    expect(await e.embedSettled(['', '  \n\t '])).toEqual([null, null]);
    expect(await e.embed([''])).toEqual([null]);
    expect(fake.requests).toHaveLength(0);
  });

  it('treats an endpoint that does not answer as transient', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = make({ endpoint: `http://127.0.0.1:${port}`, retry: { retries: 1, baseMs: 1 } });
    const err = settledError((await e.embedSettled(['nobody listens']))[0]);
    expect(err.kind).toBe('transient');
    expect(err.reason).toContain('ECONNREFUSED');
  });

  it('fails as fatal, without a call, when no region is configured anywhere', async () => {
    const e = make({ region: undefined });
    const err = settledError((await e.embedSettled(['where am I']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain('QUIVER_BEDROCK_REGION');
    expect(fake.requests).toHaveLength(0);
  });

  it('keeps per-text isolation when instrumented for the metrics, and times embedSettled calls', async () => {
    fake.rejectTextContaining('REJECT');
    const e = make();
    const w = instrumentEmbedder(e);
    expect(typeof w.embedSettled).toBe('function');
    const events: EmbedEvent[] = [];
    const listen = (m: unknown) => events.push(m as EmbedEvent);
    diagnosticsChannel.subscribe(EMBED_CHANNEL, listen);
    try {
      const out = await w.embedSettled!(['instrumented good', 'instrumented REJECT']);
      expect(out[0]).toBeInstanceOf(Float32Array);
      expect(settledError(out[1]).kind).toBe('input');
    } finally {
      diagnosticsChannel.unsubscribe(EMBED_CHANNEL, listen);
    }
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ model: e.id, texts: 2 });
    expect(fake.calls('instrumented good')).toHaveLength(1);
  });
});

runEmbedderSuite('bedrock: Titan v2 (256-d) against a fake Bedrock runtime', {
  make: () => Promise.resolve(make({ dimensions: 256 })),
  similar: ['The cat sat on the mat.', 'The cat sat on a rug.'],
  unrelated: 'Stock markets fell after the interest rate decision.',
});

const png = (label: string): ImageData => {
  const bytes = labelledPng(label);
  return { sha256: crypto.createHash('sha256').update(bytes).digest('hex'), mime: 'image/png', bytes };
};

runEmbedderSuite('bedrock: Titan Multimodal Embeddings G1 (384-d) against a fake Bedrock runtime', {
  make: () => Promise.resolve(make({ model: 'amazon.titan-embed-image-v1', dimensions: 384 })),
  similar: ['The cat sat on the mat.', 'The cat sat on a rug.'],
  unrelated: 'Stock markets fell after the interest rate decision.',
  images: { image: png('a cat asleep on a mat'), caption: 'the cat on the mat', other: png('stock market chart falling') },
});
