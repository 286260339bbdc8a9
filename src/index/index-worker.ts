// An index worker thread: one IndexHost answering calls that arrive as messages
// ({id, op, args} → {id, ok, value | error}). Calls run as they arrive; an insert batch yields
// between slices, so a search sent meanwhile is answered within a slice. The caller orders the
// calls that change one index (see WorkerIndexHost).
import { parentPort } from 'node:worker_threads';
import type { IndexHostApi } from './index-host.js';
import { IndexHost } from './index-host.js';
import type { HostReply, HostRequest } from './worker-host.js';
import { transferablesOf } from './worker-host.js';

const port = parentPort;
if (!port) throw new Error('index-worker.ts runs as a worker thread');
const host = new IndexHost();

// Each op's arguments, as the main thread sent them (the protocol is this file and worker-host.ts).
const ops: { [K in keyof IndexHostApi]: (...args: Parameters<IndexHostApi[K]>) => unknown } = {
  load: (key, base, shape) => host.load(key, base, shape),
  create: (key, shape, capacity) => host.create(key, shape, capacity),
  remove: (key, labels) => host.remove(key, labels),
  add: (key, labels, vectors) => host.add(key, labels, vectors),
  verify: (key, expected) => host.verify(key, expected),
  search: (key, req) => host.search(key, req),
  stats: (key) => host.stats(key),
  save: (key, base, seq) => host.save(key, base, seq),
  drop: (key, base) => host.drop(key, base),
  release: (key) => host.release(key),
};

port.on('message', (msg: HostRequest) => {
  const reply = (r: HostReply) => port.postMessage(r, r.ok ? transferablesOf(r.value) : []);
  try {
    // The message carries the arguments of `ops[msg.op]`; the table above is the contract.
    const fn = ops[msg.op] as (...args: unknown[]) => unknown;
    Promise.resolve(fn(...msg.args)).then(
      (value) => reply({ id: msg.id, ok: true, value }),
      (err: unknown) => reply({ id: msg.id, ok: false, error: errorOf(err) }),
    );
  } catch (err) {
    reply({ id: msg.id, ok: false, error: errorOf(err) });
  }
});

function errorOf(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}
