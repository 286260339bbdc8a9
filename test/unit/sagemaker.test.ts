// The SageMaker endpoint embedder with the real AWS SDK client, against a loopback fake of the
// SageMaker runtime (test/helpers/fake-sagemaker.ts) that checks SigV4 and each container's
// request body, and answers errors the way SageMaker does.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { EmbedError, SageMakerEmbedder, meanPool, parseResponsePath, sagemakerFormat } from '../../src/embedding/index.js';
import type { SageMakerOptions } from '../../src/embedding/index.js';
import { FakeSageMaker, fakeSageMakerVector, fakeTokenVectors } from '../helpers/fake-sagemaker.js';
import type { FailureRule } from '../helpers/fake-sagemaker.js';
import { runEmbedderSuite } from './embedder.case.js';

const ACCESS_KEY = 'AKIDQUIVERSAGEMAKER1';
const SECRET = 'quiver-sagemaker-test-secret';
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

const DIMS = 64;
const VOCAB: Record<string, number> = Object.fromEntries(
  'the cat sat on mat a kitten sleeps rug stock markets fell after interest rate decision dog runs park model error poison'.split(' ').map((w, i) => [w, i + 4]),
);

const fake = await FakeSageMaker.start({ secretAccessKey: SECRET, accessKeyId: ACCESS_KEY, region: 'eu-west-1' });
fake
  .endpoint('tei-endpoint', { format: 'tei', dimensions: DIMS })
  .endpoint('hf-endpoint', { format: 'huggingface', dimensions: DIMS })
  .endpoint('jumpstart-endpoint', { format: 'jumpstart', dimensions: DIMS })
  .endpoint('o2v-endpoint', { format: 'object2vec', dimensions: DIMS, vocabulary: VOCAB })
  // Other containers: {"request": {"sentences": [...]}} → {"result": {"vectors": [{"values": [...]}]}},
  // and {"input": {"text": "..."}} → {"outputs": [[...]]}.
  .endpoint('custom-batch', {
    dimensions: DIMS,
    format: (body) => {
      const inputs = (body as { request: { sentences: string[] } }).request.sentences;
      return { answer: { result: { vectors: inputs.map((t) => ({ values: fakeSageMakerVector(t, DIMS) })) } }, inputs };
    },
  })
  .endpoint('custom-single', {
    dimensions: DIMS,
    format: (body) => {
      const input = (body as { input: { text: string; kind: string } }).input.text;
      return { answer: { outputs: [fakeSageMakerVector(input, DIMS)] }, inputs: [input] };
    },
  });

const made: SageMakerEmbedder[] = [];
afterAll(async () => {
  await Promise.all(made.map((e) => e.close()));
  await fake.close();
});
afterEach(() => {
  fake.resume();
  fake.reset();
});

type Make = Partial<Omit<SageMakerOptions, 'format'>> & { format?: Parameters<typeof sagemakerFormat>[0] };

async function make(opts: Make = {}): Promise<SageMakerEmbedder> {
  const { format = { preset: 'tei' }, ...rest } = opts;
  const e = await SageMakerEmbedder.create({
    endpoint: 'tei-endpoint',
    region: 'eu-west-1',
    serviceUrl: fake.url,
    dimensions: DIMS,
    batchSize: 32,
    concurrency: 4,
    retry: { retries: 4, baseMs: 1 },
    format: sagemakerFormat(format),
    ...rest,
  });
  made.push(e);
  return e;
}

const f32 = (v: number[]) => Array.from(Float32Array.from(v));

function settledError(v: Float32Array | null | EmbedError | undefined): EmbedError {
  expect(v).toBeInstanceOf(EmbedError);
  return v as EmbedError;
}

