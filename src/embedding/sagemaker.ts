// The "sagemaker" provider: a model the user hosts on an Amazon SageMaker real-time endpoint,
// called through the SageMaker runtime's InvokeEndpoint. SageMaker passes the body to the
// container as it is, so the format is the container's: presets for the common embedding
// containers, or a request template and a response path for anything else. Texts go in
// batches, at most `concurrency` requests in flight per endpoint; throttling, 5xx and an
// overloaded model are retried; a batch the model refuses is sent again text by text, so only
// the culprit fails (src/embedding/embedder.ts, settleInBatches).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Embedder, RetryOptions } from './embedder.js';
import { EmbedError, settleInBatches, vectorsOrFirstFailure, withRetry } from './embedder.js';
import { awsHttpOptions } from '../util/aws-http.js';
import { Semaphore } from '../util/semaphore.js';

export const SAGEMAKER_PRESETS = ['tei', 'huggingface', 'jumpstart', 'object2vec'] as const;
export type SageMakerPreset = (typeof SAGEMAKER_PRESETS)[number];

/** Texts per request by default: TEI's own default --max-client-batch-size is 32. */
export const SAGEMAKER_DEFAULT_BATCH = 32;
/** A template value that is exactly one of these stands for the batch's texts, or for one text (one request per text). */
export const TEXTS_PLACEHOLDER = '{{texts}}';
export const TEXT_PLACEHOLDER = '{{text}}';
/** SageMaker ends an invocation after 60 s: a socket silent for longer than this is dead, and the request is retried. */
const REQUEST_TIMEOUT_MS = 90_000;

// ---------------------------------------------------------------------------------------------
// Response paths: a small JSONPath subset, `$` then `.name`, `["name"]`, `[0]` or `[*]` steps.

type Step = { key: string } | { index: number } | { each: true };

/** The steps of a response path, or why it is not one. */
export function parseResponsePath(p: string): Step[] | string {
  if (!p.startsWith('$')) return 'expected a path that starts with $, such as $.embeddings or $.data[*].embedding';
  const steps: Step[] = [];
  const step = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d{1,6})\]|\[\*\]|\["((?:[^"\\]|\\.)*)"\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < p.length) {
    const at = step.lastIndex;
    const m = step.exec(p);
    if (!m) return `cannot read the path from character ${at + 1} ("${p.slice(at, at + 12)}"); steps are .name, ["name"], [0] and [*]`;
    if (m[1] !== undefined) steps.push({ key: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) steps.push({ key: JSON.parse(`"${m[3]}"`) as string });
    else steps.push({ each: true });
  }
  if (steps.filter((s) => 'each' in s).length > 1) return 'at most one [*] (the list of the texts\' answers)';
  return steps;
}

function follow(value: unknown, steps: Step[], where = '$'): unknown {
  if (steps.length === 0) return value;
  const [s, ...rest] = steps as [Step, ...Step[]];
  if ('each' in s) {
    if (!Array.isArray(value)) throw new Error(`${where} is not a list`);
    return value.map((v, i) => follow(v, rest, `${where}[${i}]`));
  }
  if ('index' in s) {
    if (!Array.isArray(value) || s.index >= value.length) throw new Error(`${where}[${s.index}] is not there`);
    return follow(value[s.index], rest, `${where}[${s.index}]`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, s.key)) throw new Error(`${where}.${s.key} is not there`);
  return follow((value as Record<string, unknown>)[s.key], rest, `${where}.${s.key}`);
}

// ---------------------------------------------------------------------------------------------
// Request templates: any JSON with exactly one value that is "{{texts}}" or "{{text}}".

/** Every placeholder value in a template, in order. */
function placeholders(t: unknown, found: string[] = []): string[] {
  if (t === TEXTS_PLACEHOLDER || t === TEXT_PLACEHOLDER) found.push(t);
  else if (Array.isArray(t)) for (const v of t) placeholders(v, found);
  else if (typeof t === 'object' && t !== null) for (const v of Object.values(t)) placeholders(v, found);
  return found;
}

/** The template's placeholder, or why it is not a template. */
export function templatePlaceholder(t: unknown): typeof TEXTS_PLACEHOLDER | typeof TEXT_PLACEHOLDER | { problem: string } {
  const found = placeholders(t);
  if (found.length !== 1) {
    return { problem: `expected exactly one value that is "${TEXTS_PLACEHOLDER}" (the batch's texts, a list) or "${TEXT_PLACEHOLDER}" (one text a request), found ${found.length}` };
  }
  return found[0] as typeof TEXTS_PLACEHOLDER | typeof TEXT_PLACEHOLDER;
}

