// Owns the one error the client throws: QuiverApiError, for an error answer from the server (its
// {error: {code, message, details}} as sent) and for a call that got no usable answer at all
// (status 0: NETWORK_ERROR, TIMEOUT; or INVALID_RESPONSE when the answer is not Quiver's JSON).
// A call stopped by the caller's own AbortSignal rejects with the signal's reason instead, as
// fetch does: stopping is not a failure of the server.
import type { components } from './schema.js';

/** The server's closed catalogue of error codes (src/errors/index.ts, via the OpenAPI document). */
export type ServerErrorCode = components['schemas']['Error']['error']['code'];
/** Codes the client itself gives a call that got no usable answer. */
export type ClientErrorCode = 'NETWORK_ERROR' | 'TIMEOUT' | 'INVALID_RESPONSE';
/**
 * A newer server may send a code this client was not generated with; `(string & {})` keeps the
 * known codes as suggestions without refusing others.
 */
export type ErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

export interface QuiverApiErrorInit {
  status: number;
  code: ErrorCode;
  message: string;
  details?: unknown;
  requestId?: string;
  retryAfterMs?: number;
  method: string;
  url: string;
  cause?: unknown;
}

export class QuiverApiError extends Error {
  /** The HTTP status; 0 when no answer arrived (NETWORK_ERROR, TIMEOUT). */
  readonly status: number;
  readonly code: ErrorCode;
  /** The server's `details` (e.g. {issues: [{field, message}]} for VALIDATION_FAILED), as sent. */
  readonly details: unknown;
  /** The answer's x-request-id: the server logged the request under it. */
  readonly requestId: string | undefined;
  /** What the answer's Retry-After asked for (429, 503), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  readonly method: string;
  readonly url: string;

  constructor(init: QuiverApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'QuiverApiError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.method = init.method;
    this.url = init.url;
  }

  /** The error a non-2xx answer stands for; `body` is the answer, as text or already parsed. */
  static fromResponse(method: string, res: Response, body: unknown): QuiverApiError {
    let parsed = body;
    if (typeof body === 'string') {
      try {
        parsed = body === '' ? undefined : JSON.parse(body);
      } catch {
        parsed = undefined;
      }
    }
    const e = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null | undefined)?.error;
    const known = typeof e?.code === 'string' && typeof e.message === 'string';
    const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
    const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    return new QuiverApiError({
      status: res.status,
      // Not Quiver's error shape (a proxy's page, say): the status alone says what happened.
      code: known ? (e.code as string) : `HTTP_${res.status}`,
      message: known ? (e.message as string) : `${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`,
      details: known ? e.details : undefined,
      requestId: res.headers.get('x-request-id') ?? undefined,
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
      method,
      url: res.url,
    });
  }
}

/** Retry-After is whole seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const t = header.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
