// Owns asynchronous ingest: accepting a job (validated, then recorded durably before the 202),
// and the runner that works through queued jobs one batch at a time. A batch is planned,
// embedded and committed under the collection's write lock, and its documents and their item
// states are committed in one transaction (storage/jobs.ts), so a job killed at any moment
// resumes at its first uncommitted document. Vectors made for a batch that never committed are
// in the embedding cache, so resuming does not embed them again.
import type { Engine } from '../engine/index.js';
import { QuiverError, createError } from '../errors/index.js';
import type { Embedder } from '../embedding/index.js';
import { EmbedError } from '../embedding/index.js';
import type { ChunkingSpec, Collection, DocumentWrite, ItemOutcome, JobItem, JobKind, JobRow } from '../storage/index.js';
import { chunkText } from './chunking.js';
import type { DocumentInput } from './pipeline.js';
import { effectiveChunking, embedTexts, planDocuments, validateDocuments } from './pipeline.js';

/** How long the runner sleeps when idle before looking for work again (it is also woken on submit). */
const IDLE_POLL_MS = 2_000;

export interface IngestProgress {
  /** Documents finished (done, skipped or failed) per second, averaged over recent batches. */
  docsPerSecond: number;
}

/**
 * Computes the answer of a job without items (e.g. clustering) from its stored params. Registered
 * by the layer that owns the computation (the API wires query/cluster.ts), so ingest does not
 * depend on query.
 */
export type TaskHandler = (collection: Collection, params: unknown) => Promise<unknown>;

export class JobRunner {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly tasks = new Map<Exclude<JobKind, 'ingest'>, TaskHandler>();
  /** Exponentially weighted documents/s, for Retry-After and the metrics. */
  private rate = 0;
  /** The ingest job being worked on, if any. */
  current: string | undefined;
  /** Documents finished since start, by outcome (metrics). */
  readonly finished = { done: 0, skipped: 0, failed: 0 };

  constructor(private readonly engine: Engine) {}