function fill(t: unknown, value: unknown): unknown {
  if (t === TEXTS_PLACEHOLDER || t === TEXT_PLACEHOLDER) return value;
  if (Array.isArray(t)) return t.map((v) => fill(v, value));
  if (typeof t === 'object' && t !== null) return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, fill(v, value)]));
  return t;
}

// ---------------------------------------------------------------------------------------------
// Formats: what a container takes and answers.

export interface SageMakerFormat {
  /** Names the format in the embedder id (the embedding-cache key) and in messages. */
  readonly name: string;
  /** Largest batch the format can carry (1 for a template of one text). */
  readonly maxBatch: number;
  /** Texts the format cannot send get null without a call (default: blank ones). */
  readonly skip?: (text: string) => boolean;
  body(texts: string[]): unknown;
  /** One answer per text, each a vector (or for huggingface token vectors); throws Error saying what is missing. */
  answers(body: unknown, count: number): unknown[];
  /** A text's answer to its vector (undefined when it is none). */
  vector(answer: unknown): number[] | undefined;
}

const isVector = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
const asVector = (v: unknown): number[] | undefined => (isVector(v) ? v : undefined);

function listOf(v: unknown, count: number, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not a list`);
  if (v.length !== count) throw new Error(`${what} holds ${v.length} answers for ${count} texts`);
  return v;
}

/**
 * The Hugging Face inference toolkit's feature-extraction pipeline answers each text with its
 * token vectors (tokens × hidden, sometimes inside a list of one): the text's vector is their
 * mean, which is sentence-transformers' mean pooling for an unpadded text. A model that answers
 * one vector per text (its own inference script pooled) is taken as it is.
 */
export function meanPool(answer: unknown): number[] | undefined {
  let a = answer;
  while (Array.isArray(a) && a.length === 1 && Array.isArray(a[0]) && Array.isArray(a[0][0])) a = a[0];
  if (isVector(a)) return a;
  if (!Array.isArray(a) || a.length === 0 || !a.every(isVector)) return undefined;
  const rows = a;
  const width = rows[0]!.length;
  if (rows.some((r) => r.length !== width)) return undefined;
  const sum = new Array<number>(width).fill(0);
  for (const r of rows) for (let i = 0; i < width; i++) sum[i]! += r[i]!;
  return sum.map((x) => x / rows.length);
}

const TEI: SageMakerFormat = {
  name: 'tei',
  maxBatch: Infinity,
  // truncate: a text over the model's token limit is embedded from its start (as local models
  // do) instead of being refused with 413.
  body: (texts) => ({ inputs: texts, truncate: true }),
  answers: (body, count) => listOf(body, count, 'the answer'),
  vector: asVector,
};

const HUGGINGFACE: SageMakerFormat = {
  name: 'huggingface',
  maxBatch: Infinity,
  // The toolkit passes `parameters` to the pipeline: truncation keeps a long text to the model's limit, as TEI's truncate.
  body: (texts) => ({ inputs: texts, parameters: { truncation: true } }),
  answers: (body, count) => listOf(body, count, 'the answer'),
  vector: meanPool,
};

const JUMPSTART: SageMakerFormat = {
  name: 'jumpstart',
  maxBatch: Infinity,
  body: (texts) => ({ text_inputs: texts }),
  answers: (body, count) => {
    const e = (body as { embedding?: unknown } | null)?.embedding;
    // One text may come back as the bare vector rather than a list of one.
    if (count === 1 && isVector(e)) return [e];
    return listOf(e, count, '"embedding"');
  },
  vector: asVector,
};

/** Words as Object2Vec's vocabulary is usually built: letters and digits, tried as written, then lower-cased. */
export function object2vecTokens(text: string, vocabulary: ReadonlyMap<string, number>): number[] {
  const ids: number[] = [];
  for (const w of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    const id = vocabulary.get(w) ?? vocabulary.get(w.toLowerCase());
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** Object2Vec takes token ids, not text: the words the vocabulary knows; a text with none has no vector. */
function object2vec(vocabulary: ReadonlyMap<string, number>): SageMakerFormat {
  return {
    name: 'object2vec',
    maxBatch: Infinity,
    skip: (t) => object2vecTokens(t, vocabulary).length === 0,
    body: (texts) => ({ instances: texts.map((t) => ({ in0: object2vecTokens(t, vocabulary) })) }),
    answers: (body, count) => listOf((body as { predictions?: unknown } | null)?.predictions, count, '"predictions"'),
    vector: (a) => asVector((a as { embeddings?: unknown } | null)?.embeddings),
  };
}

function templated(template: unknown, responsePath: string): SageMakerFormat {
  const steps = parseResponsePath(responsePath);
  const one = templatePlaceholder(template);
  // The provider's schema checked both when the collection was made.
  if (typeof steps === 'string' || typeof one !== 'string') throw new Error('invalid request_template or response_path');
  const single = one === TEXT_PLACEHOLDER;
  return {
    name: `template:${crypto.createHash('sha256').update(JSON.stringify([template, responsePath])).digest('hex').slice(0, 12)}`,
    maxBatch: single ? 1 : Infinity,
    body: (texts) => fill(template, single ? texts[0] : texts),
    answers: (body, count) => {
      const at = follow(body, steps);
      // One text a request: the path names its vector (or a list holding only it).
      if (single) return [isVector(at) ? at : listOf(at, 1, `${responsePath}`)[0]];
      return listOf(at, count, responsePath);
    },
    vector: asVector,
  };
}

/** Reads an Object2Vec vocabulary: a JSON object of word → token id. Throws Error saying what is wrong. */
export function readVocabulary(file: string): { words: Map<string, number>; sha256: string } {
  const raw = fs.readFileSync(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new Error(`${path.basename(file)} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${path.basename(file)} is not a JSON object of word to token id`);
  const words = new Map<string, number>();
  for (const [w, id] of Object.entries(parsed)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new Error(`${path.basename(file)}: the id of ${JSON.stringify(w)} is not a whole number ≥ 0`);
    words.set(w, id as number);
  }
  if (words.size === 0) throw new Error(`${path.basename(file)} holds no words`);
  return { words, sha256: crypto.createHash('sha256').update(raw).digest('hex') };
}

export type FormatSpec =
  | { preset: Exclude<SageMakerPreset, 'object2vec'> }
  | { preset: 'object2vec'; vocabulary: ReadonlyMap<string, number> }
  | { requestTemplate: unknown; responsePath: string };

export function sagemakerFormat(f: FormatSpec): SageMakerFormat {
  if ('requestTemplate' in f) return templated(f.requestTemplate, f.responsePath);
  if (f.preset === 'object2vec') return object2vec(f.vocabulary);
  return { tei: TEI, huggingface: HUGGINGFACE, jumpstart: JUMPSTART }[f.preset];
}

// ---------------------------------------------------------------------------------------------
// Errors

const TRANSIENT = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'ModelNotReadyException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalDependencyException',
  'RequestTimeout',
  'TimeoutError',
]);
const FATAL = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignature',
  'CredentialsProviderError',
  'ExpiredTokenException',
]);

/** Maps an SDK (or network) error from InvokeEndpoint to what the pipeline should do about it. */
export function classifySageMakerError(err: unknown, endpoint: string): EmbedError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; OriginalStatusCode?: number; OriginalMessage?: string };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const message = `${name}: ${e.message ?? String(err)}`;
  if (e.message === 'Region is missing') return new EmbedError(`${message}; give embedder.region, or set QUIVER_SAGEMAKER_REGION or AWS_REGION`, 'fatal');
  if (name === 'ModelError') {
    // The container answered with an error, passed on by SageMaker as 424 with its status and words.
    const original = e.OriginalStatusCode;
    const said = `ModelError: endpoint "${endpoint}"'s model answered ${original ?? 'an error'}: ${(e.OriginalMessage ?? e.message ?? '').replace(/\s+/g, ' ').trim().slice(0, 300)}`;
    // An overloaded model server (TEI's queue is full: 429; a worker restarting: 503) comes back.
    if (original === 429 || original === 503) return new EmbedError(said, 'transient');
    // Anything else the model said is about what it was sent: split the batch, fail only the culprit.
    return new EmbedError(said, 'input');
  }
  if (FATAL.has(name) || status === 401 || status === 403) return new EmbedError(`SageMaker refused access (${message}); check the AWS credentials, region and sagemaker:InvokeEndpoint permission`, 'fatal');
  // "Endpoint x of account y not found." comes as a ValidationError: no text can fix it.
  if (name === 'ValidationError' && /not found/i.test(e.message ?? '')) return new EmbedError(`${message} (check embedder.endpoint and embedder.region)`, 'fatal');
  if (TRANSIENT.has(name) || (status !== undefined && (status >= 500 || status === 429))) return new EmbedError(message, 'transient');
  // No HTTP answer at all (connection refused or reset, DNS): the network, not the text.
  if (status === undefined && name !== 'ValidationError') return new EmbedError(message, 'transient');
  return new EmbedError(message, 'input');
}

