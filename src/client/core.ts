// Owns the transport half of the client that every handle shares: the base URL, the generated
// openapi-fetch client (typed by schema.ts), the options, and `call`, which sends one operation
// with the retry rule of transport.ts and turns an error answer into QuiverApiError.
import createClient from 'openapi-fetch';
import type { Client } from 'openapi-fetch';
import { QuiverApiError } from './errors.js';
import type { paths } from './schema.js';
import { callFetch } from './transport.js';
import type { CallPolicy, FetchLike, RetryInfo, RetryOptions } from './transport.js';

export interface QuiverClientOptions {
  /** The server, e.g. http://127.0.0.1:8080 (a path prefix is kept: a server behind a proxy). */
  url: string;
  /** Sent as "Authorization: Bearer <key>" when the server has QUIVER_API_KEYS. */
  apiKey?: string;
  /** The fetch to use (default globalThis.fetch): for tests, proxies, custom agents. */
  fetch?: FetchLike;
  /** Retries of calls that are safe to repeat (transport.ts); false: never retry. */
  retry?: RetryOptions | false;
  /** The limit of each attempt of a call, in ms (default 120,000); streamed uploads have none. */
  timeoutMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /**
   * Whether this runtime can send a request body as a stream (fetch's `duplex: 'half'`). Default:
   * yes on Node, Deno and Bun, no in browsers (most send streams only over HTTP/2, or not at all),
   * where an iterable is gathered into one body before it is sent.
   */
  streamRequests?: boolean;
}

/** What every call takes. */
export interface CallOptions {
  signal?: AbortSignal;
  /** This call's retries, over the client's; false: none. */
  retry?: RetryOptions | false;
  /** Told before each retry (e.g. "queue full, waiting 2 s"). */
  onRetry?: (info: RetryInfo) => void;
}

const DEFAULT_TIMEOUT_MS = 120_000;

function canStreamRequests(): boolean {
  const g = globalThis as { process?: { versions?: { node?: unknown } }; Deno?: unknown; Bun?: unknown };
  return typeof g.process?.versions?.node === 'string' || g.Deno !== undefined || g.Bun !== undefined;
}

/** An openapi-fetch result: data on 2xx, the parsed error body otherwise. */
export interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export class QuiverCore {
  /** The server's base URL, without a trailing slash. */
  readonly url: string;
  /** The generated, typed openapi-fetch client: every operation of the server's OpenAPI document. */
  readonly api: Client<paths>;
  readonly options: Readonly<QuiverClientOptions>;

  constructor(options: QuiverClientOptions) {
    let u: URL;
    try {
      u = new URL(options.url);
    } catch {
      throw new TypeError(`QuiverClient: "${options.url}" is not a URL (expected something like http://127.0.0.1:8080)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`QuiverClient: expected an http:// or https:// URL, got "${options.url}"`);
    if (u.search || u.hash) throw new TypeError(`QuiverClient: the URL must not carry a query string or fragment: "${options.url}"`);
    this.url = u.href.replace(/\/+$/, '');
    this.options = { ...options, streamRequests: options.streamRequests ?? canStreamRequests() };
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.apiKey !== undefined && options.apiKey !== '') headers.authorization = `Bearer ${options.apiKey}`;
    this.api = createClient<paths>({ baseUrl: this.url, headers });
  }

  /**
   * Sends one call through openapi-fetch with the transport of `policy` and returns its
   * data, or throws QuiverApiError for an error answer.
   */
  async call<T>(what: string, policy: Partial<CallPolicy>, o: CallOptions, send: (init: { fetch: FetchLike; signal?: AbortSignal }) => Promise<Answer<T>>): Promise<T> {
    let r: Answer<T>;
    try {
      r = await send(this.init(policy, o));
    } catch (err) {
      if (err instanceof QuiverApiError || o.signal?.aborted) throw err;
      // openapi-fetch parsing a 2xx body that is not JSON after all.
      if (err instanceof SyntaxError) {
        throw new QuiverApiError({ status: 0, code: 'INVALID_RESPONSE', message: `${what}: the answer is not JSON (${err.message}); is ${this.url} a Quiver server?`, method: what.split(' ')[0]!, url: this.url, cause: err });
      }
      throw err;
    }
    if (!r.response.ok) throw QuiverApiError.fromResponse(what.split(' ')[0]!, r.response, r.error);
    return r.data as T;
  }

  /** The per-call options openapi-fetch takes: our fetch wrapper and the caller's signal. */
  init(policy: Partial<CallPolicy>, o: CallOptions): { fetch: FetchLike; signal?: AbortSignal } {
    const full: CallPolicy = {
      idempotent: policy.idempotent ?? false,
      replayable: policy.replayable ?? true,
      retry: o.retry ?? policy.retry,
      timeoutMs: 'timeoutMs' in policy ? policy.timeoutMs : (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      onRetry: o.onRetry ?? policy.onRetry,
    };
    const base: FetchLike = this.options.fetch ?? ((req) => globalThis.fetch(req));
    return { fetch: callFetch(base, this.options.retry ?? {}, full), ...(o.signal ? { signal: o.signal } : {}) };
  }
}
