// A local stand-in for the Amazon Bedrock runtime's InvokeModel with the Titan text embedding
// models, so the real AWS SDK client (and everything above it) can be tested without AWS.
// It speaks the wire format: POST /model/{modelId}/invoke with the model's JSON body, and errors
// as the service sends them (status, `x-amzn-errortype: Name:http://internal.amazon.com/coral/...`,
// body {"message"}); the SDK takes the error name from that header up to the first ":".
// Vectors are a hashed bag of words: deterministic, and texts sharing words are similar.
// Titan Multimodal Embeddings G1 (amazon.titan-embed-image-v1) takes {inputText?, inputImage?,
// embeddingConfig?} and embeds an image as the bag of words of the label it carries (a PNG tEXt
// "Description" or a JPEG comment, test/helpers/images.ts), so an image and its caption land close;
// an image without a label gets a vector of its own from its sha-256.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { imageLabel } from './images.js';

export type BedrockErrorName =
  | 'ThrottlingException'
  | 'ValidationException'
  | 'AccessDeniedException'
  | 'ModelNotReadyException'
  | 'InternalServerException'
  | 'ServiceUnavailableException'
  | 'MissingAuthenticationTokenException'
  | 'InvalidSignatureException';

/** The status each error is sent with (Bedrock runtime API reference, InvokeModel errors). */
export const ERROR_STATUS: Record<BedrockErrorName, number> = {
  ThrottlingException: 429,
  ValidationException: 400,
  AccessDeniedException: 403,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  MissingAuthenticationTokenException: 403,
  InvalidSignatureException: 403,
};

const DEFAULT_MESSAGE: Record<BedrockErrorName, string> = {
  ThrottlingException: 'Too many requests, please wait before trying again.',
  ValidationException: 'Malformed input request, please reformat your input and try again.',
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ModelNotReadyException: 'Model is not ready to serve inference requests.',
  InternalServerException: 'The system encountered an unexpected error during processing. Try your request again.',
  ServiceUnavailableException: 'Service Unavailable. Please try again later.',
  MissingAuthenticationTokenException: 'Missing Authentication Token',
  InvalidSignatureException: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
};

const V1 = 'amazon.titan-embed-text-v1';
const V2 = 'amazon.titan-embed-text-v2:0';
const IMAGE = 'amazon.titan-embed-image-v1';
const MAX_TOKENS = 8192;
/** Titan Multimodal Embeddings G1's text limit and image size limit (Bedrock user guide). */
const IMAGE_MODEL_MAX_TOKENS = 256;
const MAX_IMAGE_BYTES = 25 * 1024 * 1024;

export interface RecordedRequest {
  method: string;
  /** As sent, still URL-encoded. */
  path: string;
  /** Decoded from the path. */
  modelId: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it was not JSON). */
  body: unknown;
  /** What the fake answered. */
  status: number;
  error?: BedrockErrorName;
}

export interface FailureRule {
  error: BedrockErrorName;
  message?: string;
  /** Which requests fail (default: all), given the request's inputText. */
  match?: (inputText: string) => boolean;
  /** How many matching requests fail before the rule is spent (default: no end). */
  times?: number;
}

/** The fake's vector for a text: words hashed into signed buckets, unit length when normalize. */
export function fakeTitanVector(text: string, dimensions: number, normalize: boolean): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const w of words) {
    const h = crypto.createHash('sha256').update(w).digest();
    v[h.readUInt32LE(0) % dimensions]! += h[4]! & 1 ? 1 : -1;
  }
  if (!v.some((x) => x !== 0)) v[0] = 1; // words that cancelled out: Titan never answers a zero vector
  if (!normalize) return v;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string) => crypto.createHash('sha256').update(data).digest('hex');
/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const uriEscape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Recomputes the request's SigV4 signature with the secret key, as AWS does. Services other than
 * S3 sign the path's segments encoded once more, so the model id's ":" (sent as %3A) is signed as %253A.
 */
