// Owns the ingest job tables (migrations/002_jobs.sql, 006): jobs and their documents, one row
// each. A job whose request is still arriving is 'receiving' (its documents are recorded a slice
// at a time): no read here shows it and the runner never picks it, until seal() makes it
// 'queued'; discard() deletes it. The job runner (src/ingest/jobs.ts) commits a batch of documents and the matching item states
// in one transaction, so after a crash an item is either pending (and its document was not
// written) or finished (and it was): resuming never writes or embeds a document twice.
import crypto from 'node:crypto';
import type { Db } from './database.js';
import type { ReceivedItem } from './store.js';
import type { ChunkingSpec, ItemOutcome, ItemState, Job, JobItem, JobKind, JobStatus, TaskKind } from '../domain/types.js';

interface JobDbRow {
  id: string;
  kind: JobKind;
  params: string | null;
  result: string | null;
  collection_id: number;
  collection: string;
  status: JobStatus;
  chunking: string | null;
  total: number;
  done: number;
  skipped: number;
  failed: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function toJob(r: JobDbRow): Job {
  return {
    id: r.id,
    kind: r.kind,
    params: r.params === null ? null : (JSON.parse(r.params) as unknown),
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    collectionId: r.collection_id,
    collection: r.collection,
    status: r.status,
    chunking: r.chunking === null ? null : (JSON.parse(r.chunking) as ChunkingSpec),
    total: r.total,
    done: r.done,
    skipped: r.skipped,
    failed: r.failed,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** Thrown inside append's transaction to roll the slice back. */
class DuplicateId extends Error {
  constructor(
    readonly position: number,
    readonly id: string,
    readonly first: number,
  ) {
    super(`duplicate id ${id}`);
  }
}

const SELECT_JOB = 'SELECT j.*, c.name AS collection FROM jobs j JOIN collections c ON c.id = j.collection_id';
/** Jobs still receiving their documents are nobody's business but their request's. */
const VISIBLE = "j.status != 'receiving'";

/** Rows deleted per statement when a received job is thrown away (each delete is a short transaction). */
const DISCARD_SLICE = 2000;

export class JobsRepo {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insertItem: db.prepare<[string, number, string, string]>('INSERT INTO job_items (job_id, position, document, doc_id) VALUES (?, ?, ?, ?)'),
      insertJob: db.prepare<[string, number, string | null, number, string]>(
        "INSERT INTO jobs (id, collection_id, status, chunking, total, created_at) VALUES (?, ?, 'queued', ?, ?, ?)",
      ),
      get: db.prepare<[string], JobDbRow>(`${SELECT_JOB} WHERE j.id = ? AND ${VISIBLE}`),
      insertReceiving: db.prepare<[string, number, string]>("INSERT INTO jobs (id, collection_id, status, total, created_at) VALUES (?, ?, 'receiving', 0, ?)"),
      isReceiving: db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM jobs WHERE id = ? AND status = 'receiving'"),
      positionOf: db.prepare<[string, string], { position: number }>('SELECT position FROM job_items WHERE job_id = ? AND doc_id = ? LIMIT 1'),
      addTotal: db.prepare<[number, string]>('UPDATE jobs SET total = total + ? WHERE id = ?'),
      seal: db.prepare<[string | null, string, string]>(
        "UPDATE jobs SET status = 'queued', chunking = ?, created_at = ? WHERE id = ? AND status = 'receiving'",
      ),
      zeroTotal: db.prepare<[string]>("UPDATE jobs SET total = 0 WHERE id = ? AND status = 'receiving'"),
      discardItems: db.prepare<[string, string, number]>(
        'DELETE FROM job_items WHERE job_id = ? AND position IN (SELECT position FROM job_items WHERE job_id = ? LIMIT ?)',
      ),
      discardJob: db.prepare<[string]>("DELETE FROM jobs WHERE id = ? AND status = 'receiving'"),
      discardAllReceiving: db.prepare<[]>("DELETE FROM jobs WHERE status = 'receiving'"),
      // Oldest first: jobs of a kind run in the order they were accepted.
      nextRunnable: db.prepare<[JobKind], JobDbRow>(`${SELECT_JOB} WHERE j.kind = ? AND j.status IN ('running', 'queued') ORDER BY j.created_at, j.rowid LIMIT 1`),
      insertTask: db.prepare<[string, JobKind, number, string, string]>(
        "INSERT INTO jobs (id, kind, collection_id, status, params, total, created_at) VALUES (?, ?, ?, 'queued', ?, 1, ?)",
      ),
      setResult: db.prepare<[string, string]>('UPDATE jobs SET result = ? WHERE id = ?'),
      finishTask: db.prepare<[string, string, string]>(
        "UPDATE jobs SET status = 'done', done = 1, result = ?, finished_at = ? WHERE id = ? AND status = 'running'",
      ),
      pendingItemsAfter: db.prepare<[string, number, number], { position: number; document: string }>(
        "SELECT position, document FROM job_items WHERE job_id = ? AND state = 'pending' AND position > ? ORDER BY position LIMIT ?",
      ),
      pendingItems: db.prepare<[string, number], { position: number; document: string }>(
        "SELECT position, document FROM job_items WHERE job_id = ? AND state = 'pending' ORDER BY position LIMIT ?",
      ),
      setItem: db.prepare<[ItemState, string | null, string, number]>(
        'UPDATE job_items SET state = ?, error = ?, document = NULL WHERE job_id = ? AND position = ?',
      ),
      addCounts: db.prepare<[number, number, number, string]>('UPDATE jobs SET done = done + ?, skipped = skipped + ?, failed = failed + ? WHERE id = ?'),
      start: db.prepare<[string, string]>("UPDATE jobs SET status = 'running', started_at = coalesce(started_at, ?) WHERE id = ? AND status IN ('queued', 'running')"),
      finish: db.prepare<[JobStatus, string | null, string, string]>(
        "UPDATE jobs SET status = ?, error = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'running')",
      ),
      errors: db.prepare<[string, number], { doc_id: string; error: string }>(
        "SELECT doc_id, error FROM job_items WHERE job_id = ? AND state = 'failed' ORDER BY position LIMIT ?",
      ),
      // Documents of jobs still being received count too, so concurrent streams share the bound.
      pendingTotal: db.prepare<[], { n: number | null }>(
        "SELECT sum(total - done - failed) AS n FROM jobs WHERE kind = 'ingest' AND status IN ('receiving', 'queued', 'running')",
      ),
      dropPayloads: db.prepare<[string]>("UPDATE job_items SET document = NULL WHERE job_id = ? AND state = 'pending'"),
      // A finished job keeps only the rows its errors list needs.
      dropFinishedItems: db.prepare<[string]>("DELETE FROM job_items WHERE job_id = ? AND state IN ('done', 'skipped')"),
      countByStatus: db.prepare<[], { status: JobStatus; n: number }>(`SELECT status, count(*) AS n FROM jobs j WHERE ${VISIBLE} GROUP BY status`),
    };
  }

  /** Records a job and all its documents in one transaction; returns the job as queued. */
  create(collectionId: number, chunking: ChunkingSpec | null, documents: { id: string }[]): Job {
    const id = `job_${crypto.randomBytes(12).toString('hex')}`;
    this.db.transaction(() => {
      this.stmts.insertJob.run(id, collectionId, chunking ? JSON.stringify(chunking) : null, documents.length, new Date().toISOString());
      documents.forEach((d, i) => this.stmts.insertItem.run(id, i, JSON.stringify(d), d.id));
    })();
    return this.get(id)!;
  }

  /** Starts a job whose documents will arrive in slices (append); nothing sees it until seal(). */
  begin(collectionId: number): string {
    const id = `job_${crypto.randomBytes(12).toString('hex')}`;
    this.stmts.insertReceiving.run(id, collectionId, new Date().toISOString());
    return id;
  }

  /**
   * Records a slice of a receiving job's documents in one transaction. Returns the first document
   * whose id the job already holds (nothing of the slice is then recorded), 'gone' when the job no
   * longer exists (its collection was deleted), else undefined.
   */
  append(jobId: string, items: ReceivedItem[]): { position: number; id: string; first: number } | 'gone' | undefined {
    try {
      return this.db.transaction(() => {
        if (this.stmts.isReceiving.get(jobId)!.n === 0) return 'gone' as const;
        for (const item of items) {
          const first = this.stmts.positionOf.get(jobId, item.docId);
          if (first) throw new DuplicateId(item.position, item.docId, first.position);
          this.stmts.insertItem.run(jobId, item.position, item.document, item.docId);
        }
        this.stmts.addTotal.run(items.length, jobId);
        return undefined;
      })();
    } catch (err) {
      if (err instanceof DuplicateId) return { position: err.position, id: err.id, first: err.first };
      throw err;
    }
  }

  /** Makes a receiving job runnable, as accepted now; false if it is gone. */
  seal(jobId: string, chunking: ChunkingSpec | null): boolean {
    return this.stmts.seal.run(chunking ? JSON.stringify(chunking) : null, new Date().toISOString(), jobId).changes > 0;
  }

  /**
   * Deletes part of a receiving job (its documents first, a slice per call, so no one statement
   * holds the database for long); true once the job is gone. It stops counting as pending at once.
   */
  discard(jobId: string): boolean {
    this.stmts.zeroTotal.run(jobId);
    if (this.stmts.discardItems.run(jobId, jobId, DISCARD_SLICE).changes === DISCARD_SLICE) return false;
    this.stmts.discardJob.run(jobId);
    return true;
  }

  /** Deletes every receiving job: at start-up, they are what a crash cut off mid-request. */
  discardAllReceiving(): number {
    return this.stmts.discardAllReceiving.run().changes;
  }

  get(id: string): Job | undefined {
    const r = this.stmts.get.get(id);
    return r && toJob(r);
  }

  /** Newest first; `after` is the id of the last job of the previous page. */
  list(filter: { collectionIds?: number[]; status?: JobStatus; kind?: JobKind; limit: number; after?: string }): Job[] {
    const where: string[] = [VISIBLE];
    const args: (string | number)[] = [];
    if (filter.kind !== undefined) {
      where.push('j.kind = ?');
      args.push(filter.kind);
    }
    if (filter.collectionIds !== undefined) {
      where.push(`j.collection_id IN (${filter.collectionIds.map(() => '?').join(', ') || 'NULL'})`);
      args.push(...filter.collectionIds);
    }
    if (filter.status !== undefined) {
      where.push('j.status = ?');
      args.push(filter.status);
    }
    if (filter.after !== undefined) {
      where.push('(j.created_at, j.rowid) < (SELECT created_at, rowid FROM jobs WHERE id = ?)');
      args.push(filter.after);
    }
    const sql = `${SELECT_JOB} WHERE ${where.join(' AND ')} ORDER BY j.created_at DESC, j.rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit) as JobDbRow[]).map(toJob);
  }

  /** Jobs per status (metrics). */
  countByStatus(): Record<JobStatus, number> {
    const out: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    for (const r of this.stmts.countByStatus.all()) out[r.status] = r.n;
    return out;
  }

  nextRunnable(kind: JobKind): Job | undefined {
    const r = this.stmts.nextRunnable.get(kind);
    return r && toJob(r);
  }

  /** Records a job without items (a computation over the collection); returns it as queued. */
  createTask(collectionId: number, kind: TaskKind, params: unknown): Job {
    const id = `job_${crypto.randomBytes(12).toString('hex')}`;
    this.stmts.insertTask.run(id, kind, collectionId, JSON.stringify(params), new Date().toISOString());
    return this.get(id)!;
  }

  /** Stores a running task's answer and marks it done; false if it was cancelled meanwhile. */
  finishTask(jobId: string, result: unknown): boolean {
    return this.stmts.finishTask.run(JSON.stringify(result), new Date().toISOString(), jobId).changes > 0;
  }

  /** The pending items after a position (the batch after the one in flight). */
  pendingItemsAfter(jobId: string, position: number, limit: number): JobItem[] {
    return this.stmts.pendingItemsAfter.all(jobId, position, limit).map((r) => ({ position: r.position, document: JSON.parse(r.document) as unknown }));
  }

  pendingItems(jobId: string, limit: number): JobItem[] {
    return this.stmts.pendingItems.all(jobId, limit).map((r) => ({ position: r.position, document: JSON.parse(r.document) as unknown }));
  }

  markStarted(jobId: string): void {
    this.stmts.start.run(new Date().toISOString(), jobId);
  }

  /** Moves a job that is still queued or running to a final state; false if it already had one. */
  finish(jobId: string, status: 'done' | 'failed' | 'cancelled', error: string | null = null): boolean {
    return this.db.transaction(() => {
      const changed = this.stmts.finish.run(status, error, new Date().toISOString(), jobId).changes > 0;
      // The documents of items that will never run are dead weight.
      if (changed && status !== 'done') this.stmts.dropPayloads.run(jobId);
      if (changed) this.stmts.dropFinishedItems.run(jobId);
      return changed;
    })();
  }

  /**
   * Records the outcomes of a batch of items and moves the job's counts. Call inside the
   * transaction that writes the batch's documents (Collection.write's `record`), so either both
   * are durable or neither is.
   */
  /**
   * Item states (and their counts) in one transaction; `result`, when given, replaces the job's
   * result in the same one (an ingest job in cluster mode: where in the log its last batch went).
   */
  recordOutcomes(jobId: string, outcomes: ItemOutcome[], result?: unknown): void {
    this.db.transaction(() => {
      if (result !== undefined) this.stmts.setResult.run(JSON.stringify(result), jobId);
      let done = 0;
      let skipped = 0;
      let failed = 0;
      for (const o of outcomes) {
        this.stmts.setItem.run(o.state, o.error ?? null, jobId, o.position);
        if (o.state === 'failed') failed++;
        else {
          done++;
          if (o.state === 'skipped') skipped++;
        }
      }
      this.stmts.addCounts.run(done, skipped, failed, jobId);
    })();
  }

  /** The first `limit` failed documents with their messages. */
  errors(jobId: string, limit: number): { documentId: string; message: string }[] {
    return this.stmts.errors.all(jobId, limit).map((r) => ({ documentId: r.doc_id, message: r.error }));
  }

  /** Documents accepted but not yet processed, over all unfinished jobs (for backpressure). */
  pendingDocuments(): number {
    return this.stmts.pendingTotal.get()?.n ?? 0;
  }
}
