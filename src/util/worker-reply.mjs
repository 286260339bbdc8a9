// Owns the worker side of runWorkerTask (worker-task.ts): for each input message, compute and post
// the answer, or the error's message, in the shape the main thread expects. Inputs are messages,
// not workerData, because a worker is kept for later tasks. Plain JavaScript: worker threads run
// .mjs files (Node 20 workers do not inherit tsx's loader).
import { parentPort } from 'node:worker_threads';

/**
 * @param {(input: any) => { value: unknown, transfer?: ArrayBuffer[] }} compute
 *   `transfer`: buffers in the value to move to the main thread instead of copying
 */
export function reply(compute) {
  parentPort.on('message', (input) => {
    let out;
    try {
      out = compute(input);
    } catch (err) {
      parentPort.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
      return;
    }
    parentPort.postMessage({ ok: true, value: out.value }, out.transfer ?? []);
  });
}