export function signatureMatches(method: string, path: string, headers: http.IncomingHttpHeaders, rawBody: string, secret: string): boolean {
  const auth = /^AWS4-HMAC-SHA256 Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(headers.authorization));
  if (!auth) return false;
  const [, date, region, service, signedHeaders, signature] = auth as unknown as [string, string, string, string, string, string];
  const names = signedHeaders.split(';');
  const canonicalRequest = [
    method,
    path.split('/').map(uriEscape).join('/'),
    '',
    ...names.map((n) => `${n}:${String(headers[n] ?? '').trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaders,
    sha256Hex(rawBody),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', String(headers['x-amz-date']), scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, stringToSign).toString('hex') === signature;
}

class BedrockFault extends Error {
  constructor(
    readonly errorName: BedrockErrorName,
    message: string,
  ) {
    super(message);
  }
}

function malformed(detail: string): BedrockFault {
  return new BedrockFault('ValidationException', `Malformed input request: ${detail}, please reformat your input and try again.`);
}

/** Checks a body as Titan does (unknown keys, types, allowed values) and returns its inputText. */
function checkBody(modelId: string, body: unknown): { inputText: string; dimensions: number; normalize: boolean; types: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformed('#: expected type: JSONObject');
  const b = body as Record<string, unknown>;
  const allowed = modelId === V1 ? ['inputText'] : ['inputText', 'dimensions', 'normalize', 'embeddingTypes'];
  for (const k of Object.keys(b)) if (!allowed.includes(k)) throw malformed(`#: extraneous key [${k}] is not permitted`);
  if (typeof b.inputText !== 'string') throw malformed('#: required key [inputText] not found');
  if (b.inputText.length === 0) throw malformed('#/inputText: expected minLength: 1, actual: 0');
  if (b.dimensions !== undefined && ![256, 512, 1024].includes(b.dimensions as number)) throw malformed(`#/dimensions: ${JSON.stringify(b.dimensions)} is not a valid enum value`);
  if (b.normalize !== undefined && typeof b.normalize !== 'boolean') throw malformed('#/normalize: expected type: Boolean');
  const types = b.embeddingTypes ?? ['float'];
  if (!Array.isArray(types) || types.length === 0 || types.some((t) => t !== 'float' && t !== 'binary')) throw malformed('#/embeddingTypes: expected "float" or "binary"');
  const tokens = b.inputText.split(/\s+/).filter(Boolean).length;
  if (tokens > MAX_TOKENS) throw new BedrockFault('ValidationException', `400 Bad Request: Too many input tokens. Max input tokens: ${MAX_TOKENS}, request input token count: ${tokens}`);
  return {
    inputText: b.inputText,
    dimensions: modelId === V1 ? 1536 : ((b.dimensions as number | undefined) ?? 1024),
    normalize: modelId === V1 ? false : (b.normalize ?? true),
    types,
  };
}

/** The average of unit vectors, made unit length again (Titan averages a text and an image given together). */
function meanUnit(vs: number[][]): number[] {
  const sum = vs[0]!.map((_, i) => vs.reduce((s, v) => s + v[i]!, 0));
  const norm = Math.hypot(...sum) || 1;
  return sum.map((x) => x / norm);
}

/** The fake's vector for an image: its label's words (as text), else words made from its sha-256. */
export function fakeImageVector(bytes: Buffer, dimensions: number): number[] {
  const label = imageLabel(bytes) ?? `image${crypto.createHash('sha256').update(bytes).digest('hex')}`;
  return fakeTitanVector(label, dimensions, true);
}

/** Checks a Titan Multimodal Embeddings G1 body as the service does; returns the vector and the text's token count. */
function embedMultimodal(body: unknown): { embedding: number[]; inputTextTokenCount: number } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformed('#: expected type: JSONObject');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['inputText', 'inputImage', 'embeddingConfig'].includes(k)) throw malformed(`#: extraneous key [${k}] is not permitted`);
  if (b.inputText === undefined && b.inputImage === undefined) throw malformed('#: at least one of [inputText, inputImage] is required');
  let dimensions = 1024;
  if (b.embeddingConfig !== undefined) {
    const cfg = b.embeddingConfig as Record<string, unknown> | null;
    if (typeof cfg !== 'object' || cfg === null || Object.keys(cfg).some((k) => k !== 'outputEmbeddingLength')) throw malformed('#/embeddingConfig: expected {outputEmbeddingLength}');
    if (cfg.outputEmbeddingLength !== undefined) {
      if (![256, 384, 1024].includes(cfg.outputEmbeddingLength as number)) throw malformed(`#/embeddingConfig/outputEmbeddingLength: ${JSON.stringify(cfg.outputEmbeddingLength)} is not a valid enum value`);
      dimensions = cfg.outputEmbeddingLength as number;
    }
  }
  const parts: number[][] = [];
  let tokens = 0;
  if (b.inputText !== undefined) {
    if (typeof b.inputText !== 'string') throw malformed('#/inputText: expected type: String');
    if (b.inputText.length === 0) throw malformed('#/inputText: expected minLength: 1, actual: 0');
    tokens = b.inputText.split(/\s+/).filter(Boolean).length;
    if (tokens > IMAGE_MODEL_MAX_TOKENS) throw new BedrockFault('ValidationException', `400 Bad Request: Too many input tokens. Max input tokens: ${IMAGE_MODEL_MAX_TOKENS}, request input token count: ${tokens}`);
    parts.push(fakeTitanVector(b.inputText, dimensions, true));
  }
  if (b.inputImage !== undefined) {
    if (typeof b.inputImage !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b.inputImage)) throw malformed('#/inputImage: expected a base64 string');
    const bytes = Buffer.from(b.inputImage, 'base64');
    if (bytes.length > MAX_IMAGE_BYTES) throw new BedrockFault('ValidationException', 'Image exceeds max size of 25MB');
    const png = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
    if (!png && !jpeg) throw new BedrockFault('ValidationException', 'Unable to process provided image: unsupported format (PNG or JPEG)');
    parts.push(fakeImageVector(bytes, dimensions));
  }
  return { embedding: meanUnit(parts), inputTextTokenCount: tokens };
}

