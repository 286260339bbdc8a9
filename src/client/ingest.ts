// Owns bulk loading through ingest jobs (POST /v1/collections/{name}/ingest, GET /v1/jobs/{id}):
//   submitIngest  one job, one request: an array as JSON; an async iterable streamed as NDJSON,
//                 read as it is sent and never held whole (so it cannot be sent twice: a full
//                 queue is thrown to the caller, who knows how to read the documents again;
//                 the CLI does that from its files);
//   ingest        any number of documents: cut into batches of `batchSize`, each batch one job
//                 (an iterable's batch streamed as NDJSON, and kept so it can be sent again), a
//                 full queue (429) or a server short of body memory (503) waited out as Retry-After
//                 says, while the jobs already accepted are polled for progress (onProgress) until
//                 all are finished. Memory holds one batch at most.
import type { CallOptions, QuiverCore } from './core.js';
import { QuiverApiError } from './errors.js';
import { sleep } from './transport.js';
import { isFinished } from './types.js';
import type { ChunkingInput, DocumentInput, Job } from './types.js';

export interface SubmitIngestOptions extends CallOptions {
  chunking?: ChunkingInput;
}

export interface IngestOptions {
  chunking?: ChunkingInput;
  /** Documents per job (default 1,000; the server takes at most QUIVER_INGEST_MAX_DOCUMENTS). */
  batchSize?: number;
  /** Follow the jobs until all are finished (default true); false returns once all are accepted. */
  wait?: boolean;
  /** Told whenever the counts change, and while a batch waits for room in the queue. */
  onProgress?: (p: IngestProgress) => void;
  signal?: AbortSignal;
  /** First wait between polls of the jobs (default 100 ms), growing to 1 s while nothing changes. */
  pollMs?: number;
  /** The longest one batch waits for room in a full queue, over all its retries (default 10 min). */
  maxQueueWaitMs?: number;
}

export interface IngestProgress {
  /** Documents in all, when known (an array); undefined for an iterable still being read. */
  total: number | undefined;
  /** Documents accepted into jobs so far. */
  submitted: number;
  /** Documents committed (unchanged ones included), skipped (unchanged) and failed so far. */
  done: number;
  skipped: number;
  failed: number;
  /** Jobs accepted so far. */
  jobs: number;
  /** Set while a batch waits for room (429 QUEUE_FULL, 503 BODY_MEMORY_FULL): how long, and why. */
  waiting?: { delayMs: number; status: number | undefined; code: string | undefined };
}

export interface IngestResult {
  submitted: number;
  done: number;
  skipped: number;
  failed: number;
  /** Failed documents with the server's message (up to 100 per job). */
  errors: { document_id: string; message: string }[];
  /** Every job, as last seen: done, failed or cancelled when `wait` (the default). */
  jobs: Job[];
  /** Times a batch was refused for a full queue or body memory and sent again. */
  retries: number;
}

const PIECE_CHARS = 64 * 1024;

function chunkingQuery(c: ChunkingInput | undefined) {
  if (!c) return {};
  const q: { chunking: ChunkingInput['strategy']; max_tokens?: string; max_chars?: string; overlap?: string } = { chunking: c.strategy };
  if (c.max_tokens !== undefined) q.max_tokens = String(c.max_tokens);
  if (c.max_chars !== undefined) q.max_chars = String(c.max_chars);
  if (c.overlap !== undefined) q.overlap = String(c.overlap);
  return q;
}

/** NDJSON lines of `docs` as a byte stream, pulled as fetch sends it, in pieces of ~64 KB. */
function ndjsonStream(docs: AsyncIterable<DocumentInput>): ReadableStream<Uint8Array> {
  const it = docs[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      let piece = '';
      while (piece.length < PIECE_CHARS) {
        const next = await it.next();
        if (next.done) {
          if (piece) ctrl.enqueue(encoder.encode(piece));
          ctrl.close();
          return;
        }
        piece += `${JSON.stringify(next.value)}\n`;
      }
      ctrl.enqueue(encoder.encode(piece));
    },
    async cancel() {
      await it.return?.();
    },
  });
}

async function gather(docs: AsyncIterable<DocumentInput>): Promise<string> {
  let text = '';
  for await (const d of docs) text += `${JSON.stringify(d)}\n`;
  return text;
}

