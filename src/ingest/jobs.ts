// Owns asynchronous ingest: accepting a job (checked and recorded durably a slice at a time by
// intake.ts, queued only when the whole request is in, before the 202), and the runner that works through queued jobs one batch at a time. A batch is planned,
// embedded and committed under the collection's write lock, and its documents and their item
// states are committed in one transaction (storage/jobs.ts), so a job killed at any moment
// resumes at its first uncommitted document. Vectors made for a batch that never committed are
// in the embedding cache, so resuming does not embed them again.
import type { Logger } from 'pino';
import type { Collection, CollectionRegistry, DocumentOutcome, FieldNamer } from '../collection/index.js';
import { documentsName } from '../collection/index.js';
import type { ChunkingSpec, DocumentInput, ItemOutcome, Job, JobItem, JobKind, TaskKind } from '../domain/types.js';
import { EmbedError } from '../embedding/index.js';
import { QuiverError, createError } from '../errors/index.js';
import type { DiskHealth, JobStore } from '../storage/index.js';
import { Receiving } from './intake.js';

/** How long the runner sleeps when idle before looking for work again (it is also woken on submit). */
const IDLE_POLL_MS = 2_000;

export interface IngestProgress {
  /** Documents finished (done, skipped or failed) per second, averaged over recent batches. */
  docsPerSecond: number;
}

/**
 * Computes the answer of a job without items (e.g. clustering) from its stored params. Registered
 * by the composition root (main wires query/cluster.ts), so ingest does not depend on query.
 */
export type TaskHandler = (collection: Collection, params: unknown) => Promise<unknown>;

export interface JobRunnerOptions {
  jobs: JobStore;
  /** Told of write errors; while the data dir's disk is full, jobs wait instead of failing. */
  disk: DiskHealth;
  collections: CollectionRegistry;
  log: Logger;
  /** Documents per batch (one embedding round and one transaction). */
  batch: number;
  /** Accepted-but-unprocessed documents above which submissions answer 429. */
  maxPending: number;
  /**
   * Cluster mode (docs/cluster.md): a batch is published to the collection's log instead of
   * written here. Its items count as done once the log acknowledged it, and the job's result is
   * the position of its last batch, which a client passes back as min_seq.
   */
  publish?: (c: Collection, documents: DocumentInput[], chunking: ChunkingSpec | undefined) => Promise<LogPosition>;
}

/** Where a published batch is in the log. */
export interface LogPosition {
  stream: string;
  seq: number;
}

export class JobRunner {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly tasks = new Map<TaskKind, TaskHandler>();
  private generation = 0;
  /** Task computations in flight, by job id. */
  private readonly computing = new Map<string, Promise<unknown>>();
  /** Exponentially weighted documents/s, for Retry-After and the metrics. */
  private rate = 0;
  /** Documents finished since start, by outcome (metrics). */
  readonly finished = { done: 0, skipped: 0, failed: 0 };

  constructor(private readonly opts: JobRunnerOptions) {}

  private get jobs(): JobStore {
    return this.opts.jobs;
  }

  private get log(): Logger {
    return this.opts.log;
  }

