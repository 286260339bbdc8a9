// A loopback fake of an OpenAI-compatible POST /v1/embeddings for tests of the "openai" provider
// (src/embedding/openai.ts): it checks the bearer key, records every request, answers with
// deterministic vectors (words hashed into buckets), and can be scripted to answer 429 with
// Retry-After, 5xx, a malformed body, vectors of the wrong size, or 400 for a batch holding a
// given text, and to hold answers so the requests in flight can be counted.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: { model?: unknown; input?: unknown; encoding_format?: unknown; dimensions?: unknown } | undefined;
  status: number;
}

/** What the next matching request gets instead of vectors. */
export type Script =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'malformed' }
  | { kind: 'dimensions'; dimensions: number };

export function fakeVector(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text]) {
    const h = crypto.createHash('sha256').update(w).digest();
    v[h.readUInt32LE(0) % dimensions]! += h[4]! & 1 ? 1 : -1;
  }
  if (!v.some((x) => x !== 0)) v[0] = 1;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

export class FakeOpenAI {
  readonly calls: RecordedCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private scripts: { script: Script; times: number; match?: (input: string[]) => boolean }[] = [];
  private held: (() => void)[] | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly key: string | undefined,
    private readonly dimensions: number,
  ) {}

  /** key: the bearer key required (undefined: none checked); the fake answers /v1/embeddings under url. */
  static async start(opts: { key?: string; dimensions: number }): Promise<FakeOpenAI> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeOpenAI(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, opts.key, opts.dimensions);
    server.on('request', (req, res) => void fake.handle(req, res));
    return fake;
  }

  /** The next `times` requests (whose inputs pass `match`) get this answer. */
  script(script: Script, times = 1, match?: (input: string[]) => boolean): this {
    this.scripts.push({ script, times, match });
    return this;
  }

  /** A 400 for every request whose input holds a text containing `marker`, as OpenAI refuses a batch with one bad input. */
  refuseTextsContaining(marker: string): this {
    return this.script({ kind: 'status', status: 400, body: JSON.stringify({ error: { message: `input contains ${marker}`, type: 'invalid_request_error', param: 'input', code: null } }) }, Infinity, (input) =>
      input.some((t) => t.includes(marker)),
    );
  }

  reset(): void {
    this.scripts = [];
    this.calls.length = 0;
    this.maxInFlight = this.inFlight;
  }

  /** Holds every answer until resume(). */
  pause(): void {
    this.held ??= [];
  }
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  /** Texts of every request, in order. */
  inputs(): string[][] {
    return this.calls.map((c) => (Array.isArray(c.body?.input) ? (c.body.input as string[]) : [String(c.body?.input)]));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: RecordedCall['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedCall['body'];
      } catch {
        body = undefined;
      }
      const call: RecordedCall = { at: Date.now(), headers: req.headers, body, status: 0 };
      this.calls.push(call);
      if (this.held) await new Promise<void>((r) => this.held!.push(r));
      const send = (status: number, text: string, headers: Record<string, string> = {}) => {
        call.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(text);
      };
      const error = (status: number, message: string, type: string) => send(status, JSON.stringify({ error: { message, type, param: null, code: null } }));
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') return error(404, `no route ${req.method} ${req.url}`, 'invalid_request_error');
      if (this.key !== undefined && req.headers.authorization !== `Bearer ${this.key}`) return error(401, 'Incorrect API key provided', 'invalid_request_error');
      const input = body?.input;
      const texts = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((t) => typeof t === 'string') ? (input) : undefined;
      if (typeof body?.model !== 'string' || texts === undefined || texts.length === 0) return error(400, 'model and input are required', 'invalid_request_error');
      const i = this.scripts.findIndex((s) => s.times > 0 && (s.match === undefined || s.match(texts)));
      let dims = this.dimensions;
      if (i >= 0) {
        const s = this.scripts[i]!;
        s.times--;
        if (s.script.kind === 'status') return send(s.script.status, s.script.body ?? JSON.stringify({ error: { message: `scripted ${s.script.status}`, type: 'server_error', param: null, code: null } }), s.script.headers);
        if (s.script.kind === 'malformed') return send(200, '<html>not an API</html>');
        dims = s.script.dimensions;
      }
      // In reverse order: a client must place each vector by its index, not by its position.
      const data = texts.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t, dims) })).reverse();
      send(200, JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: texts.length, total_tokens: texts.length } }));
    } finally {
      this.inFlight--;
    }
  }

  close(): Promise<void> {
    this.resume();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