/** POSTs an NDJSON body: a string may be sent again, a stream only once. */
async function postNdjson(c: QuiverCore, name: string, body: string | ReadableStream<Uint8Array>, o: SubmitIngestOptions): Promise<Job> {
  const replayable = typeof body === 'string';
  const r = await c.call('POST /v1/collections/{name}/ingest', { replayable, ...(replayable ? {} : { timeoutMs: undefined }) }, o, (init) =>
    c.api.POST('/v1/collections/{name}/ingest', {
      ...init,
      params: { path: { name }, query: chunkingQuery(o.chunking) },
      // The document's body for this content type is a string; a stream is what fetch sends of it.
      body: body as string,
      bodySerializer: (b: unknown) => b,
      headers: { 'content-type': 'application/x-ndjson' },
      // fetch needs duplex 'half' to send a stream (not in the DOM's RequestInit type yet).
      ...(replayable ? {} : ({ duplex: 'half' } as object)),
    }),
  );
  return r.job;
}

export async function submitIngest(c: QuiverCore, name: string, documents: DocumentInput[] | AsyncIterable<DocumentInput>, o: SubmitIngestOptions): Promise<Job> {
  if (Array.isArray(documents)) {
    const body = { documents, ...(o.chunking ? { chunking: o.chunking } : {}) };
    const r = await c.call('POST /v1/collections/{name}/ingest', {}, o, (init) => c.api.POST('/v1/collections/{name}/ingest', { ...init, params: { path: { name } }, body }));
    return r.job;
  }
  // A runtime that cannot stream a request body gets it whole (and may then send it again).
  return postNdjson(c, name, c.options.streamRequests ? ndjsonStream(documents) : await gather(documents), o);
}

/** Whether the server refused before recording anything, so the same batch may be sent again. */
const refusedForRoom = (err: unknown): err is QuiverApiError =>
  err instanceof QuiverApiError && (err.status === 429 || (err.status === 503 && (err.code === 'BODY_MEMORY_FULL' || err.code === 'NOT_READY')));

export async function ingest(c: QuiverCore, name: string, source: DocumentInput[] | Iterable<DocumentInput> | AsyncIterable<DocumentInput>, o: IngestOptions): Promise<IngestResult> {
  const batchSize = o.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`ingest: batchSize must be a whole number >= 1, got ${batchSize}`);
  const run = new IngestRun(c, o, Array.isArray(source) ? source.length : undefined);
  // One signal for the sending and the polling: the caller's, or our own when one of them fails.
  const stop = new AbortController();
  const signal = stop.signal;
  const given = o.signal;
  if (given?.aborted) stop.abort(given.reason);
  else given?.addEventListener('abort', () => stop.abort(given.reason), { once: true });
  const follower = o.wait === false ? Promise.resolve() : run.follow(signal);
  try {
    if (Array.isArray(source)) {
      for (let i = 0; i < source.length; i += batchSize) await run.sendArray(name, source.slice(i, i + batchSize), signal);
    } else {
      const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
      while (!(await run.sendFromIterator(name, it, batchSize, signal)));
    }
    run.sending = false;
    await follower;
  } catch (err) {
    run.sending = false;
    stop.abort(err);
    await follower.catch(() => undefined);
    throw err;
  }
  return run.result();
}

function toAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return { next: () => Promise.resolve(it.next()), return: () => Promise.resolve(it.return?.() ?? { done: true, value: undefined }) };
}

class IngestRun {
  readonly jobs: Job[] = [];
  sending = true;
  private submitted = 0;
  private retries = 0;
  private last = '';

  constructor(
    private readonly c: QuiverCore,
    private readonly o: IngestOptions,
    private readonly total: number | undefined,
  ) {}

  private retryOptions(signal: AbortSignal) {
    return {
      signal,
      retry: { attempts: 10_000, maxWaitMs: this.o.maxQueueWaitMs ?? 600_000 },
      onRetry: (info: { delayMs: number; status?: number; code?: string }) => {
        this.retries++;
        this.report({ delayMs: info.delayMs, status: info.status, code: info.code });
      },
      ...(this.o.chunking ? { chunking: this.o.chunking } : {}),
    };
  }