export class FakeBedrock {
  readonly requests: RecordedRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private rules: FailureRule[] = [];
  private held: (() => void)[] | undefined;
  private inFlightWaiters: { n: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly secretAccessKey: string | undefined,
    private readonly latencyMs: () => number,
  ) {}

  /**
   * With secretAccessKey, requests whose SigV4 signature does not match it are refused (403).
   * latencyMs: how long each answer takes (a number, or a function drawn per request), so a
   * benchmark can make embedding remote-bound as the real service is (tens of ms a call).
   */
  static async start(opts: { secretAccessKey?: string; latencyMs?: number | (() => number) } = {}): Promise<FakeBedrock> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const latency = opts.latencyMs ?? 0;
    const fake = new FakeBedrock(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, opts.secretAccessKey, typeof latency === 'number' ? () => latency : latency);
    server.on('request', (req, res) => void fake.handle(req, res));
    return fake;
  }

  /** Adds a scripted failure; rules are tried in the order added. */
  fail(rule: FailureRule): this {
    this.rules.push({ ...rule });
    return this;
  }
  throttleFirst(n: number): this {
    return this.fail({ error: 'ThrottlingException', times: n });
  }
  rejectTextContaining(s: string, message?: string): this {
    return this.fail({ error: 'ValidationException', match: (t) => t.includes(s), message });
  }
  denyAll(): this {
    return this.fail({ error: 'AccessDeniedException' });
  }

  /** Forgets the rules, the recorded requests and the in-flight maximum. */
  reset(): void {
    this.rules = [];
    this.requests.length = 0;
    this.maxInFlight = this.inFlight;
  }

  /** Requests whose inputText is this text. */
  calls(text: string): RecordedRequest[] {
    return this.requests.filter((r) => (r.body as { inputText?: unknown } | undefined)?.inputText === text);
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

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.inFlightWaiters = this.inFlightWaiters.filter((w) => (this.inFlight >= w.n ? (w.resolve(), false) : true));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '';
    const m = /^\/model\/([^/]+)\/invoke$/.exec(path);
    const modelId = m ? decodeURIComponent(m[1]!) : '';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = { method: req.method ?? '', path, modelId, headers: req.headers, body, status: 200 };
    this.requests.push(record);

    let status = 200;
    let payload: unknown;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID() };
    try {
      if (req.method !== 'POST' || !m) throw new BedrockFault('ValidationException', `Unsupported operation ${req.method ?? ''} ${path}`);
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) throw new BedrockFault('MissingAuthenticationTokenException', DEFAULT_MESSAGE.MissingAuthenticationTokenException);
      if (this.secretAccessKey !== undefined && !signatureMatches(req.method, path, req.headers, raw, this.secretAccessKey)) {
        throw new BedrockFault('InvalidSignatureException', DEFAULT_MESSAGE.InvalidSignatureException);
      }
      if (modelId !== V1 && modelId !== V2 && modelId !== IMAGE) throw new BedrockFault('ValidationException', 'The provided model identifier is invalid.');
      // Failure rules match on the request's inputText (an image-only request has none: "").
      const sent = (body as { inputText?: unknown } | undefined)?.inputText;
      const inputText = typeof sent === 'string' ? sent : '';
      const input = modelId === IMAGE ? undefined : checkBody(modelId, body);
      const rule = this.rules.find((r) => (r.times === undefined || r.times > 0) && (r.match?.(inputText) ?? true));
      if (rule) {
        if (rule.times !== undefined) rule.times--;
        throw new BedrockFault(rule.error, rule.message ?? DEFAULT_MESSAGE[rule.error]);
      }
      if (!input) {
        const out = embedMultimodal(body);
        headers['x-amzn-bedrock-input-token-count'] = String(out.inputTextTokenCount);
        payload = out;
      } else {
        const embedding = fakeTitanVector(input.inputText, input.dimensions, input.normalize);
        const inputTextTokenCount = input.inputText.split(/\s+/).filter(Boolean).length;
        headers['x-amzn-bedrock-input-token-count'] = String(inputTextTokenCount);
        if (modelId === V1) payload = { embedding, inputTextTokenCount };
        else {
          const byType: Record<string, number[]> = {};
          if (input.types.includes('float')) byType.float = embedding;
          if (input.types.includes('binary')) byType.binary = embedding.map((x) => (x > 0 ? 1 : 0));
          payload = { embedding, embeddingsByType: byType, inputTextTokenCount };
        }
      }
    } catch (err) {
      if (!(err instanceof BedrockFault)) throw err;
      status = ERROR_STATUS[err.errorName];
      record.error = err.errorName;
      headers['x-amzn-errortype'] = `${err.errorName}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
      payload = { message: err.message };
    }
    record.status = status;
    const delay = this.latencyMs();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    this.inFlight--;
    res.writeHead(status, headers).end(JSON.stringify(payload));
  }
}
