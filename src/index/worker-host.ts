// Index hosts in worker threads. `IndexWorkers` is a small pool (QUIVER_INDEX_WORKERS threads,
// started on first use); each collection's index lives in exactly one of them, so memory holds
// one copy of every graph. A call is a message; typed arrays in it (vectors, label lists,
// results) are transferred, not copied, when the sender gives them up.
// A worker that dies (an uncaught error, a resource limit) fails its calls with IndexHostLost
// and is replaced by a fresh thread on the next call; the graphs it held are gone, and each
// index's owner (LocalVectorIndex) reloads its own from the snapshot and SQLite.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { IndexHostApi } from './index-host.js';

type Op = keyof IndexHostApi;

export interface HostRequest {
  id: number;
  op: Op;
  args: unknown[];
}

export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string } };

/** The buffers of the typed arrays directly inside a value (one level deep: results are flat). */
export function transferablesOf(value: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const take = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteLength === v.buffer.byteLength && !out.includes(v.buffer)) out.push(v.buffer);
  };
  take(value);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) for (const v of Object.values(value)) take(v);
  return out;
}

const BOOT_URL = new URL('./index-worker-boot.mjs', import.meta.url);

/** The thread that held an index is gone, and the graph with it: reload it and try again. */
export class IndexHostLost extends Error {
  override readonly name = 'IndexHostLost';
}

/** The graph is not where its owner left it: its thread died, or this is the thread that replaced it. */
export const isIndexHostLost = (err: unknown): boolean => err instanceof Error && (err.name === 'IndexHostLost' || err.name === 'IndexSlotMissing');

/** One worker thread with its host. Calls to it resolve in the order the worker finishes them. */
class WorkerIndexHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stopped: Error | undefined;
  /** Slots living here (collections), for placing new ones on the least loaded worker. */
  readonly keys = new Set<number>();
  readonly api: IndexHostApi = this.makeApi();

  /** False once the thread has stopped, whether it crashed or was stopped. */
  get alive(): boolean {
    return this.stopped === undefined;
  }

  constructor(
    readonly name: string,
    private readonly log: Logger,
  ) {
    // No inherited loader flags: the boot file registers the TypeScript loader itself.
    this.worker = new Worker(BOOT_URL, { execArgv: [], name });
    // An idle worker never keeps the process alive; one with calls in flight does.
    this.worker.unref();
    this.worker.on('message', (r: HostReply) => this.settle(r));
    this.worker.on('error', (err) => this.fail(new IndexHostLost(`index worker ${name} failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.fail(new IndexHostLost(`index worker ${name} exited with code ${code}`)));
  }

  private settle(r: HostReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.worker.unref();
    if (r.ok) p.resolve(r.value);
    else p.reject(Object.assign(new Error(r.error.message), { name: r.error.name }));
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = err;
    if (this.pending.size > 0 || this.keys.size > 0) this.log.error({ worker: this.name, err: err.message }, 'index worker lost; its indexes reload on their next use');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  call<T>(op: Op, args: unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const msg: HostRequest = { id, op, args };
      this.worker.postMessage(msg, transfer);
    });
  }

  async stop(): Promise<void> {
    this.fail(new Error(`index worker ${this.name} was stopped`));
    await this.worker.terminate();
  }

  /** Ends the thread the way a crash would: its calls fail with IndexHostLost. */
  async kill(): Promise<void> {
    await this.worker.terminate();
    this.fail(new IndexHostLost(`index worker ${this.name} was killed`));
  }

  /** The host API of this worker. Typed arrays passed in are transferred: the caller gives them up. */
  private makeApi(): IndexHostApi {
    return {
      load: (key, base, shape) => this.call('load', [key, base, shape]),
      create: (key, shape, capacity) => this.call('create', [key, shape, capacity]),
      remove: (key, labels) => this.call('remove', [key, labels], transferablesOf(labels)),
      add: (key, labels, vectors) => this.call('add', [key, labels, vectors], transferablesOf({ labels, vectors })),
      verify: (key, expected) => this.call('verify', [key, expected], transferablesOf(expected)),
      // The query is copied (it may be a view into a larger buffer the caller keeps); the
      // label lists are built for this call and transferred.
      search: (key, req) => this.call('search', [key, { ...req, query: req.query.slice() }], transferablesOf({ allow: req.allow, exclude: req.exclude })),
      stats: (key) => this.call('stats', [key]),
      save: (key, base, seq) => this.call('save', [key, base, seq]),
      drop: async (key, base) => {
        this.keys.delete(key);
        await this.call('drop', [key, base]);
      },
      release: async (key) => {
        this.keys.delete(key);
        await this.call('release', [key]);
      },
    };
  }
}

/** The pool of index worker threads; a collection is placed on the one holding the fewest. */
export class IndexWorkers {
  private readonly workers: WorkerIndexHost[] = [];
  private closed = false;
  private started = 0;

  constructor(
    private readonly count: number,
    private readonly log: Logger,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`index workers: expected a whole number ≥ 1, got ${count}`);
  }

  /**
   * The host API for the index of `key` (a collection id). Each call goes to the worker holding
   * `key` at that moment: after a worker is lost, to the fresh thread that replaced it.
   */
  hostFor(key: number): IndexHostApi {
    this.holder(key);
    const at = () => this.holder(key).api;
    return {
      load: (...a) => at().load(...a),
      create: (...a) => at().create(...a),
      remove: (...a) => at().remove(...a),
      add: (...a) => at().add(...a),
      verify: (...a) => at().verify(...a),
      search: (...a) => at().search(...a),
      stats: (...a) => at().stats(...a),
      save: (...a) => at().save(...a),
      drop: (...a) => at().drop(...a),
      release: (...a) => at().release(...a),
    };
  }

  /** Ends the thread holding `key` as a crash would (fault drills and tests). */
  async kill(key: number): Promise<void> {
    await this.workers.find((w) => w.keys.has(key))?.kill();
  }

  private holder(key: number): WorkerIndexHost {
    let i = this.workers.findIndex((w) => w.keys.has(key));
    if (i < 0) {
      if (this.workers.length < this.count) i = this.workers.push(this.start()) - 1;
      else i = this.workers.reduce((best, w, j) => (w.keys.size < this.workers[best]!.keys.size ? j : best), 0);
      this.workers[i]!.keys.add(key);
    }
    const w = this.workers[i]!;
    if (w.alive || this.closed) return w;
    // Lost: a fresh thread takes its place and its keys; their graphs are reloaded by their owners.
    const fresh = this.start();
    for (const k of w.keys) fresh.keys.add(k);
    this.workers[i] = fresh;
    return fresh;
  }

  private start(): WorkerIndexHost {
    return new WorkerIndexHost(`quiver-index-${++this.started}`, this.log);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.splice(0).map((w) => w.stop()));
  }
}