  /** Lets jobs of this kind run (one at a time, beside ingest jobs). Register before start(). */
  registerTask(kind: TaskKind, handler: TaskHandler): void {
    this.tasks.set(kind, handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // No request is in flight yet: a job still receiving was cut off by a crash, and never accepted.
    const cut = this.jobs.discardAllReceiving();
    if (cut > 0) this.log.warn({ jobs: cut }, 'deleted ingest jobs whose requests a crash cut off (they were never accepted)');
    // Each start is a new generation: a loop of an earlier one (a task loop that stop() did not
    // wait for) ends at its next turn instead of running beside this generation's.
    const generation = ++this.generation;
    this.loops.push(this.run('ingest', generation, (job) => this.runJob(job)));
    // Task loops are not awaited by stop(): a computation may take minutes and is simply run
    // again after the restart, so shutdown does not wait for it.
    for (const [kind, handler] of this.tasks) void this.run(kind, generation, (job) => this.runTask(job, handler, generation));
  }

  /** Whether loops of this generation should go on. */
  private live(generation: number): boolean {
    return this.running && this.generation === generation;
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
   * Starts accepting a job: 404 for an unknown collection, a 4xx if its model cannot be loaded
   * (rather than a failed job later), 429 when `expected` documents would not fit in the queue.
   * Documents then go through the Receiving (checked like a synchronous upsert, recorded a slice
   * at a time); only its commit() makes the job runnable.
   */
  async begin(collectionName: string, opts: { name: (position: number) => FieldNamer; expected?: number }): Promise<Receiving> {
    const c = this.opts.collections.get(collectionName);
    await c.embedder();
    if (opts.expected !== undefined) {
      const pending = this.jobs.pendingDocuments();
      if (pending + opts.expected > this.opts.maxPending) throw this.queueFull(pending, opts.expected);
    }
    return new Receiving({
      jobs: this.jobs,
      collection: c,
      jobId: this.jobs.begin(c.info.id),
      log: this.log,
      name: opts.name,
      maxPending: this.opts.maxPending,
      queueFull: (pending, requested) => this.queueFull(pending, requested),
      notify: () => this.notify(),
    });
  }

  /**
   * Accepts a job of documents already in memory: checked like a synchronous upsert (400 naming
   * "documents.3.vector"; nothing queued), 429 when the queue is full, recorded durably a slice
   * at a time, then queued and the runner woken.
   */
  async submit(collectionName: string, documents: DocumentInput[], chunking: ChunkingSpec | undefined): Promise<Job> {
    const r = await this.begin(collectionName, { name: documentsName, expected: documents.length });
    try {
      for (let i = 0; i < documents.length; i++) {
        r.push(i, documents[i]!);
        if (r.due) await r.flush();
      }
      return await r.commit(chunking);
    } catch (err) {
      await r.abort();
      throw err;
    }
  }

  /** 429 QUEUE_FULL, with a Retry-After long enough for the queue to shrink by the excess at the recent rate. */
  private queueFull(pending: number, requested: number) {
    const max = this.opts.maxPending;
    // 1 s before any batch has been timed (a guess of 1 document/s would tell clients to wait minutes).
    const excess = pending + requested - max;
    const retryAfter = this.rate > 0 ? Math.min(60, Math.max(1, Math.ceil(excess / this.rate))) : 1;
    return createError('QUEUE_FULL', { pending, max, requested, retryAfter });
  }

  /** Cancels a queued or running job: documents already committed stay, the batch in flight is dropped. */
  cancel(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw createError('JOB_NOT_FOUND', { id: jobId });
    if (this.jobs.finish(jobId, 'cancelled')) {
      this.log.info({ job: jobId }, 'ingest job cancelled');
      this.notify();
    }
    return this.jobs.get(jobId)!;
  }

  /** Accepts a job without items (a computation); the result is stored on the job. */
  submitTask(collectionName: string, kind: TaskKind, params: unknown): Job {
    if (!this.tasks.has(kind)) throw createError('NOT_READY', { reason: `no runner for ${kind} jobs in this process` });
    const c = this.opts.collections.get(collectionName);
    const job = this.jobs.createTask(c.info.id, kind, params);
    this.log.info({ job: job.id, collection: c.name, kind }, 'job queued');
    this.notify();
    return job;
  }

  /** Works through the jobs of one kind, oldest first, until stopped. */
  private async run(kind: JobKind, generation: number, work: (job: Job) => Promise<void>): Promise<void> {
    let pause = false; // after a full disk or an unreachable cluster log: wait for the poll or a wake (and go on waiting while the disk is full)
    while (this.live(generation)) {
      const job = pause ? undefined : this.jobs.nextRunnable(kind);
      pause &&= this.opts.disk.full;
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
      try {
        await work(job);
      } catch (err) {
        if (!this.live(generation)) return; // stopping: the database may be closed; the job resumes at the next start
        if (this.opts.disk.noteError(err)) {
          // A full disk passes: the job stays running and resumes at its first uncommitted document
          // once storage/disk-health.ts finds space again (tasks are computed again from the start).
          this.log.warn({ job: job.id, kind }, 'job paused: the disk holding the data dir is full');
          pause = true;
          continue;
        }
        if (err instanceof QuiverError && err.code === 'CLUSTER_UNAVAILABLE') {
          // The cluster's log is away (no NATS quorum): the job stays running and its batch is
          // published again at the next turn; the runner waits a poll first.
          this.log.warn({ job: job.id, kind, err: err.message }, 'job waiting: the cluster log is unavailable');
          pause = true;
          continue;
        }
        // Anything else unexpected (a bug) fails this job rather than looping on it forever.
        const message = err instanceof Error ? err.message : String(err);
        this.log.error({ job: job.id, kind, err: message }, 'job failed');
        // The job's error is shown to clients: our own errors say what to fix; anything else (an
        // SQLite message, a bug) stays in the log, as the API does for a request (api/errors.ts).
        this.jobs.finish(job.id, 'failed', err instanceof QuiverError ? message : createError('INTERNAL', {}).message);
      }
    }
  }

  /** The collection a job belongs to, unless it was deleted (its jobs went with it). */
  private collectionOf(job: Job): Collection | undefined {
    const c = this.opts.collections.find(job.collection);
    return c && c.info.id === job.collectionId ? c : undefined;
  }

  /** A job without items: compute, store the answer. Rerun from the start after a restart. */
  private async runTask(job: Job, handler: TaskHandler, generation: number): Promise<void> {
    const c = this.collectionOf(job);
    if (!c) return;
    this.jobs.markStarted(job.id);
    const started = performance.now();
    // A computation still running from before a stop() in this process is adopted, not started twice.
    let computing = this.computing.get(job.id);
    if (!computing) {
      computing = handler(c, job.params);
      this.computing.set(job.id, computing);
      const forget = () => this.computing.delete(job.id);
      computing.then(forget, forget);
    }
    const result = await computing;
    if (!this.live(generation)) return; // stopped meanwhile: the task runs again after the restart
    if (this.jobs.finishTask(job.id, result)) {
      this.log.info({ job: job.id, kind: job.kind, ms: Math.round(performance.now() - started) }, 'job done');
    }
  }

  private async runJob(job: Job): Promise<void> {
    const c = this.collectionOf(job);
    if (!c) return;
    this.jobs.markStarted(job.id);
    if (job.status === 'queued') this.log.info({ job: job.id, collection: c.name, total: job.total }, 'ingest job started');
    else this.log.info({ job: job.id, collection: c.name, done: job.done + job.failed, total: job.total }, 'ingest job resumed');
    try {
      await c.embedder();
    } catch (err) {
      this.jobs.finish(job.id, 'failed', `the embedding model could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const size = this.opts.batch;
    let items = this.jobs.pendingItems(job.id, size);
    while (this.running) {
      const now = this.jobs.get(job.id);
      if (!now || now.status !== 'running') return; // cancelled, or deleted with its collection
      if (items.length === 0) {
        this.jobs.finish(job.id, 'done');
        const end = this.jobs.get(job.id)!;
        this.log.info({ job: job.id, collection: c.name, done: end.done, skipped: end.skipped, failed: end.failed }, 'ingest job done');
        return;
      }
      const started = performance.now();
      // Pipelining: the next batch is embedded into the cache while this one commits and updates
      // the index, so the embedding workers do not wait for it.
      const following = this.jobs.pendingItemsAfter(job.id, items[items.length - 1]!.position, size);
      // Published batches are embedded by the cluster (workers or replicas), not here.
      const warming = this.opts.publish ? undefined : c.warm(following.map((i) => i.document as DocumentInput), job.chunking);
      try {
        await this.runBatch(job, c, items);
      } catch (err) {
        if (err instanceof EmbedError && err.kind === 'fatal') {
          this.jobs.finish(job.id, 'failed', err.reason);
          this.log.error({ job: job.id, err: err.reason }, 'ingest job failed');
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

  /** One batch through the collection's write door: each failure isolated to its document, item states committed with the documents. */
  private async runBatch(job: Job, c: Collection, items: JobItem[]): Promise<void> {
    if (this.opts.publish) return this.publishBatch(job, c, items, this.opts.publish);
    const result = await c.write(
      items.map((i) => i.document as DocumentInput),
      {
        onError: 'isolate-document',
        chunking: job.chunking,
        // Cancelled while this batch was embedding: nothing more of the job is written.
        proceed: () => this.jobs.get(job.id)?.status === 'running',
        record: (outcomes) => {
          const states: ItemOutcome[] = outcomes.map((o) => ({
            position: items[o.index]!.position,
            state: itemState(o),
            ...(o.error === undefined ? {} : { error: o.error }),
          }));
          this.jobs.recordOutcomes(job.id, states);
        },
      },
    );
    if (!result.committed) return;
    for (const o of result.outcomes) this.finished[itemState(o)]++;
  }

  /**
   * One batch to the cluster's log. The items were checked when the job was accepted, so each is
   * done once the log has it. A crash between the ack and the item states publishes the batch
   * again on resume: applying an upsert twice leaves the same documents (docs/cluster.md).
   */
  private async publishBatch(job: Job, c: Collection, items: JobItem[], publish: NonNullable<JobRunnerOptions['publish']>): Promise<void> {
    const at = await publish(c, items.map((i) => i.document as DocumentInput), job.chunking ?? undefined);
    // Cancelled while publishing: the batch is in the log (it will be applied), the job stays cancelled.
    if (this.jobs.get(job.id)?.status !== 'running') return;
    this.jobs.recordOutcomes(job.id, items.map((i) => ({ position: i.position, state: 'done' })), { stream: at.stream, seq: at.seq });
    this.finished.done += items.length;
  }
}

/** A job item's final state from its document's outcome: unchanged content is "skipped". */
function itemState(o: DocumentOutcome): ItemOutcome['state'] {
  return o.kind === 'failed' ? 'failed' : o.kind === 'unchanged' ? 'skipped' : 'done';
}
