// `quiver ingest <collection> <paths...>`: bulk-loads files through the server's ingest jobs.
// Inputs are read and checked first (src/cli/files.ts) and nothing is sent if any is invalid;
// then they are read again and streamed, batch by batch, each batch a job sent as NDJSON
// (POST /v1/collections/{name}/ingest, one document per line, written as it is read, so no
// batch is ever built in memory), while the jobs are polled (GET /v1/jobs/{id}) for progress
// until every one has finished. A full queue (429) or a server short of body memory (503
// BODY_MEMORY_FULL) is waited out as its Retry-After says and the batch read again from its
// first document; a batch larger than the queue may hold is split; a line the server finds too
// long (413) is reported as that document's failure and the rest sent. Exit codes: 0 every
// document ingested or unchanged, 1 some failed (or a job, or the server refused a batch), 2
// usage errors.
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { ChunkingInput, Job, QuiverClient } from '../client/index.js';
import { QuiverApiError, isFinished } from '../client/index.js';
import type { DocumentInput, InputFile } from './files.js';
import { findInputs, readInput, scanInputs } from './files.js';
import { CliError, UsageError, connect, connectionOptions, describe, intArg, isHttpError, runCommand, usageErrorsExit2 } from './command.js';

interface IngestOptions {
  url: string;
  apiKey?: string;
  batch: number;
  chunking?: 'none' | 'fixed' | 'sentence';
  maxTokens?: number;
  create?: boolean;
  progress: boolean;
  json?: boolean;
}

/** How often unfinished jobs are polled. */
const POLL_MS = 400;
/** Failed documents listed in the human summary (--json lists all the server reported). */
const SHOW_FAILURES = 20;

/** What the run reads of a job (`done` counts finished documents, unchanged ones included). */
type JobView = Pick<Job, 'id' | 'status' | 'total' | 'done' | 'skipped' | 'failed' | 'errors' | 'error'>;

export interface IngestSummary {
  collection: string;
  files: number;
  documents: number;
  jobs: number;
  /** Written: new, or changed text, vector or metadata. */
  ingested: number;
  /** Identical to what was stored: nothing written, nothing embedded. */
  skipped: number;
  failed: number;
  /** Left undone by a failed or cancelled job, or never sent because the server refused a batch. */
  not_processed: number;
  failures: { document_id: string; message: string }[];
  job_errors: { job: string; status: string; error: string | null }[];
  /** Why sending stopped early, if it did. */
  error: string | null;
  empty_files: string[];
  elapsed_s: number;
  docs_per_s: number;
}

export function ingestCommand(): Command {
  const cmd = new Command('ingest')
    .description('load .txt, .md, .json and .jsonl files (folders are walked) into a collection through ingest jobs')
    .argument('<collection>', 'the collection to load into')
    .argument('<paths...>', 'files or folders')
    .option('--batch <n>', 'documents per ingest job', intArg(1, 1_000_000), 5000)
    .addOption(new Option('--chunking <strategy>', 'how texts are cut into chunks (default: the collection\'s, else "sentence")').choices(['none', 'fixed', 'sentence']))
    .option('--max-tokens <n>', 'chunk size in tokens (with --chunking fixed or sentence; alone it means sentence)', intArg(8, 8192))
    .option('--create', 'create the collection (with the server\'s default model) if it does not exist')
    .option('--no-progress', 'no progress bar: one line per finished job on stderr')
    .option('--json', 'print the summary as JSON on stdout');
  return usageErrorsExit2(connectionOptions(cmd))
    .addHelpText(
      'after',
      `
Documents: a .txt or .md file is one document (id: its path inside the folder given, or its
name; metadata: {"source": path}); .json holds one document or an array; .jsonl one per line.
A document is {"id", "text"?, "vector"?, "metadata"?}. Hidden files and folders are passed over.
Exit status: 0 all ingested or unchanged, 1 some documents or jobs failed, 2 bad arguments, bad
input (reported as file:line; nothing is sent) or server unreachable.`,
    )
    .action((collection: string, paths: string[], opts: IngestOptions) => runCommand('ingest', () => ingest(collection, paths, opts)));
}

