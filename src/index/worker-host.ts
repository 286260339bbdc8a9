// Index hosts in worker threads. `IndexWorkers` is a small pool (QUIVER_INDEX_WORKERS threads,
// started on first use); each collection's index lives in exactly one of them, so memory holds
// one copy of every graph. A call is a message; typed arrays in it (vectors, label lists,
// results) are transferred, not copied, when the sender gives them up.
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

/** One worker thread with its host. Calls to it resolve in the order the worker finishes them. */
class WorkerIndexHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stopped: Error | undefined;
  /** Slots living here (collections), for placing new ones on the least loaded worker. */
  readonly keys = new Set<number>();

  constructor(
    readonly name: string,
    private readonly log: Logger,
  ) {
    // No inherited loader flags: the boot file registers the TypeScript loader itself.
    this.worker = new Worker(BOOT_URL, { execArgv: [], name });
    // An idle worker never keeps the process alive; one with calls in flight does.
    this.worker.unref();
    this.worker.on('message', (r: HostReply) => this.settle(r));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`index worker ${name} exited with code ${code}`)));
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
    if (this.pending.size > 0 || this.keys.size > 0) this.log.error({ worker: this.name, err: err.message }, 'index worker stopped; its indexes are unavailable until restart');
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

  /** The host API of this worker. Typed arrays passed in are transferred: the caller gives them up. */
  api(): IndexHostApi {
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

  constructor(
    private readonly count: number,
    private readonly log: Logger,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`index workers: expected a whole number ≥ 1, got ${count}`);
  }

  /** The host that will keep the index of `key` (a collection id). */
  hostFor(key: number): IndexHostApi {
    let target = this.workers.find((w) => w.keys.has(key));
    if (!target) {
      if (this.workers.length < this.count) {
        target = new WorkerIndexHost(`quiver-index-${this.workers.length + 1}`, this.log);
        this.workers.push(target);
      } else {
        target = this.workers.reduce((a, b) => (b.keys.size < a.keys.size ? b : a));
      }
      target.keys.add(key);
    }
    return target.api();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.stop()));
  }
}