// ---------------------------------------------------------------------------------------------
// The embedder

export interface SageMakerOptions {
  /** The SageMaker endpoint's name. */
  endpoint: string;
  region?: string;
  /** The runtime service's URL when not AWS's own (QUIVER_SAGEMAKER_ENDPOINT). */
  serviceUrl?: string;
  dimensions: number;
  format: SageMakerFormat;
  batchSize: number;
  concurrency: number;
  retry: RetryOptions;
  /** How long a request may go without an answer (default 90 s). */
  timeoutMs?: number;
}

function isZero(v: Float32Array): boolean {
  for (const x of v) if (x !== 0) return false;
  return true;
}

export class SageMakerEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly maxBatch: number;
  private readonly slots: Semaphore;
  private readonly batchSize: number;

  private constructor(
    private readonly opts: SageMakerOptions,
    private readonly client: SageMakerRuntimeClient,
    private readonly invoke: typeof InvokeEndpointCommand,
  ) {
    this.slots = new Semaphore(opts.concurrency);
    this.dimensions = opts.dimensions;
    this.batchSize = Math.min(opts.batchSize, opts.format.maxBatch);
    // The same endpoint name in two regions is two models: the cache key names both.
    this.id = `sagemaker:${opts.region ?? ''}:${opts.endpoint}:${opts.format.name}:${opts.dimensions}`;
    // Callers (the cache, jobs) split above this and issue the parts together, so up to
    // concurrency batches are in flight at once.
    this.maxBatch = this.batchSize;
  }

  /** The SDK is loaded on first use: a server with no SageMaker collection never pays for it. */
  static async create(opts: SageMakerOptions): Promise<SageMakerEmbedder> {
    const [{ SageMakerRuntimeClient, InvokeEndpointCommand }, { NodeHttpHandler }] = await Promise.all([import('@aws-sdk/client-sagemaker-runtime'), import('@smithy/node-http-handler')]);
    const client = new SageMakerRuntimeClient({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.serviceUrl ? { endpoint: opts.serviceUrl } : {}),
      // Retries are ours (with the classification above), so the SDK makes one attempt.
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(awsHttpOptions({ concurrency: opts.concurrency, timeoutMs: opts.timeoutMs ?? REQUEST_TIMEOUT_MS })),
    });
    return new SageMakerEmbedder(opts, client, InvokeEndpointCommand);
  }

  /** One request for a batch of texts, retried while transient. */
  private call(texts: string[]): Promise<(Float32Array | null)[]> {
    const { format, endpoint } = this.opts;
    return withRetry(
      () =>
        this.slots.run(async () => {
          let raw: Uint8Array;
          try {
            const out = await this.client.send(new this.invoke({ EndpointName: endpoint, ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify(format.body(texts)) }));
            raw = out.Body ?? new Uint8Array();
          } catch (err) {
            throw classifySageMakerError(err, endpoint);
          }
          return this.parse(raw, texts.length);
        }),
      this.opts.retry,
    );
  }

  /** The vectors of an answer, in input order; an answer of the wrong shape or size is the spec's fault, for every text. */
  private parse(raw: Uint8Array, count: number): (Float32Array | null)[] {
    const { format, endpoint } = this.opts;
    const bad = (why: string) => new EmbedError(`endpoint "${endpoint}" answered in a shape the ${format.name} format does not expect: ${why}; check embedder.preset (or request_template and response_path)`, 'fatal');
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(raw).toString('utf8'));
    } catch {
      throw bad('not JSON');
    }
    let answers: unknown[];
    try {
      answers = format.answers(body, count);
    } catch (err) {
      throw bad((err as Error).message);
    }
    return answers.map((a, i) => {
      const numbers = format.vector(a);
      if (numbers === undefined) throw bad(`answer ${i} is not a list of numbers`);
      if (numbers.length !== this.dimensions) {
        throw new EmbedError(`endpoint "${endpoint}" answered with ${numbers.length}-dimension vectors, but the collection expects ${this.dimensions}; set embedder.dimensions to the model's size`, 'fatal');
      }
      const v = Float32Array.from(numbers);
      if (!v.every(Number.isFinite)) throw bad(`answer ${i} holds a number that is not finite`);
      // A zero vector has no direction: stored without a vector, as for the other providers.
      return isZero(v) ? null : v;
    });
  }

  embedSettled(texts: string[]): Promise<(Float32Array | null | EmbedError)[]> {
    return settleInBatches(texts, this.batchSize, (batch) => this.call(batch), this.opts.format.skip);
  }

  async embed(texts: string[]): Promise<(Float32Array | null)[]> {
    return vectorsOrFirstFailure(await this.embedSettled(texts));
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