  /** Lets jobs of this kind run (one at a time, beside ingest jobs). Register before start(). */
  registerTask(kind: Exclude<JobKind, 'ingest'>, handler: TaskHandler): void {
    this.tasks.set(kind, handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops.push(this.run('ingest', (job) => this.runJob(job)));
    // Task loops are not awaited by stop(): a computation may take minutes and is simply run
    // again after the restart, so shutdown does not wait for it.
    for (const [kind, handler] of this.tasks) void this.run(kind, (job) => this.runTask(job, handler));
  }

  /**
   * Stops after the ingest batch in flight; unfinished jobs stay queued or running and resume at
   * the next start. A running task is abandoned (it writes nothing once stopped) and rerun then.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await Promise.all(this.loops.splice(0));
  }

  /** A job was submitted or cancelled: look now rather than at the next poll. */
  notify(): void {
    for (const wake of this.wakers) wake();
  }

  get progress(): IngestProgress {
    return { docsPerSecond: this.rate };
  }

  /**
   * Accepts a job: validates it like a synchronous upsert (all or nothing, 4xx naming the field),
   * refuses it with 429 when the queue is full, records it durably and wakes the runner.
   */
  async submit(collectionName: string, documents: DocumentInput[], chunking: ChunkingSpec | undefined): Promise<JobRow> {
    const c = this.engine.collection(collectionName);
    validateDocuments(c, documents);
    // Loads the model now, so a collection whose model is missing is a 4xx here, not a failed job later.
    await this.engine.embedderFor(c);
    const pending = this.engine.jobs.pendingDocuments();
    const max = this.engine.config.ingest.maxPending;
    if (pending + documents.length > max) {
      // Long enough for the queue to shrink by the excess at the recent rate; 1 s before any
      // batch has been timed (a guess of 1 document/s would tell clients to wait minutes).
      const excess = pending + documents.length - max;
      const retryAfter = this.rate > 0 ? Math.min(60, Math.max(1, Math.ceil(excess / this.rate))) : 1;
      throw createError('QUEUE_FULL', { pending, max, requested: documents.length, retryAfter });
    }
    const job = this.engine.jobs.create(c.id, chunking ?? null, documents);
    this.engine.log.info({ job: job.id, collection: c.name, documents: documents.length }, 'ingest job queued');
    this.notify();
    return job;
  }

  /** Cancels a queued or running job: documents already committed stay, the batch in flight is dropped. */
  cancel(jobId: string): JobRow {
    const job = this.engine.jobs.get(jobId);
    if (!job) throw createError('JOB_NOT_FOUND', { id: jobId });
    if (this.engine.jobs.finish(jobId, 'cancelled')) {
      this.engine.log.info({ job: jobId }, 'ingest job cancelled');
      this.notify();
    }
    return this.engine.jobs.get(jobId)!;
  }

  /** Accepts a job without items (a computation); the result is stored on the job. */
  submitTask(collectionName: string, kind: Exclude<JobKind, 'ingest'>, params: unknown): JobRow {
    if (!this.tasks.has(kind)) throw new Error(`no handler for ${kind} jobs`);
    const c = this.engine.collection(collectionName);
    const job = this.engine.jobs.createTask(c.id, kind, params);
    this.engine.log.info({ job: job.id, collection: c.name, kind }, 'job queued');
    this.notify();
    return job;
  }

  /** Works through the jobs of one kind, oldest first, until stopped. */
  private async run(kind: JobKind, work: (job: JobRow) => Promise<void>): Promise<void> {
    while (this.running) {
      const job = this.engine.jobs.nextRunnable(kind);
      if (!job) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.wakers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, IDLE_POLL_MS);
          this.wakers.add(wake);
        });
        continue;
      }
      if (kind === 'ingest') this.current = job.id;
      try {
        await work(job);
      } catch (err) {
        if (!this.running) return; // stopping: the database may be closed; the job resumes at the next start
        // Anything unexpected (disk full, a bug) fails this job rather than looping on it forever.
        const message = err instanceof Error ? err.message : String(err);
        this.engine.log.error({ job: job.id, kind, err: message }, 'job failed');
        // The job's error is shown to clients: our own errors say what to fix; anything else (an
        // SQLite message, a bug) stays in the log, as the API does for a request (api/errors.ts).
        this.engine.jobs.finish(job.id, 'failed', err instanceof QuiverError ? message : createError('INTERNAL', {}).message);
      } finally {
        if (kind === 'ingest') this.current = undefined;
      }
    }
  }

  /** A job without items: compute, store the answer. Rerun from the start after a restart. */
  private async runTask(job: JobRow, handler: TaskHandler): Promise<void> {
    const c = this.engine.collections.get(job.collection);
    if (!c || c.id !== job.collectionId) return;
    this.engine.jobs.markStarted(job.id);
    const started = performance.now();
    const result = await handler(c, job.params);
    if (!this.running) return;
    if (this.engine.jobs.finishTask(job.id, result)) {
      this.engine.log.info({ job: job.id, kind: job.kind, ms: Math.round(performance.now() - started) }, 'job done');
    }
  }

  private async runJob(job: JobRow): Promise<void> {
    const c = this.engine.collections.get(job.collection);
    if (!c || c.id !== job.collectionId) return; // the collection was deleted: its jobs went with it
    this.engine.jobs.markStarted(job.id);
    if (job.status === 'queued') this.engine.log.info({ job: job.id, collection: c.name, total: job.total }, 'ingest job started');
    else this.engine.log.info({ job: job.id, collection: c.name, done: job.done + job.failed, total: job.total }, 'ingest job resumed');
    let embedder: Embedder | undefined;
    try {
      embedder = await this.engine.embedderFor(c);
    } catch (err) {
      this.engine.jobs.finish(job.id, 'failed', `the embedding model could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const spec = effectiveChunking(c, job.chunking);
    const size = this.engine.config.ingest.batch;
    let items = this.engine.jobs.pendingItems(job.id, size);
    while (this.running) {
      const now = this.engine.jobs.get(job.id);
      if (!now || now.status !== 'running') return; // cancelled, or deleted with its collection
      if (items.length === 0) {
        this.engine.jobs.finish(job.id, 'done');
        const end = this.engine.jobs.get(job.id)!;
        this.engine.log.info({ job: job.id, collection: c.name, done: end.done, skipped: end.skipped, failed: end.failed }, 'ingest job done');
        return;
      }
      const started = performance.now();
      // Pipelining: the next batch is embedded into the cache while this one commits and updates
      // the index on the main thread, so the workers do not wait for it.
      const following = this.engine.jobs.pendingItemsAfter(job.id, items[items.length - 1]!.position, size);
      const warming = embedder ? this.warm(embedder, spec, following) : Promise.resolve();
      try {
        await this.runBatch(job.id, c, embedder, spec, items);
      } catch (err) {
        if (err instanceof EmbedError && err.kind === 'fatal') {
          this.engine.jobs.finish(job.id, 'failed', err.reason);
          this.engine.log.error({ job: job.id, err: err.reason }, 'ingest job failed');
          return;
        }
        throw err;
      }
      await warming;
      const perSecond = items.length / Math.max(1e-3, (performance.now() - started) / 1000);
      this.rate = this.rate === 0 ? perSecond : 0.8 * this.rate + 0.2 * perSecond;
      items = following;
    }
  }

  /**
   * Embeds the texts of the next batch into the embedding cache ahead of time. Best effort: any
   * failure is left for the batch itself to meet and report, per document.
   */
  private async warm(embedder: Embedder, spec: ChunkingSpec, items: JobItem[]): Promise<void> {
    const texts: string[] = [];
    for (const item of items) {
      const d = item.document as DocumentInput;
      if (d.vector !== undefined || typeof d.text !== 'string') continue;
      for (const span of chunkText(d.text, spec)) texts.push(d.text.slice(span.start, span.end));
    }
    if (texts.length === 0) return;
    try {
      await embedTexts(this.engine, embedder, texts, true, { retries: 0, baseMs: 1 });
    } catch {
      // the batch will embed (and retry) these texts itself
    }
  }

  /** One batch: plan, embed (each failure isolated to its document), commit, update the index. */
  private async runBatch(jobId: string, c: Collection, embedder: Embedder | undefined, spec: ChunkingSpec, items: { position: number; document: unknown }[]): Promise<void> {
    await this.engine.withWriteLock(c.id, async () => {
      // The collection may have been deleted while this batch waited for the lock.
      if (this.engine.collections.get(c.name)?.id !== c.id) return;
      const outcomes: ItemOutcome[] = [];
      const valid: { position: number; input: DocumentInput; vector: Float32Array | undefined }[] = [];
      for (const item of items) {
        const input = item.document as DocumentInput;
        try {
          // Checked at submit; checked again because the stored row is what runs.
          const [vector] = validateDocuments(c, [input]);
          valid.push({ position: item.position, input, vector });
        } catch (err) {
          outcomes.push({ position: item.position, state: 'failed', error: err instanceof Error ? err.message : String(err) });
        }
      }
      const plans = planDocuments(
        this.engine,
        c,
        valid.map((v) => v.input),
        valid.map((v) => v.vector),
        spec,
      );
      const failedAt = new Map<number, string>();
      const toEmbed = plans.flatMap((p, i) => p.toEmbed.map((t) => ({ ...t, planIndex: i })));
      if (toEmbed.length > 0 && embedder) {
        const retry = { retries: this.engine.config.ingest.retries, baseMs: this.engine.config.ingest.retryBaseMs };
        const { results } = await embedTexts(
          this.engine,
          embedder,
          toEmbed.map((t) => t.text),
          true,
          retry,
        );
        toEmbed.forEach((t, i) => {
          const v = results[i];
          if (v instanceof EmbedError) {
            if (!failedAt.has(t.planIndex)) failedAt.set(t.planIndex, t.chunk.index > 0 || plans[t.planIndex]!.toEmbed.length > 1 ? `chunk ${t.chunk.index}: ${v.reason}` : v.reason);
          } else t.chunk.vector = v ?? null;
        });
      }
      const writes: DocumentWrite[] = [];
      plans.forEach((p, i) => {
        const position = valid[i]!.position;
        const error = failedAt.get(i);
        if (error !== undefined) outcomes.push({ position, state: 'failed', error });
        else {
          if (p.write) writes.push(p.write);
          outcomes.push({ position, state: p.kind === 'unchanged' ? 'skipped' : 'done' });
        }
      });
      // Cancelled while this batch was embedding: nothing more of the job is written. No await
      // between this check and the commit, so a cancel cannot slip in between.
      if (this.engine.jobs.get(jobId)?.status !== 'running') return;
      const changes = this.engine.jobs.commitBatch(c.id, jobId, writes, outcomes);
      for (const o of outcomes) this.finished[o.state]++;
      await this.engine.indexes.apply(c.id, changes);
    });
  }
}