  private accepted(job: Job): void {
    this.jobs.push(job);
    this.submitted += job.total;
    this.report();
  }

  async sendArray(name: string, batch: DocumentInput[], signal: AbortSignal): Promise<void> {
    this.accepted(await submitIngest(this.c, name, batch, this.retryOptions(signal)));
  }

  /**
   * Sends the next batch of the iterator; true when the iterator had nothing left. The batch is
   * streamed where the runtime can, and kept: refused for room, it is read to its end and sent
   * again, as a string, after the wait.
   */
  async sendFromIterator(name: string, it: AsyncIterator<DocumentInput>, batchSize: number, signal: AbortSignal): Promise<boolean> {
    const kept: DocumentInput[] = [];
    let ended = false;
    const take = async (): Promise<DocumentInput | undefined> => {
      if (ended || kept.length >= batchSize) return undefined;
      const next = await it.next();
      if (next.done) {
        ended = true;
        return undefined;
      }
      kept.push(next.value);
      return next.value;
    };
    const first = await take();
    if (first === undefined) return true;
    const lines = async function* () {
      yield first;
      for (let d = await take(); d !== undefined; d = await take()) yield d;
    };
    if (!this.c.options.streamRequests) {
      for (let d = await take(); d !== undefined; d = await take());
      this.accepted(await postNdjson(this.c, name, toNdjson(kept), this.retryOptions(signal)));
      return ended;
    }
    try {
      this.accepted(await postNdjson(this.c, name, ndjsonStream(lines()), { signal, ...(this.o.chunking ? { chunking: this.o.chunking } : {}) }));
    } catch (err) {
      if (!refusedForRoom(err)) throw err;
      // The server answered before reading the whole batch: the rest of it is read now, kept with
      // the beginning, and the batch goes again once there is room.
      for (let d = await take(); d !== undefined; d = await take());
      this.retries++;
      const delayMs = err.retryAfterMs ?? 1000;
      this.report({ delayMs, status: err.status, code: err.code });
      await sleep(delayMs, signal);
      this.accepted(await postNdjson(this.c, name, toNdjson(kept), this.retryOptions(signal)));
    }
    return ended;
  }

  /** Polls unfinished jobs (oldest first: after the first still queued, the rest are queued too) until sending is over and all are finished. */
  async follow(signal: AbortSignal): Promise<void> {
    let delay = this.o.pollMs ?? 100;
    for (;;) {
      let changed = false;
      for (let n = 0; n < this.jobs.length; n++) {
        const known = this.jobs[n]!;
        if (isFinished(known)) continue;
        const { job } = await this.c.call('GET /v1/jobs/{id}', { idempotent: true }, { signal }, (init) => this.c.api.GET('/v1/jobs/{id}', { ...init, params: { path: { id: known.id } } }));
        if (job.status !== known.status || job.done !== known.done || job.failed !== known.failed) changed = true;
        this.jobs[n] = job;
        if (job.status === 'queued') break;
      }
      if (changed) this.report();
      if (!this.sending && this.jobs.every(isFinished)) return;
      delay = changed ? (this.o.pollMs ?? 100) : Math.min(1000, Math.ceil(delay * 1.5));
      await sleep(delay, signal);
    }
  }

  private counts() {
    let done = 0;
    let skipped = 0;
    let failed = 0;
    for (const j of this.jobs) {
      done += j.done;
      skipped += j.skipped;
      failed += j.failed;
    }
    return { done, skipped, failed };
  }

  private report(waiting?: IngestProgress['waiting']): void {
    if (!this.o.onProgress) return;
    const p: IngestProgress = { total: this.total, submitted: this.submitted, ...this.counts(), jobs: this.jobs.length, ...(waiting ? { waiting } : {}) };
    const key = JSON.stringify(p);
    if (key === this.last && !waiting) return;
    this.last = key;
    this.o.onProgress(p);
  }

  result(): IngestResult {
    return { submitted: this.submitted, ...this.counts(), errors: this.jobs.flatMap((j) => j.errors), jobs: this.jobs, retries: this.retries };
  }
}

const toNdjson = (docs: DocumentInput[]) => docs.map((d) => `${JSON.stringify(d)}\n`).join('');
