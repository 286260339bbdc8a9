// An index worker thread: one IndexHost answering calls that arrive as messages
// ({id, op, args} → {id, ok, value | error}). Calls run as they arrive; an insert batch yields
// between slices, so a search sent meanwhile is answered within a slice. The caller orders the
// calls that change one index (see WorkerIndexHost).
import { parentPort } from 'node:worker_threads';
import { inThreadHost } from './index-host.js';
import type { HostReply, HostRequest } from './worker-host.js';
import { transferablesOf } from './worker-host.js';

const port = parentPort;
if (!port) throw new Error('index-worker.ts runs as a worker thread');
// This thread's host behind the same API the main thread calls: a message names an op and its
// arguments (IndexHostApi is the contract), so the API is read here as a table of functions.
const api = inThreadHost() as unknown as Record<HostRequest['op'], (...args: unknown[]) => Promise<unknown>>;

port.on('message', (msg: HostRequest) => {
  const reply = (r: HostReply) => port.postMessage(r, r.ok ? transferablesOf(r.value) : []);
  try {
    api[msg.op](...msg.args).then(
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
