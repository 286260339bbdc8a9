// A local stand-in for the Amazon Bedrock runtime's Converse and ConverseStream, so the real AWS
// SDK client (and the answer route above it) can be tested without AWS. It speaks the wire format:
// POST /model/{modelId}/converse with the JSON body, answered in JSON; POST .../converse-stream
// answered as an AWS event stream (application/vnd.amazon.eventstream, binary frames with CRCs,
// encoded by @smithy/core's EventStreamCodec), its events messageStart, contentBlockDelta,
// contentBlockStop, messageStop and metadata, and exceptions as exception frames mid-stream.
// Errors before a stream are sent as the service sends them (status, x-amzn-errortype, {message}).
//
// What it checks, refusing as Bedrock would (or louder), and recording each request:
// - a SigV4 Authorization header (and, with secretAccessKey, that the signature matches);
// - the model id in the path is one it knows, and `document` blocks only for models with document chat;
// - retrieved passages arrive in the user turn (text or documents), never in the system prompt;
// - the prompt fits: input tokens (counted as characters / 4, about what real tokenizers give for
//   English, so fewer than Quiver's conservative estimate) plus maxTokens within the model's
//   context, and maxTokens within its output limit.
// Its answer is made from the passages: the first sentence of each passage sharing a word of four
// letters or more with the question, each followed by that passage's [n]; "I do not know" when none does.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/core/event-streams';
import type { MessageHeaders } from '@smithy/core/event-streams';
import { signatureMatches } from './fake-bedrock.js';

export interface FakeModel {
  contextTokens: number;
  maxOutputTokens: number;
  documents: boolean;
}

/** The models it serves: Nova as their cards say, and one small model Quiver's table does not know. */
export const FAKE_MODELS: Record<string, FakeModel> = {
  'amazon.nova-micro-v1:0': { contextTokens: 128_000, maxOutputTokens: 5_120, documents: false },
  'amazon.nova-lite-v1:0': { contextTokens: 300_000, maxOutputTokens: 5_120, documents: true },
  'amazon.nova-pro-v1:0': { contextTokens: 300_000, maxOutputTokens: 5_120, documents: true },
  'acme.small-v1:0': { contextTokens: 8_192, maxOutputTokens: 4_096, documents: false },
};

export type ConverseErrorName = 'ValidationException' | 'ModelErrorException' | 'ThrottlingException' | 'AccessDeniedException' | 'InternalServerException' | 'ResourceNotFoundException';
const STATUS: Record<ConverseErrorName | 'MissingAuthenticationTokenException' | 'InvalidSignatureException', number> = {
  ValidationException: 400,
  ModelErrorException: 424,
  ThrottlingException: 429,
  AccessDeniedException: 403,
  InternalServerException: 500,
  ResourceNotFoundException: 404,
  MissingAuthenticationTokenException: 403,
  InvalidSignatureException: 403,
};

export interface Passage {
  n: number;
  source: string;
  text: string;
}

export interface ConverseRecord {
  operation: 'converse' | 'converse-stream';
  path: string;
  modelId: string;
  headers: http.IncomingHttpHeaders;
  system: string;
  /** The user turn's text blocks. */
  texts: string[];
  /** The user turn's documents, decoded. */
  documents: { name: string; format: string; text: string }[];
  passages: Passage[];
  question: string;
  maxTokens: number | undefined;
  /** characters / 4 over system and user turn. */
  inputTokens: number;
  status: number;
  error?: string;
  /** The client went away before the answer ended. */
  aborted: boolean;
}

