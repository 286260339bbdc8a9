// A loopback stand-in for the Amazon SageMaker runtime's InvokeEndpoint with embedding models
// behind it, so the real AWS SDK client (and everything above it) can be tested without AWS.
//
// What it checks: the restJson1 route POST /endpoints/{name}/invocations; the SigV4
// Authorization header (its shape, x-amz-date and that it is the scope's day, host and
// x-amz-date among the signed headers, the service `sagemaker` and the fake's region in the
// credential scope, the access key id, and with the secret key the signature itself); the
// content type; and each container's request body, as the container would.
// What it speaks: the containers' formats (TEI, the Hugging Face inference toolkit's
// feature-extraction, JumpStart text embedding, Object2Vec encoder embeddings) or a test's own
// handler; and errors as SageMaker sends them: a container's error wrapped as ModelError (424,
// with OriginalStatusCode and OriginalMessage), ThrottlingException (400, or 429), 5xx and the
// authentication errors, each with `x-amzn-errortype` (the SDK reads the name from it).
// Vectors are a hashed bag of words (fake-bedrock.ts): deterministic, and texts sharing words are similar.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeTitanVector, signatureMatches } from './fake-bedrock.js';

export type SageMakerErrorName =
  | 'ModelError'
  | 'ThrottlingException'
  | 'ValidationError'
  | 'ModelNotReadyException'
  | 'ServiceUnavailable'
  | 'InternalFailure'
  | 'AccessDeniedException'
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

/** The status each error is sent with (SageMaker runtime API reference; AWS common errors). */
const ERROR_STATUS: Record<SageMakerErrorName, number> = {
  ModelError: 424,
  ThrottlingException: 400,
  ValidationError: 400,
  ModelNotReadyException: 429,
  ServiceUnavailable: 503,
  InternalFailure: 500,
  AccessDeniedException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
};

const DEFAULT_MESSAGE: Partial<Record<SageMakerErrorName, string>> = {
  ThrottlingException: 'Rate exceeded',
  ModelNotReadyException: 'Model is not ready to serve inference requests.',
  ServiceUnavailable: 'Service Unavailable. Please try again later.',
  InternalFailure: 'An internal failure occurred.',
  AccessDeniedException: 'User is not authorized to perform: sagemaker:InvokeEndpoint on resource',
  MissingAuthenticationTokenException: 'Missing Authentication Token',
};

/** A container format, or a test's own: the parsed body in, the answer out (throw ContainerError to refuse). */
export type FakeFormat = 'tei' | 'huggingface' | 'jumpstart' | 'object2vec' | ((body: unknown) => { answer: unknown; inputs: string[] });

export interface FakeEndpoint {
  format: FakeFormat;
  dimensions: number;
  /** object2vec: word → token id, to read the ids back as words (for the recorded inputs and the vectors). */
  vocabulary?: Record<string, number>;
  /** tei: TEI's --max-client-batch-size (default 32). */
  maxBatch?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  endpoint: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it was not JSON). */
  body: unknown;
  /** The texts the request carried (object2vec: its token ids read back as words, joined by spaces). */
  inputs: string[];
  /** The credential scope of the SigV4 Authorization header, when it had one. */
  signing?: { accessKeyId: string; date: string; region: string; service: string; signedHeaders: string[] };
  status: number;
  error?: SageMakerErrorName;
}

export interface FailureRule {
  error: SageMakerErrorName;
  /** Overrides the error's usual status (ThrottlingException may come as 429). */
  status?: number;
  message?: string;
  /** ModelError: the container's own status (default 400). */
  originalStatus?: number;
  /** Which requests fail (default: all), given the texts they carry; a batch fails whole, as a container does. */
  match?: (inputs: string[]) => boolean;
  /** How many matching requests fail before the rule is spent (default: no end). */
  times?: number;
}

/** A container refusing a body: SageMaker passes it on as ModelError with this status and message. */
export class ContainerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

class Fault extends Error {
  constructor(
    readonly errorName: SageMakerErrorName,
    message: string,
    readonly status = ERROR_STATUS[errorName],
    readonly original?: number,
  ) {
    super(message);
  }
}

const WORDS = /[\p{L}\p{N}]+/gu;

/** The vector the fake's containers give a text (normalised bag of words). */
export const fakeSageMakerVector = (text: string, dimensions: number): number[] => fakeTitanVector(text, dimensions, true);

/** The Hugging Face pipeline's token vectors for a text: [CLS], each word, [SEP]. */
export function fakeTokenVectors(text: string, dimensions: number): number[][] {
  return ['[CLS]', ...(text.toLowerCase().match(WORDS) ?? []), '[SEP]'].map((t) => fakeTitanVector(t, dimensions, false));
}

function stringList(v: unknown, field: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string')) throw new ContainerError(422, `${field}: expected a string or a non-empty list of strings`);
  return list;
}

