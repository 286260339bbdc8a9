// Runs one transformers.js feature-extraction model inside a worker thread, so tokenizing and
// inference never hold the HTTP event loop. Plain JavaScript on purpose: a worker thread does not
// inherit tsx's TypeScript loader on Node 20, and this file must start the same way under
// `npm start`, the tests and a compiled install. The message types live in local.ts.
//   workerData: { modelId, modelsDir, allowRemote }
//   in:  { id, texts }
//   out: { type: 'ready', dimensions } once (or { type: 'fatal', message }),
//        then { type: 'result', id, vectors } or { type: 'error', id, message } per request.
import { parentPort, workerData } from 'node:worker_threads';
import { env, pipeline } from '@huggingface/transformers';

const data = workerData;
const port = parentPort;

env.allowRemoteModels = data.allowRemote;
env.allowLocalModels = true;
env.localModelPath = data.modelsDir;
// Downloaded models (only when allowed) are cached beside the user's models.
env.cacheDir = data.modelsDir;

/** @param {Float32Array} v */
function isUsable(v) {
  let norm = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) return false;
    norm += x * x;
  }
  return norm > 0;
}

async function main() {
  const extractor = await pipeline('feature-extraction', data.modelId, { dtype: 'fp32', local_files_only: !data.allowRemote });

  /** @param {string[]} texts @returns {Promise<(Float32Array | null)[]>} */
  const embed = async (texts) => {
    // Blank texts make some models fail the whole batch; they never have a meaning to embed.
    const idx = texts.map((t, i) => (t.trim() === '' ? -1 : i)).filter((i) => i >= 0);
    const out = texts.map(() => null);
    if (idx.length === 0) return out;
    const tensor = await extractor(
      idx.map((i) => texts[i]),
      { pooling: 'mean', normalize: true },
    );
    const dims = tensor.dims[tensor.dims.length - 1];
    const flat = tensor.data;
    idx.forEach((textIndex, row) => {
      const v = flat.slice(row * dims, (row + 1) * dims);
      out[textIndex] = isUsable(v) ? v : null;
    });
    return out;
  };

  const probe = await extractor(['hello world'], { pooling: 'mean', normalize: true });
  port.postMessage({ type: 'ready', dimensions: probe.dims[probe.dims.length - 1] });
  port.on('message', (msg) => {
    embed(msg.texts).then(
      (vectors) => {
        const transfer = vectors.filter((v) => v !== null).map((v) => v.buffer);
        port.postMessage({ type: 'result', id: msg.id, vectors }, transfer);
      },
      (err) => port.postMessage({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
    );
  });
}

main().catch((err) => {
  port.postMessage({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