async function ingest(collection: string, paths: string[], opts: IngestOptions): Promise<number> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(collection)) throw new UsageError(`collection name ${JSON.stringify(collection)}: expected 1-64 characters from A-Z, a-z, 0-9, "_" and "-"`);
  if (opts.maxTokens !== undefined && opts.chunking === 'none') throw new UsageError('--max-tokens does not apply to --chunking none');
  const client = connect(opts);
  const chunking = opts.chunking ?? (opts.maxTokens !== undefined ? 'sentence' : undefined);
  const chunkingBody = chunking && { strategy: chunking, ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}) };

  const files = await findInputs(paths);
  const scan = await scanInputs(files);
  for (const f of scan.empty) process.stderr.write(`quiver ingest: ${f}: empty, passed over\n`);

  await ensureCollection(client, collection, opts.create === true);

  const ui = opts.progress && process.stderr.isTTY ? new BarProgress() : new LineProgress();
  const run = new IngestRun(client, collection, files, scan.perFile, opts.batch, chunkingBody, ui);
  ui.start(scan.documents, `ingesting ${scan.documents} document(s) from ${scan.files} file(s) into "${collection}"`);
  const onSigint = () => {
    ui.stop();
    const open = run.unfinishedJobs();
    const listed = open.length > 5 ? `${open.slice(0, 5).join(', ')} and ${open.length - 5} more` : open.join(', ');
    process.stderr.write(
      `\nquiver ingest: interrupted${open.length ? `; ${open.length} job(s) go on on the server: ${listed} (GET /v1/jobs?collection=${collection} lists them, POST /v1/jobs/{id}/cancel stops one)` : ''}\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    await run.run();
  } finally {
    process.off('SIGINT', onSigint);
    ui.stop();
  }

  const summary = run.summary(scan.files, scan.documents, scan.empty);
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stdout.write(formatSummary(summary));
  const ok = summary.failed === 0 && summary.not_processed === 0 && summary.job_errors.length === 0 && summary.error === null;
  return ok ? 0 : 1;
}

async function ensureCollection(client: QuiverClient, name: string, create: boolean): Promise<void> {
  try {
    await client.collections.get(name);
    return;
  } catch (err) {
    if (!(err instanceof QuiverApiError && err.status === 404 && err.code === 'COLLECTION_NOT_FOUND')) throw err;
    if (!create) throw new CliError(`${err.message}; pass --create to create it`, 1);
  }
  try {
    await client.collections.create({ name });
  } catch (err) {
    // Created by someone else in the meantime: just as good.
    if (!(err instanceof QuiverApiError && err.status === 409)) throw err;
  }
}

/** One ingest: sends the batches and follows the jobs, each in its own loop. */
class IngestRun {
  /** Every job sent, in order; updated by polling. */
  private readonly jobs: JobView[] = [];
  /** Documents the server refused one by one (413 for a single document). */
  private readonly refused: { document_id: string; message: string }[] = [];
  private sent = 0;
  private sendError: Error | undefined;
  private sending = true;
  private batchLimit: number;
  private readonly stop = new AbortController();
  /** Sends waiting for the queue to make room, checked after each poll. */
  private readonly waiters = new Set<() => void>();
  private startedAt = 0;
  private finishedAt = 0;

  constructor(
    private readonly client: QuiverClient,
    private readonly collection: string,
    private readonly files: InputFile[],
    /** Documents per file, from the scan. */
    private readonly perFile: number[],
    batch: number,
    private readonly chunking: ChunkingInput | undefined,
    private readonly ui: Progress,
  ) {
    this.batchLimit = batch;
  }

  unfinishedJobs(): string[] {
    return this.jobs.filter((j) => !isFinished(j)).map((j) => j.id);
  }

  async run(): Promise<void> {
    this.startedAt = performance.now();
    const sender = this.sendAll().then(
      () => undefined,
      (err: unknown) => {
        // The server refused a batch (a 4xx other than 413/429): jobs already accepted are still followed.
        if (isHttpError(err)) this.sendError = err;
        else if (!this.stop.signal.aborted) this.sendError = err instanceof Error ? err : new Error(String(err));
      },
    );
    const stopSending = sender.finally(() => (this.sending = false));
    try {
      for (;;) {
        await this.poll();
        this.ui.update(this.processed(), this.rate());
        if (!this.sending && this.unfinishedJobs().length === 0) break;
        // Wake early when sending ends, so a run whose jobs are done does not wait for the next tick.
        await Promise.race([sleep(POLL_MS), stopSending]);
      }
    } catch (err) {
      this.stop.abort();
      await sender;
      throw err;
    }
    await sender;
    this.finishedAt = performance.now();
    // A usage problem while sending (a file that changed since it was checked, the server gone) ends the run.
    if (this.sendError instanceof CliError || (this.sendError instanceof QuiverApiError && !isHttpError(this.sendError))) throw this.sendError;
  }

  /** Every document of the inputs in order, from document number `from` (counted over all files). */
  private async *documentsFrom(from: number): AsyncGenerator<DocumentInput> {
    let first = 0;
    for (let f = 0; f < this.files.length; f++) {
      const count = this.perFile[f] ?? 0;
      if (first + count <= from) {
        first += count; // a whole file before the start: not read
        continue;
      }
      let n = first;
      for await (const item of readInput(this.files[f]!)) {
        if (!item.ok) throw new UsageError(`${item.where}: ${item.message} (the file changed while it was being ingested)`);
        if (n++ >= from) yield item.document;
      }
      first += count;
    }
  }

  /** The id of document number `n` (counted over all files), read again. */
  private async idAt(n: number): Promise<string> {
    for await (const d of this.documentsFrom(n)) return d.id;
    return `#${n + 1}`;
  }

  private get total(): number {
    return this.perFile.reduce((a, b) => a + b, 0);
  }

  private async sendAll(): Promise<void> {
    // One reader goes through the inputs once; only a batch sent again is read again.
    const reader = this.documentsFrom(0);
    const total = this.total;
    for (let start = 0; start < total && !this.stop.signal.aborted; ) {
      const count = Math.min(this.batchLimit, total - start);
      await this.send(start, count, reader);
      start += count;
    }
  }

  /**
   * Sends documents [start, start + count) as one job, streamed as NDJSON: from `shared` (the
   * reader of the first pass, which is left after the batch whatever happens), or read again.
   * Waits out a full queue and splits a batch the server will not take whole.
   */
  private async send(start: number, count: number, shared?: AsyncGenerator<DocumentInput>): Promise<void> {
    let source = shared;
    for (;;) {
      let taken = 0;
      const from = source ?? this.documentsFrom(start);
      // The batch's documents as the client streams them (NDJSON, read from the files as it is sent).
      const batch = async function* (): AsyncGenerator<DocumentInput> {
        while (taken < count) {
          const next = await from.next();
          if (next.done) break;
          taken++;
          yield next.value;
        }
      };
      try {
        const job = await this.client.collection(this.collection).submitIngest(batch(), { signal: this.stop.signal, ...(this.chunking ? { chunking: this.chunking } : {}) });
        this.jobs.push({ ...job, done: 0, skipped: 0, failed: 0, errors: [], error: null });
        this.sent += count;
        return;
      } catch (err) {
        if (!isHttpError(err)) throw err;
        // The server answered before reading the whole batch: the first pass moves on past it.
        if (source) for (; taken < count && !(await source.next()).done; taken++);
        source = undefined;
        const details = err.details as { max?: unknown; line?: unknown; pending?: unknown } | undefined;
        const max = details?.max;
        const line = details?.line;
        if (err.status === 413 && typeof line === 'number' && line >= 1 && line <= count) {
          // One document's line is too long for the server: that document fails, the others go.
          this.refused.push({ document_id: await this.idAt(start + line - 1), message: err.message });
          if (line > 1) await this.send(start, line - 1);
          if (line < count) await this.send(start + line, count - line);
          return;
        }
        if (err.status === 413 || (err.status === 429 && typeof max === 'number' && count > max)) {
          if (count === 1) {
            this.refused.push({ document_id: await this.idAt(start), message: err.message });
            return;
          }
          // Later batches are made no bigger than what has to be tried now.
          const size = err.status === 413 ? Math.ceil(count / 2) : Math.max(1, max as number);
          this.batchLimit = Math.min(this.batchLimit, size);
          this.ui.note(`the server refused a batch of ${count} (${err.status === 413 ? 'too large' : `its queue holds at most ${String(max)}`}); sending batches of ${size}`);
          for (let i = 0; i < count; i += size) await this.send(start + i, Math.min(size, count - i));
          return;
        }
        if (err.status === 429 || (err.status === 503 && err.code === 'BODY_MEMORY_FULL')) {
          const wait = err.retryAfterMs === undefined ? 1 : Math.ceil(err.retryAfterMs / 1000);
          const pending = details?.pending;
          // The room this batch needs; when our own jobs free it, there is no need to sit out the rest of Retry-After.
          const needed = err.status === 429 && typeof pending === 'number' && typeof max === 'number' ? pending + count - max : undefined;
          const why = err.status === 429 ? "the server's ingest queue is full (HTTP 429)" : 'the server is holding as many request bodies as it may (HTTP 503)';
          this.ui.note(`${why}; retrying in ${wait} s${needed === undefined ? '' : ' or sooner'}`, wait);
          await this.waitForRoom(wait, needed);
          continue;
        }
        throw err;
      }
    }
  }

  /** Waits `seconds`, or less if `needed` more of this run's documents get processed first. */
  private waitForRoom(seconds: number, needed: number | undefined): Promise<void> {
    const target = needed === undefined ? Infinity : this.processed() + needed;
    const signal = this.stop.signal;
    return new Promise<void>((resolve, reject) => {
      const end = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal.removeEventListener('abort', abort);
      };
      const check = () => {
        if (this.processed() < target) return;
        end();
        resolve();
      };
      const abort = () => {
        end();
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        end();
        resolve();
      }, seconds * 1000);
      this.waiters.add(check);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  /**
   * Polls unfinished jobs in the order they were sent. The server runs jobs oldest first, so
   * after the first one still queued the rest are queued too and are not asked about yet.
   */
  private async poll(): Promise<void> {
    for (let n = 0; n < this.jobs.length; n++) {
      const known = this.jobs[n]!;
      if (isFinished(known)) continue;
      const job = await this.client.jobs.get(known.id, { signal: this.stop.signal });
      this.jobs[n] = job;
      if (isFinished(job)) this.ui.jobFinished(job, n + 1, this.sending ? undefined : this.jobs.length, this.processed(), this.rate());
      else if (job.status === 'queued') break;
    }
    for (const check of [...this.waiters]) check();
  }

  /** Documents finished one way or another. */
  private processed(): number {
    return this.jobs.reduce((n, j) => n + j.done + j.failed, 0) + this.refused.length;
  }

  private rate(): number {
    const s = ((this.finishedAt || performance.now()) - this.startedAt) / 1000;
    return s > 0 ? this.processed() / s : 0;
  }

  summary(files: number, documents: number, empty: string[]): IngestSummary {
    let done = 0;
    let skipped = 0;
    let failed = this.refused.length;
    let notProcessed = documents - this.sent - this.refused.length;
    const failures = [...this.refused];
    const jobErrors: IngestSummary['job_errors'] = [];
    for (const j of this.jobs) {
      done += j.done;
      skipped += j.skipped;
      failed += j.failed;
      failures.push(...j.errors);
      if (j.status !== 'done') {
        jobErrors.push({ job: j.id, status: j.status, error: j.error });
        notProcessed += j.total - j.done - j.failed;
      }
    }
    const elapsed = ((this.finishedAt || performance.now()) - this.startedAt) / 1000;
    return {
      collection: this.collection,
      files,
      documents,
      jobs: this.jobs.length,
      ingested: done - skipped,
      skipped,
      failed,
      not_processed: notProcessed,
      failures,
      job_errors: jobErrors,
      error: this.sendError ? (this.sendError instanceof QuiverApiError ? describe(this.sendError) : this.sendError.message) : null,
      empty_files: empty,
      elapsed_s: Math.round(elapsed * 1000) / 1000,
      docs_per_s: Math.round(this.rate() * 10) / 10,
    };
  }
}

function formatSummary(s: IngestSummary): string {
  const lines = [
    `ingested ${s.ingested}, skipped ${s.skipped} unchanged, failed ${s.failed}${s.not_processed ? `, not processed ${s.not_processed}` : ''}` +
      ` — ${s.documents} document(s) from ${s.files} file(s) into "${s.collection}" in ${s.elapsed_s < 10 ? s.elapsed_s.toFixed(2) : s.elapsed_s.toFixed(1)} s (${s.docs_per_s} docs/s)`,
  ];
  if (s.failures.length > 0) {
    lines.push('failed documents:');
    for (const f of s.failures.slice(0, SHOW_FAILURES)) lines.push(`  ${f.document_id}: ${f.message}`);
    const unlisted = s.failed - Math.min(s.failures.length, SHOW_FAILURES);
    if (unlisted > 0) lines.push(`  … and ${unlisted} more`);
  }
  for (const j of s.job_errors) lines.push(`job ${j.job} ${j.status}${j.error ? `: ${j.error}` : ''}`);
  if (s.error) lines.push(`stopped sending: ${s.error}`);
  return `${lines.join('\n')}\n`;
}

/** How the run reports progress on stderr. */
interface Progress {
  start(total: number, message: string): void;
  update(processed: number, rate: number): void;
  /** `of` is the number of jobs once all are sent. */
  jobFinished(job: JobView, index: number, of: number | undefined, processed: number, rate: number): void;
  /** Something the user should know about, relevant for about `seconds`. */
  note(message: string, seconds?: number): void;
  stop(): void;
}

const fmtRate = (r: number) => (r >= 100 ? r.toFixed(0) : r.toFixed(1));

/** A line per finished job: for logs, pipes and --no-progress. */
class LineProgress implements Progress {
  private total = 0;

  start(total: number, message: string): void {
    this.total = total;
    process.stderr.write(`${message}\n`);
  }

  update(): void {}

  jobFinished(job: JobView, index: number, of: number | undefined, processed: number, rate: number): void {
    const counts = `${job.done - job.skipped} ingested, ${job.skipped} skipped unchanged, ${job.failed} failed`;
    process.stderr.write(
      `job ${index}${of === undefined ? '' : `/${of}`} ${job.id} ${job.status}: ${counts}${job.error ? ` (${job.error})` : ''}; ${processed}/${this.total} documents, ${fmtRate(rate)} docs/s\n`,
    );
  }

  note(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  stop(): void {}
}

/** A cli-progress bar: documents done/total, documents/s and the time left. */
class BarProgress implements Progress {
  private readonly bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {percentage}% | {value}/{total} docs | {rate} docs/s | ETA {left}{note}',
      hideCursor: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  private active = false;
  /** Shown after the figures until `noteUntil` (a performance.now() time). */
  private noteText = '';
  private noteUntil = 0;
  private total = 0;

  start(total: number, message: string): void {
    process.stderr.write(`${message}\n`);
    this.total = total;
    this.bar.start(total, 0, { rate: '0', left: '-', note: '' });
    this.active = true;
  }

  private get notePayload(): string {
    return this.noteText && performance.now() < this.noteUntil ? ` | ${this.noteText}` : '';
  }

  update(processed: number, rate: number): void {
    if (!this.active) return;
    const left = rate > 0 ? formatSeconds((this.total - processed) / rate) : '-';
    this.bar.update(processed, { rate: fmtRate(rate), left, note: this.notePayload });
  }

  jobFinished(job: JobView): void {
    if (job.status !== 'done') this.note(`job ${job.id} ${job.status}`, 5);
  }

  note(message: string, seconds = 3): void {
    this.noteText = message;
    this.noteUntil = performance.now() + Math.max(2, seconds) * 1000;
    if (this.active) this.bar.update({ note: this.notePayload });
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.bar.stop();
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '-';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}
