// Owns "run this computation in a worker thread, and end it at a deadline": each running task has
// a worker thread to itself, its answer or its error comes back as a promise, and
// worker.terminate() ends it when the deadline passes. A timer on the main thread cannot stop a computation that runs on the main
// thread (the event loop is the thing it blocks); terminate() stops a worker's JavaScript even
// inside a loop that never yields, so a runaway computation costs at most its deadline of one core.
// The worker side answers with reply() from worker-reply.mjs. Workers are plain .mjs files: on
// Node 20 a worker thread does not inherit tsx's TypeScript loader.
import { Worker } from 'node:worker_threads';

/**
 * A worker that answered is kept (one per script) for the next task, instead of starting a thread
 * per task: a new thread loads its modules and compiles the arithmetic cold every time (measured
 * on a loaded 2-core box: ~250 ms to load ml-matrix, ~650 ms ml-kmeans, and k-means "auto" on 160
 * points ~500 ms cold against ~75 ms warm). A worker that missed its deadline, failed or crashed is
 * terminated, never reused; a kept one is busy with one task at a time.
 */
const idle = new Map<string, { worker: Worker; forget: () => void }>();

function take(url: URL): Worker {
  const kept = idle.get(url.href);
  if (!kept) return new Worker(url);
  idle.delete(url.href);
  // Only our own listeners: Worker keeps internal ones (removeAllListeners() stops its messages).
  kept.worker.off('error', kept.forget).off('exit', kept.forget);
  kept.worker.ref();
  return kept.worker;
}

function keep(url: URL, worker: Worker): void {
  if (idle.has(url.href)) {
    void worker.terminate();
    return;
  }
  worker.unref(); // an idle worker must not keep the process alive
  // Should it die while idle, forget it (and an 'error' event needs a listener).
  const forget = () => {
    if (idle.get(url.href)?.worker === worker) idle.delete(url.href);
  };
  worker.once('error', forget).once('exit', forget);
  idle.set(url.href, { worker, forget });
}

/** The worker did not answer within its deadline and was terminated. */
export class WorkerTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`the worker did not answer within ${ms} ms and was terminated`);
    this.name = 'WorkerTimeoutError';
  }
}

export interface WorkerTaskOptions {
  /** Milliseconds from now; the worker is terminated when they pass. */
  timeoutMs: number;
  /** Buffers inside the input to move to the worker instead of copying (they become unusable here). */
  transfer?: ArrayBuffer[];
  /**
   * Keep the worker for a later task if this one succeeds (default true). Pass false for big
   * inputs: an idle worker does not collect its garbage, so it would hold what the task allocated.
   */
  reuse?: boolean;
}

/** What worker-reply.mjs posts for each input. */
type Reply<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Sends `input` to a worker running `url` and resolves with the value it replies. Rejects with
 * WorkerTimeoutError at the deadline (the worker is terminated), with the worker's message when it
 * reports an error, and when it crashes or exits without replying.
 */
export function runWorkerTask<T>(url: URL, input: unknown, opts: WorkerTaskOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = take(url);
    const onMessage = (msg: Reply<T>) => settle(msg.ok && opts.reuse !== false, () => (msg.ok ? resolve(msg.value) : reject(new Error(msg.message))));
    const onError = (err: Error) => settle(false, () => reject(err));
    const onExit = (code: number) => settle(false, () => reject(new Error(`the worker exited (code ${code}) without answering`)));
    let settled = false;
    const settle = (reuse: boolean, done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (reuse) keep(url, worker);
      else {
        worker.on('error', () => {}); // anything it reports while dying is already answered
        void worker.terminate(); // after a deadline, this is what stops the computation
      }
      done();
    };
    const timer = setTimeout(() => settle(false, () => reject(new WorkerTimeoutError(opts.timeoutMs))), opts.timeoutMs);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(input, opts.transfer ?? []);
  });
}
