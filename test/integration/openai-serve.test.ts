// Quiver serving OpenAI's embeddings API (src/api/openai): the real `openai` client (6.x, the last
// major that runs on Node 20; 7 needs Node 22) and LangChain's OpenAIEmbeddings pointed at a real
// Quiver, their vectors checked against the ones Quiver stores for the same text through its own
// /v1/collections path; OpenAI's error shape; Titan ids through a fake Bedrock; the 401/403
// matrix; and random bodies that never get a 5xx.
import fc from 'fast-check';
import OpenAI from 'openai';
import { OpenAIEmbeddings } from '@langchain/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBedrock, fakeTitanVector } from '../helpers/fake-bedrock.js';
import { TestServer } from '../helpers/server.js';

const MODEL = 'quiver-glove-sif-100d';
const TEXTS = ['The cat sat on the mat and purred.', 'Boil the pasta for ten minutes and drain it.', 'Reset your password in three steps.', 'a dog chased the ball'];

let s: TestServer;
/** The vector Quiver's own write path stores for each of TEXTS (chunking "none": one chunk, the whole text). */
const stored = new Map<string, number[]>();

beforeAll(async () => {
  s = await TestServer.start();
  expect((await s.request('POST', '/v1/collections', { name: 'ref', chunking: { strategy: 'none' } })).status).toBe(201);
  const documents = TEXTS.map((text, i) => ({ id: `t${i}`, text }));
  expect((await s.request('PUT', '/v1/collections/ref/documents', { documents })).status).toBe(200);
  for (let i = 0; i < TEXTS.length; i++) {
    const r = await s.request('GET', `/v1/collections/ref/documents/t${i}?include=vector`);
    expect(r.status).toBe(200);
    stored.set(TEXTS[i]!, r.body.document.vector);
  }
});
afterAll(async () => {
  await s?.stop();
});

const client = () => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'any-key-works-when-auth-is-off', maxRetries: 0 });