class Fault extends Error {
  constructor(
    readonly errorName: keyof typeof STATUS,
    message: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder();
const codec = new EventStreamCodec(
  (bytes) => utf8.decode(bytes),
  (text) => new TextEncoder().encode(text),
);

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

function parsePassages(text: string): Passage[] {
  return [...text.matchAll(/<passage id="(\d+)" source="([^"]*)">\n([\s\S]*?)\n<\/passage>/g)].map((m) => ({ n: Number(m[1]), source: unescape(m[2]!), text: unescape(m[3]!) }));
}

const words = (s: string) => new Set((s.toLowerCase().match(/[\p{L}\p{N}]{4,}/gu) ?? []).filter((w) => w !== 'question'));

/** The fake model's answer: sentences of the passages that share a word with the question, cited. */
export function fakeAnswer(question: string, passages: Passage[]): string {
  const q = words(question);
  const cited = passages.filter((p) => [...words(p.text)].some((w) => q.has(w)));
  if (cited.length === 0) return 'I do not know: the passages do not say.';
  return cited.map((p) => `${(/^[^.!?]*[.!?]?/.exec(p.text.trim())?.[0] ?? p.text).trim()} [${p.n}]`).join(' ');
}

type Json = Record<string, unknown>;

export class FakeConverse {
  readonly requests: ConverseRecord[] = [];
  private failures: { error: ConverseErrorName; message: string; times: number }[] = [];
  private streamFailure: { afterDeltas: number; exception: string; message: string } | undefined;
  private holdAfterFirstDelta = false;
  private heldWaiters: (() => void)[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly secretAccessKey: string | undefined,
  ) {}

  static async start(opts: { secretAccessKey?: string } = {}): Promise<FakeConverse> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeConverse(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, opts.secretAccessKey);
    server.on('request', (req, res) => void fake.handle(req, res));
    return fake;
  }

  /** The next `times` requests fail with this error before any stream begins. */
  fail(error: ConverseErrorName, message: string, times = 1): this {
    this.failures.push({ error, message, times });
    return this;
  }
  /** The next stream sends `afterDeltas` text deltas, then this exception frame (e.g. modelStreamErrorException). */
  failStream(afterDeltas: number, exception: string, message: string): this {
    this.streamFailure = { afterDeltas, exception, message };
    return this;
  }
  /** The next stream sends one delta and then waits, open, until the client goes away. */
  holdStream(): this {
    this.holdAfterFirstDelta = true;
    return this;
  }
  /** Resolves once a held stream has sent its first delta. */
  waitHeld(): Promise<void> {
    return new Promise((resolve) => this.heldWaiters.push(resolve));
  }

  reset(): void {
    this.requests.length = 0;
    this.failures = [];
    this.streamFailure = undefined;
    this.holdAfterFirstDelta = false;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '';
    const m = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(path);
    const record: ConverseRecord = {
      operation: m?.[2] === 'converse-stream' ? 'converse-stream' : 'converse',
      path,
      modelId: m ? decodeURIComponent(m[1]!) : '',
      headers: req.headers,
      system: '',
      texts: [],
      documents: [],
      passages: [],
      question: '',
      maxTokens: undefined,
      inputTokens: 0,
      status: 200,
      aborted: false,
    };
    this.requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    let answer: string;
    try {
      if (req.method !== 'POST' || !m) throw new Fault('ValidationException', `Unsupported operation ${req.method ?? ''} ${path}`);
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) throw new Fault('MissingAuthenticationTokenException', 'Missing Authentication Token');
      if (this.secretAccessKey !== undefined && !signatureMatches(req.method, path, req.headers, raw, this.secretAccessKey)) {
        throw new Fault('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
      }
      const model = FAKE_MODELS[record.modelId];
      if (!model) throw new Fault('ValidationException', 'The provided model identifier is invalid.');
      this.read(record, JSON.parse(raw) as Json);
      if (record.documents.length > 0 && !model.documents) throw new Fault('ValidationException', "This model doesn't support documents.");
      if (record.documents.length > 5) throw new Fault('ValidationException', 'A conversation must have at most 5 documents.');
      if (/<passage\b/.test(record.system) || record.passages.some((p) => record.system.includes(p.text))) throw new Fault('ValidationException', 'fake: retrieved passages in the system prompt');
      if (record.maxTokens !== undefined && record.maxTokens > model.maxOutputTokens) {
        throw new Fault('ValidationException', `The maximum tokens you requested exceeds the model limit of ${model.maxOutputTokens}. Try again with a maximum tokens value that is lower than ${model.maxOutputTokens}.`);
      }
      if (record.inputTokens + (record.maxTokens ?? 0) > model.contextTokens) throw new Fault('ValidationException', 'Input is too long for requested model.');
      const failure = this.failures.find((f) => f.times > 0);
      if (failure) {
        failure.times--;
        throw new Fault(failure.error, failure.message);
      }
      answer = fakeAnswer(record.question, record.passages);
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      record.status = STATUS[err.errorName];
      record.error = err.errorName;
      res
        .writeHead(record.status, { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID(), 'x-amzn-errortype': `${err.errorName}:http://internal.amazon.com/coral/com.amazon.bedrock/` })
        .end(JSON.stringify({ message: err.message }));
      return;
    }
    const usage = { inputTokens: record.inputTokens, outputTokens: Math.ceil(answer.length / 4), totalTokens: record.inputTokens + Math.ceil(answer.length / 4) };
    if (record.operation === 'converse') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID() }).end(
        JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: answer }] } }, stopReason: 'end_turn', usage, metrics: { latencyMs: 1 } }),
      );
      return;
    }
    await this.stream(res, record, answer, usage);
  }

  /** Takes the parts of a Converse body the checks need. */
  private read(record: ConverseRecord, body: Json): void {
    record.system = ((body.system as { text?: string }[] | undefined) ?? []).map((b) => b.text ?? '').join('\n');
    record.maxTokens = (body.inferenceConfig as { maxTokens?: number } | undefined)?.maxTokens;
    const messages = (body.messages as { role: string; content: Json[] }[] | undefined) ?? [];
    for (const msg of messages) {
      if (msg.role !== 'user') continue;
      for (const block of msg.content) {
        if (typeof block.text === 'string') record.texts.push(block.text);
        const doc = block.document as { name: string; format: string; source: { bytes: string } } | undefined;
        if (doc) record.documents.push({ name: doc.name, format: doc.format, text: Buffer.from(doc.source.bytes, 'base64').toString('utf8') });
      }
    }
    const material = [...record.texts, ...record.documents.map((d) => d.text)].join('\n');
    record.passages = parsePassages(material);
    record.question = record.texts.find((t) => t.startsWith('Question: '))?.slice('Question: '.length) ?? record.texts.at(-1) ?? '';
    record.inputTokens = Math.ceil((record.system.length + material.length) / 4);
  }

  private async stream(res: http.ServerResponse, record: ConverseRecord, answer: string, usage: Json): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': crypto.randomUUID() });
    const event = (type: string, body: Json) => {
      const headers: MessageHeaders = {
        ':event-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      };
      res.write(codec.encode({ headers, body: new TextEncoder().encode(JSON.stringify(body)) }));
    };
    const failure = this.streamFailure;
    this.streamFailure = undefined;
    const hold = this.holdAfterFirstDelta;
    this.holdAfterFirstDelta = false;
    event('messageStart', { role: 'assistant' });
    const pieces = answer.match(/\S+\s*/g) ?? [answer];
    for (let i = 0; i < pieces.length; i++) {
      if (failure && i === failure.afterDeltas) {
        const headers: MessageHeaders = {
          ':exception-type': { type: 'string', value: failure.exception },
          ':content-type': { type: 'string', value: 'application/json' },
          ':message-type': { type: 'string', value: 'exception' },
        };
        res.end(codec.encode({ headers, body: new TextEncoder().encode(JSON.stringify({ message: failure.message })) }));
        record.error = failure.exception;
        return;
      }
      event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: pieces[i] } });
      if (hold && i === 0) {
        // Stays open until the client goes away (the test then reads record.aborted).
        await new Promise<void>((resolve) => {
          res.once('close', () => resolve());
          for (const w of this.heldWaiters.splice(0)) w();
        });
        return;
      }
    }
    event('contentBlockStop', { contentBlockIndex: 0 });
    event('messageStop', { stopReason: 'end_turn' });
    event('metadata', { usage, metrics: { latencyMs: 1 } });
    res.end();
  }
}
