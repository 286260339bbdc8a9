// Owns how one call reaches the server: the fetch it goes through (injectable), the time limit of
// each attempt, and which failures are tried again. The rule, from what the server does:
//   - 429 QUEUE_FULL, 503 BODY_MEMORY_FULL and 503 NOT_READY are refused before anything is
//     written (src/ingest/intake.ts deletes what a refused ingest recorded; the body budget and the
//     readiness check come before any route), so any method may send them again, after the
//     answer's Retry-After or a back-off;
//   - a GET may also be sent again after a network error or a proxy's 502/504: it changes nothing;
//   - nothing else is repeated. A POST, PUT or DELETE whose connection broke may have been done
//     (503 REQUEST_TIMEOUT says so outright), and a body streamed from an iterable cannot be sent
//     twice.
// Attempts and the total time spent waiting between them are both bounded.
import { QuiverApiError, retryAfterMs } from './errors.js';

/** What the client calls to send a request: globalThis.fetch, or any function of the same shape. */
export type FetchLike = (request: Request) => Promise<Response>;

export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  attempts?: number;
  /** The most time one call spends waiting between attempts (default 60,000 ms). */
  maxWaitMs?: number;
  /** Back-off when no Retry-After is given: up to base·2ⁿ with full jitter (default 250 ms)... */
  baseDelayMs?: number;
  /** ...and never more than this (default 8,000 ms). */
  maxDelayMs?: number;
}

const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 4, maxWaitMs: 60_000, baseDelayMs: 250, maxDelayMs: 8_000 };

/** 503 codes the server answers before doing anything. */
const REFUSED_BEFORE_ACTING = new Set(['NOT_READY', 'BODY_MEMORY_FULL']);

export interface CallPolicy {
  /** GET: safe to repeat whatever happened. */
  idempotent: boolean;
  /** The body can be sent again (not a stream); false turns every retry off. */
  replayable: boolean;
  /** Overrides the client's retry options for this call; false: no retry. */
  retry?: RetryOptions | false;
  /** Limit of each attempt in ms; undefined: none (streamed bodies, which the server times out as they stall). */
  timeoutMs?: number;
  /** Told before each wait, e.g. to show "queue full, retrying in 2 s". */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  /** The answer that is retried; undefined after a network error. */
  status?: number;
  code?: string;
}

/** A signal that aborts when any of `signals` does (AbortSignal.any where the runtime has it). */
export function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  if (list.length <= 1) return list[0];
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(list);
  const c = new AbortController();
  for (const s of list) {
    if (s.aborted) {
      c.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => c.abort(s.reason), { once: true });
  }
  return c.signal;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function errorCode(res: Response): Promise<string | undefined> {
  try {
    const body = (await res.clone().json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `res` may be asked for again under `policy`, and its error code if it was read. */
async function retryable(res: Response, policy: CallPolicy): Promise<{ again: boolean; code?: string }> {
  if (res.status === 429) return { again: true, code: await errorCode(res) };
  if (res.status === 503) {
    const code = await errorCode(res);
    return { again: code !== undefined && REFUSED_BEFORE_ACTING.has(code), code };
  }
  if (policy.idempotent && (res.status === 502 || res.status === 504)) return { again: true };
  return { again: false };
}

function backoff(attempt: number, o: Required<RetryOptions>): number {
  return Math.random() * Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
}

/** fetch's network failure, with the system's reason when it gives one: TypeError('fetch failed', {cause: {code: 'ECONNREFUSED'}}). */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Wraps `fetch` for one call: each attempt gets a fresh copy of the request (a body can be read
 * only once) and its own time limit; what `policy` allows is tried again. Answers that are not
 * retried are returned as they are, error statuses included: the caller turns those into errors.
 */
export function callFetch(fetch: FetchLike, clientRetry: RetryOptions | false, policy: CallPolicy): FetchLike {
  const opts = policy.retry === false || clientRetry === false || !policy.replayable ? { ...DEFAULT_RETRY, attempts: 1 } : { ...DEFAULT_RETRY, ...clientRetry, ...policy.retry };
  return async (request) => {
    const caller = request.signal;
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const timeout = policy.timeoutMs === undefined ? undefined : AbortSignal.timeout(policy.timeoutMs);
      // A replayable request is copied so that the original's body is left for the next attempt.
      const attemptRequest = policy.replayable ? new Request(request.clone(), { signal: anySignal([caller, timeout]) ?? null }) : request;
      let res: Response | undefined;
      let failure: QuiverApiError | undefined;
      try {
        res = await fetch(attemptRequest);
      } catch (err) {
        if (caller?.aborted) throw caller.reason; // the caller stopped: not the server's fault
        const timedOut = timeout?.aborted === true;
        failure = new QuiverApiError({
          status: 0,
          code: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
          message: timedOut ? `no answer from ${origin(request.url)} within ${policy.timeoutMs} ms` : `cannot reach ${origin(request.url)} (${networkReason(err)})`,
          details: { reason: timedOut ? 'timeout' : networkReason(err) },
          method: request.method,
          url: request.url,
          cause: err,
        });
      }
      let delay: number | undefined;
      let info: RetryInfo | undefined;
      if (res !== undefined) {
        if (res.ok) return checkJson(request, res);
        const r = await retryable(res, policy);
        if (!r.again) return res;
        delay = retryAfterMs(res.headers.get('retry-after')) ?? backoff(attempt, opts);
        info = { attempt, delayMs: delay, status: res.status, code: r.code };
      } else {
        // Only a GET is sent again after the connection failed: anything else may have been done.
        if (!policy.idempotent || failure!.code === 'TIMEOUT') throw failure!;
        delay = backoff(attempt, opts);
        info = { attempt, delayMs: delay };
      }
      if (attempt >= opts.attempts || waited + delay > opts.maxWaitMs) {
        if (res !== undefined) return res;
        throw failure!;
      }
      policy.onRetry?.(info);
      if (res !== undefined) await res.body?.cancel().catch(() => undefined);
      await sleep(delay, caller ?? undefined);
      waited += delay;
    }
  };
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** A 2xx answer that should be JSON (or the events it asked for) and is not: the address is probably not a Quiver server. */
function checkJson(request: Request, res: Response): Response {
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 204 || request.method === 'HEAD' || type.includes('json') || res.headers.get('content-length') === '0') return res;
  // Server-sent events, when the request asked for them (answerStream).
  if (type.startsWith('text/event-stream') && (request.headers.get('accept') ?? '').includes('text/event-stream')) return res;
  throw new QuiverApiError({
    status: res.status,
    code: 'INVALID_RESPONSE',
    message: `${request.method} ${request.url} answered ${res.status} with ${type || 'no content type'}, not JSON; is ${origin(request.url)} a Quiver server?`,
    requestId: res.headers.get('x-request-id') ?? undefined,
    method: request.method,
    url: request.url,
  });
}