describe('the presets speak their containers\' formats', () => {
  it('tei: {"inputs": [...], "truncate": true} → [[...], ...]', async () => {
    const e = await make();
    const texts = ['The cat sat on the mat.', 'Stock markets fell.'];
    const out = await e.embed(texts);
    expect(fake.requests).toHaveLength(1);
    const r = fake.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/endpoints/tei-endpoint/invocations');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.accept).toBe('application/json');
    expect(r.body).toEqual({ inputs: texts, truncate: true });
    expect(out.map((v) => Array.from(v!))).toEqual(texts.map((t) => f32(fakeSageMakerVector(t, DIMS))));
  });

  it('huggingface: token vectors per text, mean-pooled into one vector', async () => {
    const e = await make({ endpoint: 'hf-endpoint', format: { preset: 'huggingface' } });
    const texts = ['A kitten sleeps on a rug.', 'dog'];
    const out = await e.embed(texts);
    expect(fake.requests[0]!.body).toEqual({ inputs: texts, parameters: { truncation: true } });
    texts.forEach((t, i) => {
      const tokens = fakeTokenVectors(t, DIMS);
      const mean = tokens[0]!.map((_, d) => tokens.reduce((s, row) => s + row[d]!, 0) / tokens.length);
      expect(Array.from(out[i]!)).toEqual(f32(mean));
    });
  });

  it('jumpstart: {"text_inputs": [...]} → {"embedding": [[...], ...]}', async () => {
    const e = await make({ endpoint: 'jumpstart-endpoint', format: { preset: 'jumpstart' } });
    const texts = ['interest rate decision', 'the dog runs in the park'];
    const out = await e.embed(texts);
    expect(fake.requests[0]!.body).toEqual({ text_inputs: texts });
    expect(out.map((v) => Array.from(v!))).toEqual(texts.map((t) => f32(fakeSageMakerVector(t, DIMS))));
  });

  it('object2vec: {"instances": [{"in0": token ids}]} → {"predictions": [{"embeddings": [...]}]}; a text with no known word is null without a call', async () => {
    const e = await make({ endpoint: 'o2v-endpoint', format: { preset: 'object2vec', vocabulary: new Map(Object.entries(VOCAB)) } });
    const out = await e.embed(['The cat sat on the MAT!', 'qwzxv bnmkj', 'stock markets']);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body).toEqual({ instances: [{ in0: [4, 5, 6, 7, 4, 8] }, { in0: [13, 14] }] });
    expect(out[1]).toBeNull();
    expect(Array.from(out[0]!)).toEqual(f32(fakeSageMakerVector('the cat sat on the mat', DIMS)));
    expect(Array.from(out[2]!)).toEqual(f32(fakeSageMakerVector('stock markets', DIMS)));
  });

  it('a request template with "{{texts}}" and a response path with [*]', async () => {
    const e = await make({ endpoint: 'custom-batch', format: { requestTemplate: { request: { sentences: '{{texts}}', lang: 'en' } }, responsePath: '$.result.vectors[*].values' } });
    const out = await e.embed(['one text', 'two texts']);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body).toEqual({ request: { sentences: ['one text', 'two texts'], lang: 'en' } });
    expect(Array.from(out[1]!)).toEqual(f32(fakeSageMakerVector('two texts', DIMS)));
  });

  it('a request template with "{{text}}" sends one text a request', async () => {
    const e = await make({ endpoint: 'custom-single', format: { requestTemplate: { input: { text: '{{text}}', kind: 'passage' } }, responsePath: '$.outputs' } });
    expect(e.maxBatch).toBe(1);
    const out = await e.embedSettled(['first alone', 'second alone', '']);
    expect(fake.requests.map((r) => r.body)).toEqual(expect.arrayContaining([{ input: { text: 'first alone', kind: 'passage' } }, { input: { text: 'second alone', kind: 'passage' } }]));
    expect(fake.requests).toHaveLength(2);
    expect(Array.from(out[0] as Float32Array)).toEqual(f32(fakeSageMakerVector('first alone', DIMS)));
    expect(out[2]).toBeNull();
  });

  it('sends batches of at most batch_size texts, issued together', async () => {
    const e = await make({ batchSize: 5 });
    const texts = Array.from({ length: 12 }, (_, i) => `batched text ${i}`);
    const out = await e.embed(texts);
    expect(out.every((v) => v instanceof Float32Array)).toBe(true);
    expect(fake.requests.map((r) => r.inputs.length).sort()).toEqual([2, 5, 5]);
  });
});

