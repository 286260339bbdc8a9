// Owns reading request bodies: the process-wide budget of body bytes held in memory at once
// (QUIVER_MAX_BODY_MEMORY), the chunk source that inflates gzip/deflate/br bodies and counts the
// inflated bytes against the budget as they come out, and the JSON body parser built on both.
// It replaces express.json (body-parser), which buffers each body up to its own limit before
// anyone can count it, so four 250 MB gzip bombs under a 256 MB limit were all held at once.
// Streaming readers (NDJSON ingest, api/v1/ingest.ts) use the same source and reservation.
import type { Request, RequestHandler, Response } from 'express';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { createError, QuiverError } from '../errors/index.js';

/** What a client is told to wait when the budget is full: bodies in flight are read and answered within seconds. */
const BUSY_RETRY_AFTER_S = 2;

/** Body bytes held at once over all requests. */
export class BodyBudget {
  private used = 0;
  /** Requests refused because the budget was full (metrics). */
  refused = 0;

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** A reservation for one request, given back whole when its response ends or its connection closes. */
  open(res: Response): Reservation {
    const r = new Reservation(this);
    res.once('close', () => r.close());
    return r;
  }

  /** @internal (Reservation) */
  tryTake(n: number): boolean {
    if (this.used + n > this.capacity) return false;
    this.used += n;
    return true;
  }

  /** @internal (Reservation) */
  give(n: number): void {
    this.used -= n;
  }
}

/** The bytes one request holds from the budget. */
export class Reservation {
  private held = 0;
  private closed = false;

  constructor(private readonly budget: BodyBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Counts `n` more bytes as held; 503 BODY_MEMORY_FULL when the budget cannot hold them. */
  take(n: number): void {
    if (this.closed) return; // the request is over: whatever still trickles in is discarded, not held
    if (!this.budget.tryTake(n)) {
      this.budget.refused++;
      throw createError('BODY_MEMORY_FULL', { capacity: this.budget.capacity, retryAfter: BUSY_RETRY_AFTER_S });
    }
    this.held += n;
  }

  /** Gives back bytes no longer held (an NDJSON slice once recorded). */
  release(n: number): void {
    const k = Math.min(n, this.held);
    this.held -= k;
    this.budget.give(k);
  }

  close(): void {
    this.release(this.held);
    this.closed = true;
  }
}

/** Whether the request declares a body at all (what type-is's hasBody tells body-parser). */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && !Number.isNaN(Number(length)));
}

/** How long the rest of a refused body is read (and thrown away) after the answer before the connection is cut. */
const DRAIN_MS = 30_000;

/**
 * Reads the rest of a body that will not be used, holding none of it (a refused gzip body is
 * read as it came, not inflated). Closing the connection instead would make a client still
 * writing (fetch, curl) fail with EPIPE before it reads the answer that says why; a client
 * that goes on past DRAIN_MS after the answer is cut off.
 */
function drain(req: Request, res: Response): void {
  req.resume();
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), DRAIN_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}

export interface BodySource {
  /** The body as it arrives, inflated; each chunk is already counted on the reservation. */
  chunks: AsyncIterable<Buffer>;
  /** Stops reading before the end (an error to answer): the rest is read and thrown away, not held. */
  stop(): void;
}

const aborted = () => createError('VALIDATION_FAILED', { issues: [{ field: 'body', message: 'the connection closed before the body was complete' }] });

/**
 * Opens the body of `req`. An unsupported Content-Encoding is a 400 here, before anything is read.
 * Reading stops with an error when the budget is full (503) or the client goes away.
 */
export function openBody(req: Request, res: Response, reservation: Reservation): BodySource {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let inner: Duplex;
  if (encoding === 'identity' || encoding === '') inner = new PassThrough();
  else if (encoding === 'gzip' || encoding === 'x-gzip') inner = zlib.createGunzip();
  else if (encoding === 'deflate') inner = zlib.createInflate();
  else if (encoding === 'br') inner = zlib.createBrotliDecompress();
  else throw createError('VALIDATION_FAILED', { issues: [{ field: 'body', message: `unsupported content encoding "${encoding}" (expected gzip, deflate, br or none)` }] });

  // pipe() does not pass errors on: a client that goes away must end the reader's loop. So must
  // an answer sent before the body is in (the 408 of app.ts): Node then detaches the request from
  // its socket, and it would never end or close.
  const onError = (err: Error) => inner.destroy(err);
  const onClose = () => {
    if (!req.complete) inner.destroy(aborted());
  };
  req.on('error', onError);
  req.on('close', onClose);
  res.on('close', onClose);
  req.pipe(inner);
  let stopped = false;

  const detach = () => {
    req.off('error', onError);
    req.off('close', onClose);
    res.off('close', onClose);
  };

  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      // Each inflated chunk is counted before it is handed on, so a bomb is stopped within one
      // chunk (16 KB) of the budget or the limit, not after it has been inflated whole.
      for await (const chunk of inner as AsyncIterable<Buffer>) {
        reservation.take(chunk.length);
        yield chunk;
      }
    } catch (err) {
      // A body that is not what its Content-Encoding says (zlib's Z_DATA_ERROR, brotli's format
      // errors) is the client's mistake: a 400 naming the encoding, not a 500.
      if (err instanceof QuiverError || encoding === 'identity' || encoding === '') throw err;
      throw createError('VALIDATION_FAILED', { issues: [{ field: 'body', message: `not valid ${encoding} data (${err instanceof Error ? err.message : String(err)})` }] });
    } finally {
      detach();
    }
  }

  return {
    chunks: chunks(),
    stop() {
      if (stopped) return;
      stopped = true;
      detach();
      req.unpipe(inner);
      inner.destroy();
      if (!req.complete) drain(req, res);
    },
  };
}

