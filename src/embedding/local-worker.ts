// Runs one transformers.js feature-extraction model inside a worker thread, so tokenizing and
// inference never hold the HTTP event loop. Protocol (see local.ts):
//   in:  { id, texts }
//   out: { type: 'ready', dimensions } once, then { id, vectors } or { id, error } per request.
import { parentPort, workerData } from 'node:worker_threads';
import { env, pipeline } from '@huggingface/transformers';

export interface LocalWorkerData {
  modelId: string;
  /** Folder holding <modelId>/ (config.json, tokenizer.json, onnx/model.onnx). */
  modelsDir: string;
  allowRemote: boolean;
}

export type WorkerReply =
  | { type: 'ready'; dimensions: number }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; vectors: (Float32Array | null)[] }
  | { type: 'error'; id: number; message: string };

const data = workerData as LocalWorkerData;
const port = parentPort!;

env.allowRemoteModels = data.allowRemote;
env.allowLocalModels = true;
env.localModelPath = data.modelsDir;
// Downloaded models (only when allowed) are cached beside the user's models.
env.cacheDir = data.modelsDir;

function isUsable(v: Float32Array): boolean {
  let norm = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) return false;
    norm += x * x;
  }
  return norm > 0;
}

async function main(): Promise<void> {
  const extractor = await pipeline('feature-extraction', data.modelId, { dtype: 'fp32', local_files_only: !data.allowRemote });
  const embed = async (texts: string[]): Promise<(Float32Array | null)[]> => {
    // Blank texts make some models fail the whole batch; they never have a meaning to embed.
    const idx = texts.map((t, i) => (t.trim() === '' ? -1 : i)).filter((i) => i >= 0);
    const out: (Float32Array | null)[] = texts.map(() => null);
    if (idx.length === 0) return out;
    const tensor = await extractor(
      idx.map((i) => texts[i]!),
      { pooling: 'mean', normalize: true },
    );
    const dims = tensor.dims[tensor.dims.length - 1]!;
    const flat = tensor.data as Float32Array;
    idx.forEach((textIndex, row) => {
      const v = flat.slice(row * dims, (row + 1) * dims);
      out[textIndex] = isUsable(v) ? v : null;
    });
    return out;
  };
  const probe = await extractor(['hello world'], { pooling: 'mean', normalize: true });
  port.postMessage({ type: 'ready', dimensions: probe.dims[probe.dims.length - 1]! } satisfies WorkerReply);
  port.on('message', (msg: { id: number; texts: string[] }) => {
    embed(msg.texts).then(
      (vectors) => {
        const transfer = vectors.filter((v): v is Float32Array => v !== null).map((v) => v.buffer as ArrayBuffer);
        port.postMessage({ type: 'result', id: msg.id, vectors } satisfies WorkerReply, transfer);
      },
      (err: unknown) => port.postMessage({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
    );
  });
}

main().catch((err: unknown) => {
  port.postMessage({ type: 'fatal', message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
});