describe('SigV4', () => {
  it('signs for service sagemaker in the endpoint\'s region, with x-amz-date and host signed; the signature checks out', async () => {
    const e = await make();
    await e.embed(['signed text']);
    const r = fake.requests[0]!;
    expect(r.status).toBe(200); // the fake recomputed the signature with the secret key
    expect(r.signing).toMatchObject({ accessKeyId: ACCESS_KEY, region: 'eu-west-1', service: 'sagemaker' });
    expect(r.signing!.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
    expect(r.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDQUIVERSAGEMAKER1\/\d{8}\/eu-west-1\/sagemaker\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
  });

  it('is refused as fatal when signed for another region', async () => {
    const e = await make({ region: 'us-west-2' });
    const err = settledError((await e.embedSettled(['wrong region']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain('InvalidSignatureException');
    expect(err.reason).toContain('scoped to a valid region');
    expect(fake.requests).toHaveLength(1);
  });

  it('is refused as fatal when the secret key is wrong', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const e = await make();
      const err = settledError((await e.embedSettled(['wrong key']))[0]);
      expect(err.kind).toBe('fatal');
      expect(err.reason).toMatch(/^SageMaker refused access \(InvalidSignatureException: The request signature we calculated does not match/);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = SECRET;
    }
  });

  it('fails fatally, naming the settings, when no region is known', async () => {
    const e = await make({ region: undefined });
    const err = settledError((await e.embedSettled(['no region']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain('QUIVER_SAGEMAKER_REGION');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('errors', () => {
  it('a ModelError fails only the text the model refused: the batch is sent again text by text', async () => {
    fake.modelErrorFor('POISON');
    const e = await make();
    const texts = ['good one', 'a POISON text', 'good two'];
    const out = await e.embedSettled(texts);
    expect(out[0]).toBeInstanceOf(Float32Array);
    expect(out[2]).toBeInstanceOf(Float32Array);
    const err = settledError(out[1]);
    expect(err.kind).toBe('input');
    expect(err.reason).toBe('ModelError: endpoint "tei-endpoint"\'s model answered 400: the model could not embed this input');
    // The whole batch once (refused), then each text alone.
    expect(fake.requests.map((r) => r.inputs.length)).toEqual([3, 1, 1, 1]);
    expect(fake.calls('good one').filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('a container\'s own refusal (TEI over its batch limit) is a ModelError too, and splitting gets past it', async () => {
    fake.endpoint('small-tei', { format: 'tei', dimensions: DIMS, maxBatch: 2 });
    const e = await make({ endpoint: 'small-tei', batchSize: 3 });
    const out = await e.embedSettled(['x one', 'x two', 'x three']);
    expect(out.every((v) => v instanceof Float32Array)).toBe(true);
    expect(fake.requests[0]).toMatchObject({ status: 424, error: 'ModelError' });
  });

  it.each<[string, FailureRule, number]>([
    ['ThrottlingException (400)', { error: 'ThrottlingException', status: 400 }, 400],
    ['ThrottlingException (429)', { error: 'ThrottlingException', status: 429 }, 429],
    ['ModelNotReadyException', { error: 'ModelNotReadyException' }, 429],
    ['ServiceUnavailable', { error: 'ServiceUnavailable' }, 503],
    ['InternalFailure', { error: 'InternalFailure' }, 500],
    ['a model overloaded (ModelError from a 429)', { error: 'ModelError', originalStatus: 429 }, 424],
  ])('retries %s and then succeeds', async (_, rule, status) => {
    fake.fail({ ...rule, times: 2 });
    const e = await make();
    const [v] = await e.embed(['retried text']);
    expect(v).toBeInstanceOf(Float32Array);
    expect(fake.requests.map((r) => r.status)).toEqual([status, status, 200]);
  });

  it('gives up on a transient error after its retries, as transient', async () => {
    fake.fail({ error: 'ServiceUnavailable' });
    const e = await make({ retry: { retries: 2, baseMs: 1 } });
    const err = settledError((await e.embedSettled(['never served']))[0]);
    expect(err.kind).toBe('transient');
    expect(fake.requests).toHaveLength(3);
  });

  it('an endpoint that does not exist is fatal, naming the fields to check', async () => {
    const e = await make({ endpoint: 'no-such-endpoint' });
    const err = settledError((await e.embedSettled(['anything']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain('ValidationError: Endpoint no-such-endpoint of account 123456789012 not found.');
    expect(err.reason).toContain('embedder.endpoint');
  });

  it('access denied is fatal', async () => {
    fake.fail({ error: 'AccessDeniedException' });
    const e = await make();
    const err = settledError((await e.embedSettled(['denied']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain('sagemaker:InvokeEndpoint');
  });

  it('vectors of another size than the collection\'s are fatal, saying so', async () => {
    const e = await make({ dimensions: 32 });
    const err = settledError((await e.embedSettled(['wrong size']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain('answered with 64-dimension vectors, but the collection expects 32');
  });

  it('a body the container does not take (the wrong preset) fails the text with the container\'s own words', async () => {
    const e = await make({ endpoint: 'jumpstart-endpoint', format: { preset: 'tei' } });
    const err = settledError((await e.embedSettled(['wrong preset']))[0]);
    expect(err.kind).toBe('input');
    expect(err.reason).toContain('model answered 422: unknown field `inputs`');
  });

  it('an answer in another shape than the format\'s is fatal, naming what is missing', async () => {
    const e = await make({ endpoint: 'tei-endpoint', format: { requestTemplate: { inputs: '{{texts}}' }, responsePath: '$.embedding' } });
    const err = settledError((await e.embedSettled(['shape']))[0]);
    expect(err.kind).toBe('fatal');
    expect(err.reason).toContain('$.embedding is not there');
    expect(err.reason).toContain('check embedder.preset (or request_template and response_path)');
  });

  it('a request with no answer in time is retried as transient, then given up', async () => {
    fake.pause();
    // Long enough for each request to reach the fake on a busy machine; the answer never comes.
    const e = await make({ timeoutMs: 2000, retry: { retries: 1, baseMs: 1 } });
    const err = settledError((await e.embedSettled(['never answered']))[0]);
    expect(err.kind).toBe('transient');
    expect(err.reason).toMatch(/timeout/i);
    expect(fake.requests).toHaveLength(2);
  });

  it('never has more requests in flight than its concurrency', async () => {
    const e = await make({ concurrency: 3, batchSize: 1 });
    const texts = Array.from({ length: 12 }, (_, i) => `concurrent text ${i}`);
    fake.pause();
    const done = e.embed(texts);
    await fake.waitForInFlight(3);
    // Room for a 4th request to arrive if the limit did not hold; the check does not depend on it.
    await new Promise((r) => setTimeout(r, 50));
    const held = fake.inFlight;
    fake.resume();
    expect((await done).every((v) => v instanceof Float32Array)).toBe(true);
    expect(held).toBe(3);
    expect(fake.maxInFlight).toBe(3);
  });
});

describe('formats in isolation', () => {
  it('mean pooling unwraps a list of one and averages token rows; a vector passes as it is', () => {
    expect(meanPool([[[1, 2], [3, 4]]])).toEqual([2, 3]);
    expect(meanPool([[1, 2], [3, 6]])).toEqual([2, 4]);
    expect(meanPool([5, 6])).toEqual([5, 6]);
    expect(meanPool([[1, 2], [3]])).toBeUndefined();
    expect(meanPool('x')).toBeUndefined();
  });

  it('response paths: $, .name, ["name"], [0] and one [*]', () => {
    expect(parseResponsePath('$')).toEqual([]);
    expect(parseResponsePath('$.data[*].embedding')).toEqual([{ key: 'data' }, { each: true }, { key: 'embedding' }]);
    expect(parseResponsePath('$["a b"][0]')).toEqual([{ key: 'a b' }, { index: 0 }]);
    expect(parseResponsePath('data.embedding')).toContain('starts with $');
    expect(parseResponsePath('$.a[*].b[*]')).toContain('at most one [*]');
    expect(parseResponsePath('$.a..b')).toContain('from character 4');
  });
});

describe('configuration', () => {
  it('reads QUIVER_SAGEMAKER_REGION, QUIVER_SAGEMAKER_ENDPOINT and QUIVER_SAGEMAKER_CONCURRENCY, defaults 8 in flight', () => {
    expect(loadConfig({}).sagemaker).toEqual({ region: undefined, endpoint: undefined, concurrency: 8 });
    const c = loadConfig({ QUIVER_SAGEMAKER_REGION: 'eu-west-1', QUIVER_SAGEMAKER_ENDPOINT: 'https://runtime.sagemaker.eu-west-1.amazonaws.com', QUIVER_SAGEMAKER_CONCURRENCY: '3' });
    expect(c.sagemaker).toEqual({ region: 'eu-west-1', endpoint: 'https://runtime.sagemaker.eu-west-1.amazonaws.com', concurrency: 3 });
  });

  it.each([
    ['QUIVER_SAGEMAKER_REGION', 'Ireland', 'expected an AWS region'],
    ['QUIVER_SAGEMAKER_ENDPOINT', 'not a url', 'expected a URL'],
    ['QUIVER_SAGEMAKER_CONCURRENCY', '0', 'must be at least 1'],
  ])('refuses %s=%s naming it', (variable, value, problem) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: ${problem}`));
  });
});

const similar: [string, string] = ['The cat sat on the mat.', 'The cat sat on a rug.'];
const unrelated = 'Stock markets fell after the interest rate decision.';

runEmbedderSuite('sagemaker: TEI preset against a fake SageMaker runtime', { make: () => make(), similar, unrelated });
runEmbedderSuite('sagemaker: Hugging Face DLC preset (mean pooling)', { make: () => make({ endpoint: 'hf-endpoint', format: { preset: 'huggingface' } }), similar, unrelated });
runEmbedderSuite('sagemaker: JumpStart preset', { make: () => make({ endpoint: 'jumpstart-endpoint', format: { preset: 'jumpstart' } }), similar, unrelated });
runEmbedderSuite('sagemaker: Object2Vec preset', {
  make: () => make({ endpoint: 'o2v-endpoint', format: { preset: 'object2vec', vocabulary: new Map(Object.entries(VOCAB)) } }),
  similar,
  unrelated,
  unknown: 'qwzxv bnmkj',
});
runEmbedderSuite('sagemaker: request template, one text a request', {
  make: () => make({ endpoint: 'custom-single', format: { requestTemplate: { input: { text: '{{text}}', kind: 'passage' } }, responsePath: '$.outputs' } }),
  similar,
  unrelated,
});