const CHARSETS: Record<string, string> = { 'utf-8': 'utf-8', utf8: 'utf-8', 'utf-16': 'utf-16le', 'utf-16le': 'utf-16le', 'utf-16be': 'utf-16be' };

/** The body's charset from Content-Type (default UTF-8); JSON is Unicode (RFC 8259), so nothing else is read. */
function charsetOf(req: Request): string {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '');
  if (!m) return 'utf-8';
  const label = m[1]!.toLowerCase();
  const charset = CHARSETS[label];
  if (!charset) throw createError('VALIDATION_FAILED', { issues: [{ field: 'body', message: `unsupported charset "${label.toUpperCase()}" (JSON is read as UTF-8 or UTF-16)` }] });
  return charset;
}

function decode(buf: Buffer, charset: string): string {
  // TextDecoder drops a byte-order mark, which JSON.parse would refuse.
  return new TextDecoder(charset).decode(buf);
}

/**
 * Reads an uncompressed body straight from the request's events, counting each chunk on the
 * reservation and against `limit` as openBody's source does, with the same errors (budget full,
 * too large, connection closed first). JSON bodies are almost always uncompressed and small: the
 * PassThrough and async iterator of openBody were ~4% of a query's server CPU (readJson 192 → 117 µs
 * a request in a CPU profile: benchmarks/FINDINGS.md, the lean request path), for nothing a plain body needs.
 */
function readIdentity(req: Request, res: Response, reservation: Reservation, limit: number): { done: Promise<Buffer[]>; stop(): void } {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  let detach = () => {};
  const done = new Promise<Buffer[]>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      detach();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onData = (chunk: Buffer) => {
      try {
        reservation.take(chunk.length);
        size += chunk.length;
        if (size > limit) throw createError('PAYLOAD_TOO_LARGE', { limit });
        chunks.push(chunk);
      } catch (err) {
        fail(err);
      }
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      detach();
      resolve(chunks);
    };
    // As in openBody: a client gone, or an answer sent before the body is in (app.ts's 408).
    const onClose = () => {
      if (!req.complete) fail(aborted());
    };
    detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', fail);
      req.off('close', onClose);
      res.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', fail);
    req.on('close', onClose);
    res.on('close', onClose);
  });
  return {
    done,
    stop() {
      detach();
      if (!req.complete) drain(req, res);
    },
  };
}

/** Reads and parses a JSON body within `limit` bytes (inflated), holding them on the budget until the request ends. */
async function readJson(req: Request, res: Response, limit: number, budget: BodyBudget): Promise<{ value: unknown } | undefined> {
  if (req.readableEnded || !hasBody(req)) return undefined;
  const charset = charsetOf(req);
  const declared = Number(req.headers['content-length']);
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const identity = encoding === 'identity' || encoding === '';
  // A declared length over the limit is refused before a byte is read.
  if (identity && declared > limit) {
    drain(req, res);
    throw createError('PAYLOAD_TOO_LARGE', { limit });
  }
  const reservation = budget.open(res);
  let chunks: Buffer[];
  let size = 0;
  if (identity) {
    const reader = readIdentity(req, res, reservation, limit);
    try {
      chunks = await reader.done;
    } catch (err) {
      reader.stop();
      reservation.close();
      throw err;
    }
    for (const c of chunks) size += c.length;
  } else {
    const source = openBody(req, res, reservation);
    chunks = [];
    try {
      for await (const chunk of source.chunks) {
        size += chunk.length;
        if (size > limit) throw createError('PAYLOAD_TOO_LARGE', { limit });
        chunks.push(chunk);
      }
    } catch (err) {
      source.stop();
      chunks.length = 0;
      reservation.close();
      throw err;
    }
  }
  // Held until the answer (the reservation stands for the parsed value as much as for the bytes).
  const text = decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), charset);
  chunks.length = 0;
  // An empty body reads as {}, as body-parser had it: a common client mistake, answered by the route's schema.
  if (text.trim() === '') return { value: {} };
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') throw createError('INVALID_JSON', { reason: `expected an object or an array, got ${JSON.stringify(text.trimStart().slice(0, 20))}` });
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    throw createError('INVALID_JSON', { reason: err instanceof Error ? err.message : String(err) });
  }
}

/** express middleware: `req.body` from a JSON body of at most `limit` bytes (whatever its Content-Type; routes check that). */
export function jsonBody(opts: { limit: number; budget: BodyBudget }): RequestHandler {
  return (req, res, next) => {
    readJson(req, res, opts.limit, opts.budget).then((body) => {
      if (body) req.body = body.value;
      next();
    }, next);
  };
}