describe('the openai client', () => {
  it('gets the stored vectors with its default encoding (base64, decoded by the client)', async () => {
    const r = await client().embeddings.create({ model: MODEL, input: TEXTS });
    expect(r.object).toBe('list');
    expect(r.model).toBe(MODEL);
    expect(r.data.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    for (const [i, d] of r.data.entries()) {
      expect(d.object).toBe('embedding');
      expect(d.embedding).toHaveLength(100);
      // Little-endian float32 both ways: bit-for-bit the stored float32 values.
      expect(d.embedding).toEqual(stored.get(TEXTS[i]!));
    }
    // Usage counts tokens as the chunker does: words and punctuation marks, 9 + 10 + 7 + 5.
    expect(r.usage.prompt_tokens).toBe(31);
    expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens);
  });

  it('asks for base64 by default, and the raw answer is little-endian float32', async () => {
    const raw = await s.request('POST', '/v1/embeddings', { model: MODEL, input: TEXTS[0], encoding_format: 'base64' });
    expect(raw.status).toBe(200);
    const b = Buffer.from(raw.body.data[0].embedding as string, 'base64');
    expect(b.length).toBe(400);
    const decoded = Array.from({ length: 100 }, (_, i) => b.readFloatLE(i * 4));
    expect(decoded).toEqual(stored.get(TEXTS[0]!));
  });

  it('gets the same numbers with encoding_format "float"', async () => {
    const r = await client().embeddings.create({ model: MODEL, input: TEXTS[1]!, encoding_format: 'float' });
    expect(r.data).toHaveLength(1);
    expect(r.data[0]!.embedding).toEqual(stored.get(TEXTS[1]!));
    expect(r.usage.prompt_tokens).toBe(10);
  });

  it('accepts dimensions equal to the model size and refuses others with param "dimensions"', async () => {
    const ok = await client().embeddings.create({ model: MODEL, input: 'cat', dimensions: 100 });
    expect(ok.data[0]!.embedding).toHaveLength(100);
    const err = await client()
      .embeddings.create({ model: MODEL, input: 'cat', dimensions: 64 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('dimensions');
    expect((err as Error).message).toContain('makes 100-dimension vectors');
  });

  it('lists and retrieves the models it can embed with', async () => {
    const list = await client().models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toContain(MODEL);
    expect(ids.some((id) => id.startsWith('amazon.'))).toBe(false); // Bedrock is not configured here
    const m = await client().models.retrieve(MODEL);
    expect(m).toMatchObject({ id: MODEL, object: 'model', owned_by: 'quiver' });
    expect(m.created).toBeGreaterThan(0);
    const missing = await client()
      .models.retrieve('no-such-model')
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('names an unknown model with a 404 model_not_found', async () => {
    const err = await client()
      .embeddings.create({ model: 'text-embedding-3-small', input: 'cat' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', type: 'not_found_error' });
  });
});

describe('LangChain OpenAIEmbeddings pointed at Quiver', () => {
  const embeddings = () => new OpenAIEmbeddings({ model: MODEL, apiKey: 'anything', configuration: { baseURL: `${s.url}/v1` }, maxRetries: 0 });

  it('embedQuery and embedDocuments give the stored vectors', async () => {
    // LangChain replaces newlines with spaces by default; TEXTS have none.
    const q = await embeddings().embedQuery(TEXTS[0]!);
    expect(q).toEqual(stored.get(TEXTS[0]!));
    const docs = await embeddings().embedDocuments(TEXTS);
    expect(docs).toEqual(TEXTS.map((t) => stored.get(t)));
  });

  it('splits large batches into several requests and keeps the order', async () => {
    const texts = Array.from({ length: 25 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${i}`);
    const e = new OpenAIEmbeddings({ model: MODEL, apiKey: 'anything', configuration: { baseURL: `${s.url}/v1` }, batchSize: 7, maxRetries: 0 });
    const direct = await client().embeddings.create({ model: MODEL, input: texts });
    expect(await e.embedDocuments(texts)).toEqual(direct.data.map((d) => d.embedding));
  });
});

describe('bad requests: a 400 in OpenAI\'s shape naming the field', () => {
  const cases: [string, unknown, string, string][] = [
    ['an empty string in the list', { model: MODEL, input: ['cat', 'dog', 'mat', ''] }, 'input.3', 'must not be empty'],
    ['a blank string', { model: MODEL, input: '   ' }, 'input', 'must not be blank'],
    ['token ids', { model: MODEL, input: [1820, 4937] }, 'input', 'token arrays'],
    ['lists of token ids', { model: MODEL, input: [[1820, 4937]] }, 'input', 'token arrays'],
    ['no input', { model: MODEL }, 'input', 'expected a string or an array of strings'],
    ['an empty list', { model: MODEL, input: [] }, 'input', 'at least one'],
    ['a number among strings', { model: MODEL, input: ['cat', 7] }, 'input.1', 'expected a string'],
    ['too many inputs', { model: MODEL, input: Array.from({ length: 2049 }, () => 'x') }, 'input', 'at most 2048'],
    ['a lone surrogate', { model: MODEL, input: ['ok', 'bad \ud800'] }, 'input.1', 'surrogate'],
    ['an unknown encoding', { model: MODEL, input: 'cat', encoding_format: 'int8' }, 'encoding_format', ''],
    ['an unknown field', { model: MODEL, input: 'cat', truncate: true }, 'body', 'unknown field'],
    ['no model', { input: 'cat' }, 'model', ''],
  ];
  for (const [what, body, param, message] of cases) {
    it(`refuses ${what}`, async () => {
      const r = await s.request('POST', '/v1/embeddings', body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param, code: 'validation_failed' });
      expect(r.body.error.message).toContain(message);
    });
  }

  it('refuses a body that is not JSON (415) and broken JSON (400), in the same shape', async () => {
    const a = await s.request('POST', '/v1/embeddings', 'model=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(a.status).toBe(415);
    expect(a.body.error.type).toBe('invalid_request_error');
    const b = await s.request('POST', '/v1/embeddings', '{"model":', { 'content-type': 'application/json' });
    expect(b.status).toBe(400);
    expect(b.body.error.code).toBe('invalid_json');
  });

  it('answers a text with no word the model knows with the zero vector', async () => {
    const r = await s.request('POST', '/v1/embeddings', { model: MODEL, input: ['zxqvbnmw qqqxj', 'cat'], encoding_format: 'float' });
    expect(r.status).toBe(200);
    expect((r.body.data[0].embedding as number[]).every((x) => x === 0)).toBe(true);
    expect((r.body.data[1].embedding as number[]).some((x) => x !== 0)).toBe(true);
    // Each CJK character is a token to the chunker (the built-in GloVe model knows none of them).
    const cjk = await s.request('POST', '/v1/embeddings', { model: MODEL, input: '如何重置密码' });
    expect(cjk.body.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
  });
});

describe('random bodies', () => {
  it('never get a 5xx, and every 200 has one embedding per input', async () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', 'cat', '\u0000', '\ud800', '猫'));
    const input = fc.oneof(text, fc.array(text, { maxLength: 5 }), fc.array(fc.integer()), fc.array(fc.array(fc.integer()), { maxLength: 2 }), fc.anything());
    const body = fc.record(
      {
        model: fc.oneof(fc.constant(MODEL), fc.constant('use-lite-nope'), fc.string(), fc.anything()),
        input,
        encoding_format: fc.oneof(fc.constantFrom('float', 'base64'), fc.anything()),
        dimensions: fc.oneof(fc.constant(100), fc.integer(), fc.double(), fc.anything()),
        user: fc.anything(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(body, fc.anything()), async (b) => {
        const r = await s.request('POST', '/v1/embeddings', JSON.stringify(b) ?? 'null', { 'content-type': 'application/json' });
        expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
        expect(typeof r.body.error === 'object' || r.status === 200).toBe(true);
        if (r.status === 200) {
          const given = (b as { input: unknown }).input;
          expect(r.body.data).toHaveLength(Array.isArray(given) ? given.length : 1);
        } else {
          expect(Object.keys(r.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
        }
      }),
      { numRuns: 300 },
    );
    const paths = fc.oneof(fc.string(), fc.webSegment(), fc.constantFrom('%ZZ', '%ED%A0%80', 'a/b', '..', MODEL));
    await fc.assert(
      fc.asyncProperty(paths, async (p) => {
        const r = await fetch(`${s.url}/v1/models/${p}`);
        expect(r.status).toBeLessThan(500);
        await r.arrayBuffer();
      }),
      { numRuns: 100 },
    );
  });
});

describe('with Bedrock configured and API keys on', () => {
  const KEYS = {
    read: 'openai-read-key-0123456789',
    write: 'openai-write-key-0123456789',
    admin: 'openai-admin-key-0123456789',
    scoped: 'openai-scoped-key-0123456789',
  };
  const SECRET = 'quiver-openai-secret';
  let fake: FakeBedrock;
  let b: TestServer;
  beforeAll(async () => {
    fake = await FakeBedrock.start({ secretAccessKey: SECRET });
    b = await TestServer.start({
      process: true,
      env: {
        QUIVER_BEDROCK_ENDPOINT: fake.url,
        QUIVER_BEDROCK_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDQUIVEROPENAI',
        AWS_SECRET_ACCESS_KEY: SECRET,
        AWS_CONFIG_FILE: '/nonexistent/quiver-test/aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/quiver-test/aws-credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        QUIVER_API_KEYS: `${KEYS.read}:read,${KEYS.write}:write,${KEYS.admin}:admin,${KEYS.scoped}:read:one`,
      },
    });
  });
  afterAll(async () => {
    await b?.stop();
    await fake?.close();
  });
  const keyed = (key: string) => new OpenAI({ baseURL: `${b.url}/v1`, apiKey: key, maxRetries: 0 });

  it('serves Titan v2 at the asked size, and lists the Titan ids', async () => {
    const c = keyed(KEYS.read);
    const r = await c.embeddings.create({ model: 'amazon.titan-embed-text-v2:0', input: ['red apples', 'green pears'], dimensions: 256 });
    expect(r.data).toHaveLength(2);
    const want = fakeTitanVector('red apples', 256, true);
    r.data[0]!.embedding.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6));
    expect(fake.calls('red apples')[0]!.body).toMatchObject({ dimensions: 256, normalize: true });
    const v1 = await c.embeddings.create({ model: 'amazon.titan-embed-text-v1', input: 'red apples' });
    expect(v1.data[0]!.embedding).toHaveLength(1536);
    const bad = await c.embeddings.create({ model: 'amazon.titan-embed-text-v2:0', input: 'x', dimensions: 300 }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, param: 'dimensions' });
    const ids = (await c.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([MODEL, 'amazon.titan-embed-text-v2:0', 'amazon.titan-embed-text-v1']));
  });

  it('passes a Titan refusal on as a 502 server_error naming the reason', async () => {
    fake.rejectTextContaining('forbidden words', 'Input is too spicy');
    try {
      const r = await b.request('POST', '/v1/embeddings', { model: 'amazon.titan-embed-text-v2:0', input: ['fine', 'forbidden words'] }, { authorization: `Bearer ${KEYS.read}` });
      expect(r.status).toBe(502);
      expect(r.body.error).toMatchObject({ type: 'server_error', code: 'embedding_failed' });
      expect(r.body.error.message).toContain('too spicy');
    } finally {
      fake.reset();
    }
  });

  // Computing embeddings reads and writes no collection: every role may, and a key scoped to
  // collections may too (nothing of another collection is reachable through these routes).
  const routes: [string, string, unknown][] = [
    ['POST', '/v1/embeddings', { model: MODEL, input: 'cat' }],
    ['GET', '/v1/models', undefined],
    ['GET', `/v1/models/${MODEL}`, undefined],
  ];
  const who: [string, Record<string, string>, number][] = [
    ['no key', {}, 401],
    ['a wrong key', { authorization: 'Bearer openai-wrong-key-0123456789' }, 401],
    ['a malformed header', { authorization: 'Basic abc' }, 401],
    ['read', { authorization: `Bearer ${KEYS.read}` }, 200],
    ['write', { authorization: `Bearer ${KEYS.write}` }, 200],
    ['admin', { 'x-api-key': KEYS.admin }, 200],
    ['a key scoped to collection "one"', { authorization: `Bearer ${KEYS.scoped}` }, 200],
  ];
  for (const [method, path, body] of routes) {
    for (const [name, headers, status] of who) {
      it(`${method} ${path} with ${name}: ${status}`, async () => {
        const r = await b.request(method, path, body, headers);
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        if (status === 401) {
          expect(r.body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key', param: null });
          expect(JSON.stringify(r.body)).not.toContain('openai-wrong-key');
        }
      });
    }
  }

  it('the openai client with a wrong key gets an AuthenticationError', async () => {
    const err = await keyed('openai-wrong-key-0123456789')
      .embeddings.create({ model: MODEL, input: 'cat' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