function onlyKeys(body: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ContainerError(422, 'expected a JSON object');
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw new ContainerError(422, `unknown field \`${k}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(', ')}`);
  return body as Record<string, unknown>;
}

/** Each container format, checked as the container checks it. */
function answer(ep: FakeEndpoint, body: unknown): { answer: unknown; inputs: string[] } {
  const { format, dimensions } = ep;
  if (typeof format === 'function') return format(body);
  if (format === 'tei') {
    const b = onlyKeys(body, ['inputs', 'truncate', 'normalize', 'prompt_name', 'truncation_direction']);
    const inputs = stringList(b.inputs, 'inputs');
    const max = ep.maxBatch ?? 32;
    if (inputs.length > max) throw new ContainerError(413, `batch size ${inputs.length} > maximum allowed batch size ${max}`);
    if (inputs.some((t) => t === '')) throw new ContainerError(422, '`inputs` cannot be empty');
    return { answer: inputs.map((t) => fakeSageMakerVector(t, dimensions)), inputs };
  }
  if (format === 'huggingface') {
    const b = onlyKeys(body, ['inputs', 'parameters']);
    const inputs = stringList(b.inputs, 'inputs');
    // The pipeline answers a list of texts with one [1][tokens][hidden] array each.
    return { answer: inputs.map((t) => [fakeTokenVectors(t, dimensions)]), inputs };
  }
  if (format === 'jumpstart') {
    const b = onlyKeys(body, ['text_inputs', 'mode']);
    const inputs = stringList(b.text_inputs, 'text_inputs');
    return { answer: { embedding: inputs.map((t) => fakeSageMakerVector(t, dimensions)) }, inputs };
  }
  const b = onlyKeys(body, ['instances']);
  const words = new Map(Object.entries(ep.vocabulary ?? {}).map(([w, id]) => [id, w]));
  if (!Array.isArray(b.instances) || b.instances.length === 0) throw new ContainerError(400, 'instances: expected a non-empty list');
  const inputs = b.instances.map((inst: unknown, i) => {
    const in0 = (onlyKeys(inst, ['in0', 'in1']) as { in0?: unknown }).in0;
    if (!Array.isArray(in0) || in0.length === 0 || !in0.every((x) => Number.isInteger(x) && x >= 0)) throw new ContainerError(400, `instances[${i}].in0: expected a non-empty list of token ids`);
    return in0.map((id: number) => words.get(id) ?? `#${id}`).join(' ');
  });
  return { answer: { predictions: inputs.map((t) => ({ embeddings: fakeSageMakerVector(t, dimensions) })) }, inputs };
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export class FakeSageMaker {
  readonly requests: RecordedRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly endpoints = new Map<string, FakeEndpoint>();
  private rules: FailureRule[] = [];
  private held: (() => void)[] | undefined;
  private inFlightWaiters: { n: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly opts: { secretAccessKey?: string; accessKeyId?: string; region: string },
  ) {}

  /** With secretAccessKey, requests whose SigV4 signature does not match it are refused (403); the scope must name `region`. */
  static async start(opts: { secretAccessKey?: string; accessKeyId?: string; region?: string } = {}): Promise<FakeSageMaker> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeSageMaker(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, { region: 'us-east-1', ...opts });
    server.on('request', (req, res) => void fake.handle(req, res));
    return fake;
  }

  /** Deploys a model on an endpoint of this name. */
  endpoint(name: string, ep: FakeEndpoint): this {
    this.endpoints.set(name, ep);
    return this;
  }

  /** Adds a scripted failure; rules are tried in the order added. */
  fail(rule: FailureRule): this {
    this.rules.push({ ...rule });
    return this;
  }
  /** The container refuses any batch holding a text that contains s (SageMaker: ModelError 424). */
  modelErrorFor(s: string, originalStatus = 400): this {
    return this.fail({ error: 'ModelError', originalStatus, match: (inputs) => inputs.some((t) => t.includes(s)) });
  }
  throttleFirst(n: number, status = 400): this {
    return this.fail({ error: 'ThrottlingException', status, times: n });
  }

  /** Forgets the rules, the recorded requests and the in-flight maximum (the endpoints stay). */
  reset(): void {
    this.rules = [];
    this.requests.length = 0;
    this.maxInFlight = this.inFlight;
  }

  /** Requests that carried a text containing s. */
  calls(s: string): RecordedRequest[] {
    return this.requests.filter((r) => r.inputs.some((t) => t.includes(s)));
  }

  /** Holds every answer until resume(). */
  pause(): void {
    this.held ??= [];
  }
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const release of held) release();
  }

  /** Resolves once at least n requests are being handled at the same time. */
  waitForInFlight(n: number): Promise<void> {
    if (this.inFlight >= n) return Promise.resolve();
    return new Promise((resolve) => this.inFlightWaiters.push({ n, resolve }));
  }

  async close(): Promise<void> {
    this.resume();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The SigV4 checks AWS makes before a request reaches SageMaker. */
  private authenticate(req: http.IncomingMessage, path: string, raw: string, record: RecordedRequest): void {
    const header = req.headers.authorization;
    if (header === undefined) throw new Fault('MissingAuthenticationTokenException', DEFAULT_MESSAGE.MissingAuthenticationTokenException!);
    const m = AUTH.exec(header);
    if (!m) throw new Fault('IncompleteSignatureException', `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${header.slice(0, 40)}`);
    const [, accessKeyId, date, region, service, signed] = m as unknown as [string, string, string, string, string, string];
    const signedHeaders = signed.split(';');
    record.signing = { accessKeyId, date, region, service, signedHeaders };
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!/^\d{8}T\d{6}Z$/.test(amzDate)) throw new Fault('IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    if (!amzDate.startsWith(date)) throw new Fault('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}'`);
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) throw new Fault('InvalidSignatureException', `the signed headers (${signed}) must include host and x-amz-date`);
    if (service !== 'sagemaker') throw new Fault('InvalidSignatureException', `Credential should be scoped to correct service: 'sagemaker'. (got '${service}')`);
    if (region !== this.opts.region) throw new Fault('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'. (expected '${this.opts.region}')`);
    if (this.opts.accessKeyId !== undefined && accessKeyId !== this.opts.accessKeyId) throw new Fault('UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (this.opts.secretAccessKey !== undefined && !signatureMatches(req.method ?? '', path, req.headers, raw, this.opts.secretAccessKey)) {
      throw new Fault('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.inFlightWaiters = this.inFlightWaiters.filter((w) => (this.inFlight >= w.n ? (w.resolve(), false) : true));
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The client gave up (a timeout) before its body was read: nothing to answer.
      this.inFlight--;
      return;
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '';
    const route = /^\/endpoints\/([^/]+)\/invocations$/.exec(path);
    const name = route ? decodeURIComponent(route[1]!) : '';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = { method: req.method ?? '', path, endpoint: name, headers: req.headers, body, inputs: [], status: 200 };
    this.requests.push(record);

    let payload: unknown;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID() };
    try {
      if (req.method !== 'POST' || !route) throw new Fault('ValidationError', `Unsupported operation ${req.method ?? ''} ${path}`);
      this.authenticate(req, path, raw, record);
      const ep = this.endpoints.get(name);
      if (!ep) throw new Fault('ValidationError', `Endpoint ${name} of account 123456789012 not found.`);
      headers['x-amzn-invoked-production-variant'] = 'AllTraffic';
      let out: { answer: unknown; inputs: string[] };
      try {
        if (req.headers['content-type'] !== 'application/json') throw new ContainerError(415, `unsupported content type ${String(req.headers['content-type'])}`);
        if (body === undefined) throw new ContainerError(400, 'the body is not JSON');
        out = answer(ep, body);
      } catch (err) {
        if (err instanceof ContainerError) throw new Fault('ModelError', err.message, 424, err.status);
        throw err;
      }
      record.inputs = out.inputs;
      const rule = this.rules.find((r) => (r.times === undefined || r.times > 0) && (r.match?.(out.inputs) ?? true));
      if (rule) {
        if (rule.times !== undefined) rule.times--;
        const message = rule.message ?? DEFAULT_MESSAGE[rule.error] ?? (rule.error === 'ModelError' ? 'the model could not embed this input' : rule.error);
        throw new Fault(rule.error, message, rule.status ?? ERROR_STATUS[rule.error], rule.error === 'ModelError' ? (rule.originalStatus ?? 400) : undefined);
      }
      payload = out.answer;
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      record.status = err.status;
      record.error = err.errorName;
      headers['x-amzn-errortype'] = `${err.errorName}:http://internal.amazon.com/coral/com.amazon.sagemaker.runtime/`;
      payload =
        err.errorName === 'ModelError'
          ? {
              // The container's answer, as SageMaker passes it on.
              ...(err.original! < 500 ? { ErrorCode: 'CLIENT_ERROR_FROM_MODEL' } : {}),
              LogStreamArn: `arn:aws:logs:${this.opts.region}:123456789012:log-group:/aws/sagemaker/Endpoints/${name}`,
              Message: `Received ${err.original! < 500 ? 'client' : 'server'} error (${err.original}) from primary with message "${err.message}". See https://${this.opts.region}.console.aws.amazon.com/cloudwatch/home?region=${this.opts.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${name} in account 123456789012 for more information.`,
              OriginalMessage: err.message,
              OriginalStatusCode: err.original,
            }
          : { message: err.message };
    }
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    this.inFlight--;
    res.writeHead(record.status, headers).end(JSON.stringify(payload));
  }
}
