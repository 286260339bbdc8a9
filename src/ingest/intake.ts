// Owns accepting an ingest job whose documents are recorded a slice at a time: a streamed NDJSON
// request, or a JSON one too big to check and record in one go without stalling the event loop.
// The job is 'receiving' until the whole request is in (storage/jobs.ts), so nothing runs and
// nothing is shown before the 202; a request that fails or is cut off deletes it, and start-up
// deletes what a crash left (JobRunner.start). Memory holds one slice, whatever the request's size.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Collection, FieldNamer } from '../collection/index.js';
import type { ChunkingSpec, DocumentInput, Job } from '../domain/types.js';
import type { QuiverError } from '../errors/index.js';
import { createError } from '../errors/index.js';
import type { JobStore, ReceivedItem } from '../storage/index.js';

/**
 * How long checking and recording may hold the event loop before yielding: a slice is recorded
 * once it has taken this long to build, so the transaction that follows is of the same order.
 */
const STEP_MS = 20;
/** At most this many documents, or this many bytes of their JSON, per transaction. */
const SLICE_MAX_ITEMS = 1000;
const SLICE_MAX_BYTES = 1024 * 1024;


export interface ReceivingOptions {
  jobs: JobStore;
  collection: Collection;
  jobId: string;
  log: Logger;
  /** Names the document at a position ("documents.3", "line 7") or one of its fields, for error messages. */
  name: (position: number) => FieldNamer;
  maxPending: number;
  /** The 429 for a queue that would pass its bound: `pending` documents of other jobs, `requested` of this one. */
  queueFull: (pending: number, requested: number) => QuiverError;
  /** Wakes the runner once the job is queued. */
  notify: () => void;
}

/** One job being received: push documents, flush when due, then commit (202) or abort. */
export class Receiving {
  private slice: ReceivedItem[] = [];
  private sliceBytes = 0;
  private stepStarted = performance.now();
  private recorded = 0;
  private over = false;

  constructor(private readonly opts: ReceivingOptions) {}

  get jobId(): string {
    return this.opts.jobId;
  }

  /** Documents received so far, recorded or in the slice being built. */
  get count(): number {
    return this.recorded + this.slice.length;
  }

  /** Checks a document against the collection (dimension, something to embed) and adds it to the slice; writes nothing. */
  push(position: number, document: DocumentInput): void {
    this.opts.collection.checkDocument(document, this.opts.name(position));
    const json = JSON.stringify(document);
    this.slice.push({ position, document: json, docId: document.id });
    this.sliceBytes += json.length;
  }

  /** The slice is full, or building it has held the event loop long enough: call flush(). */
  get due(): boolean {
    return this.slice.length >= SLICE_MAX_ITEMS || this.sliceBytes >= SLICE_MAX_BYTES || performance.now() - this.stepStarted >= STEP_MS;
  }

  /**
   * Records the slice in one transaction, then yields to the event loop. 429 QUEUE_FULL once the
   * queue would pass its bound (this job's documents count as they arrive, so concurrent streams
   * share it); 400 for an id the job already holds, naming both places.
   */
  async flush(): Promise<void> {
    const items = this.slice;
    if (items.length > 0) {
      this.slice = [];
      this.sliceBytes = 0;
      const pending = this.opts.jobs.pendingDocuments(); // this job's recorded documents included
      if (pending + items.length > this.opts.maxPending) throw this.opts.queueFull(pending - this.recorded, this.recorded + items.length);
      const r = this.opts.jobs.append(this.opts.jobId, items);
      if (r === 'gone') throw createError('COLLECTION_NOT_FOUND', { name: this.opts.collection.name });
      if (r) {
        const field = this.opts.name(r.position)('id');
        throw createError('VALIDATION_FAILED', { issues: [{ field, message: `"${r.id}" also appears at ${this.opts.name(r.first)()}` }] });
      }
      this.recorded += items.length;
    }
    await yieldToLoop();
    this.stepStarted = performance.now();
  }

  /** Records what is left and makes the job queued; the job as the 202 shows it. */
  async commit(chunking: ChunkingSpec | undefined): Promise<Job> {
    await this.flush();
    if (this.recorded === 0) throw createError('VALIDATION_FAILED', { issues: [{ field: 'body', message: 'must hold at least one document' }] });
    if (!this.opts.jobs.seal(this.opts.jobId, chunking ?? null)) throw createError('COLLECTION_NOT_FOUND', { name: this.opts.collection.name });
    this.over = true;
    this.opts.log.info({ job: this.opts.jobId, collection: this.opts.collection.name, documents: this.recorded }, 'ingest job queued');
    this.opts.notify();
    return this.opts.jobs.get(this.opts.jobId)!;
  }

  /** Deletes the job and what was recorded of it (a slice at a time, yielding between); nothing once committed. */
  async abort(): Promise<void> {
    if (this.over) return;
    this.over = true;
    this.slice = [];
    try {
      while (!this.opts.jobs.discard(this.opts.jobId)) await yieldToLoop();
    } catch (err) {
      // The store is closing (shutdown): the job stays 'receiving' and the next start deletes it.
      this.opts.log.warn({ job: this.opts.jobId, err: err instanceof Error ? err.message : String(err) }, 'an unfinished ingest request could not be deleted now');
    }
  }
}
