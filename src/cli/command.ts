// What the CLI's network commands share (`quiver ingest`, `quiver search`): their connection
// options and the typed client they make of them (src/client: the same client any program
// uses), a QuiverApiError told as one line (the server's message with status and code, or a
// server that cannot be reached named by its URL), and how an error becomes an exit code:
//   0 success, 1 the server refused or some documents failed, 2 a usage error (bad arguments or
//   input files, server unreachable).
import type { Command, CommanderError } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { QuiverApiError, QuiverClient } from '../client/index.js';

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

export interface ConnectionOptions {
  url: string;
  apiKey?: string;
}

/** The client for --url and --api-key; a URL the client refuses is a usage error. */
export function connect(opts: ConnectionOptions): QuiverClient {
  const { url } = opts;
  try {
    // A server that answers is kept waiting no longer than REQUEST_TIMEOUT_MS; streamed ingest bodies have no limit (the server times out a stalled one).
    return new QuiverClient({ url, timeoutMs: REQUEST_TIMEOUT_MS, ...(opts.apiKey ? { apiKey: opts.apiKey } : {}) });
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const reason = /not a URL/.test(err.message) ? `"${url}" is not a URL (expected something like ${DEFAULT_URL})` : err.message.replace(/^QuiverClient: /, '');
    throw new UsageError(`--url: ${reason}`);
  }
}

/** How a failed call is told: the server's own message with status and code, or why no answer came. */
export function apiFailure(err: QuiverApiError): CliError {
  let server: string;
  try {
    server = new URL(err.url).origin;
  } catch {
    server = err.url;
  }
  if (err.code === 'NETWORK_ERROR') {
    const reason = (err.details as { reason?: unknown } | undefined)?.reason;
    return new UsageError(`cannot reach the Quiver server at ${server} (${String(reason)}); is it running? Set --url or QUIVER_URL to its address`);
  }
  if (err.code === 'TIMEOUT') return new UsageError(`the Quiver server at ${server} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
  if (err.status === 0 || err.code === 'INVALID_RESPONSE') return new CliError(err.message, 1);
  return new CliError(describe(err), 1);
}

/** "collection "x" does not exist (HTTP 404 COLLECTION_NOT_FOUND)" */
export function describe(err: QuiverApiError): string {
  return `${err.message} (HTTP ${err.status}${err.code ? ` ${err.code}` : ''})`;
}

/** An answer that is an HTTP error (not a network failure or an unreadable answer). */
export function isHttpError(err: unknown): err is QuiverApiError {
  return err instanceof QuiverApiError && err.status > 0 && err.code !== 'INVALID_RESPONSE';
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
/** The value of a --filter option: JSON, or a usage error saying why not. */
export function filterOption(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new UsageError(`--filter is not valid JSON: ${(err as Error).message}`);
  }
}

export function usageErrorsExit2(cmd: Command): Command {
  return cmd.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
}

/** Runs a command's body: a CliError is one line on stderr and its exit code; anything else is a bug (1). */
export async function runCommand(name: string, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (caught) {
    let err = caught;
    if (err instanceof QuiverApiError) err = apiFailure(err);
    if (err instanceof CliError) {
      process.stderr.write(`quiver ${name}: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`quiver ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
