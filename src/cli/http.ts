// The small HTTP client the CLI's network commands share (`quiver ingest`, `quiver search`): the
// server's base URL and API key, JSON in and out, the server's {error: {code, message}} turned
// into an HttpError, and a server that cannot be reached turned into a message naming the URL.
// Also the commands' common options and how an error becomes an exit code:
//   0 success, 1 the server refused or some documents failed, 2 a usage error (bad arguments or
//   input files, server unreachable).
import type { Command, CommanderError } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';

/** The server's default address (src/config: QUIVER_HOST 127.0.0.1, QUIVER_PORT 8080). */
export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** How long one request may take before the server counts as not answering. */
const REQUEST_TIMEOUT_MS = 120_000;

/** An error the CLI reports in one line and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/** Bad arguments, bad input files, a server that cannot be reached: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The server answered with an error status; `message` is the server's own. */
export class HttpError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly serverMessage: string,
    /** The error's `details` object, if any. */
    readonly details: Record<string, unknown> | undefined,
    /** Seconds from a Retry-After header (429 and 503). */
    readonly retryAfterS: number | undefined,
  ) {
    super(`${serverMessage} (HTTP ${status}${code ? ` ${code}` : ''})`, 1);
  }
}

export interface ConnectionOptions {
  url: string;
  apiKey?: string;
}

export class QuiverClient {
  /** The base URL without a trailing slash; may carry a path prefix (a server behind a proxy). */
  readonly base: string;
  private readonly apiKey: string | undefined;

  constructor(opts: ConnectionOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new UsageError(`--url: "${opts.url}" is not a URL (expected something like ${DEFAULT_URL})`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url: expected an http:// or https:// URL, got "${opts.url}"`);
    if (u.search || u.hash) throw new UsageError(`--url: must not carry a query string or fragment: "${opts.url}"`);
    this.base = u.href.replace(/\/+$/, '');
    this.apiKey = opts.apiKey === '' ? undefined : opts.apiKey;
  }

  /**
   * Sends one request and parses the JSON answer with `schema`. Throws HttpError for an error
   * status, UsageError when the server cannot be reached or does not answer in time, and
   * CliError when the answer is not what this client understands. `signal` lets the caller stop
   * waiting (it then rejects with the abort reason).
   */
  async request<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown, signal?: AbortSignal): Promise<z.output<S>> {
    const init: RequestInit = { method, body: body === undefined ? undefined : JSON.stringify(body) };
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    return this.send(path, schema, init, body === undefined ? undefined : 'application/json', signal ? AbortSignal.any([signal, timeout]) : timeout, signal);
  }

  /**
   * POSTs a body produced as it is sent (NDJSON lines read from files), so it is never held
   * whole. No overall time limit: a long stream is fine as long as it keeps moving, which the
   * server checks (it answers 408 to a stalled body).
   */
  async stream<S extends z.ZodType>(path: string, schema: S, body: AsyncIterable<Uint8Array>, contentType: string, signal?: AbortSignal): Promise<z.output<S>> {
    // duplex: 'half' is what fetch requires of a streamed request body (undici).
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: ReadableStream.from(body), duplex: 'half' };
    return this.send(path, schema, init, contentType, signal, signal);
  }

  private async send<S extends z.ZodType>(path: string, schema: S, init: RequestInit, contentType: string | undefined, signal: AbortSignal | undefined, callerSignal: AbortSignal | undefined): Promise<z.output<S>> {
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    if (contentType !== undefined) headers['content-type'] = contentType;
    const target = `${this.base}${path}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(target, { ...init, headers, signal });
      text = await res.text();
    } catch (err) {
      // Stopped by the caller: not the server's fault.
      if (callerSignal?.aborted) throw err;
      throw this.unreachable(err);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw toHttpError(res, parsed, text);
    if (parsed === undefined) throw new CliError(`${method} ${target} answered ${res.status} with a body that is not JSON: ${snippet(text)}`, 1);
    const r = schema.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new CliError(`${method} ${target} answered with an unexpected body (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}); is ${this.base} a Quiver server?`, 1);
    }
    return r.data;
  }

  private unreachable(err: unknown): UsageError {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return new UsageError(`the Quiver server at ${this.base} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    }
    // fetch wraps the network error: TypeError('fetch failed', {cause: {code: 'ECONNREFUSED', ...}}).
    const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
    const reason = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
    return new UsageError(`cannot reach the Quiver server at ${this.base} (${reason}); is it running? Set --url or QUIVER_URL to its address`);
  }
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > 200 ? `${t.slice(0, 200)}…` : t);
}

function toHttpError(res: Response, parsed: unknown, text: string): HttpError {
  const e = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null | undefined)?.error;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : `${res.status} ${res.statusText}${text ? `: ${snippet(text)}` : ''}`;
  const details = e?.details !== null && typeof e?.details === 'object' ? (e.details as Record<string, unknown>) : undefined;
  return new HttpError(res.status, code, message, details, retryAfter(res.headers.get('retry-after')));
}

/** Retry-After is seconds or an HTTP date. */
function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** --url and --api-key, read from QUIVER_URL and QUIVER_API_KEY when not given. */
export function connectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'the server').env('QUIVER_URL').default(DEFAULT_URL))
    .addOption(new Option('--api-key <key>', 'API key, sent as "Authorization: Bearer <key>"').env('QUIVER_API_KEY'));
}

/** A commander argument parser for whole numbers in [min, max]. */
export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    const n = Number(value.trim());
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/**
 * Makes a command's argument errors (missing argument, unknown option, bad value) exit with 2
 * rather than commander's 1, which the network commands keep for "the server said no".
 */
export function usageErrorsExit2(cmd: Command): Command {
  return cmd.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
}

/** Runs a command's body: a CliError is one line on stderr and its exit code; anything else is a bug (1). */
export async function runCommand(name: string, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`quiver ${name}: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`quiver ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
