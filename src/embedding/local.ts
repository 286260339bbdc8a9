// The "local" provider: a transformers.js feature-extraction model read from disk (never from
// the network unless QUIVER_ALLOW_MODEL_DOWNLOAD is on), run in a worker thread.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Embedder } from './embedder.js';
import { createError } from '../errors/index.js';

const WORKER_URL = new URL('./local-worker.mjs', import.meta.url);

/** What local-worker.mjs is started with. */
interface LocalWorkerData {
  modelId: string;
  /** Folder holding <modelId>/ (config.json, tokenizer.json, onnx/model.onnx). */
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
}

/** Finds the folder that holds the model, or throws MODEL_NOT_FOUND naming where it looked. */
export function resolveModelDir(opts: LocalModelOptions): string {
  if (!MODEL_ID_PATTERN.test(opts.modelId) || opts.modelId.split('/').some((s) => s === '.' || s === '..')) {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'embedder.model', message: 'expected a model id such as "my-model" or "org/my-model"' }] });
  }
  for (const dir of opts.searchDirs) {
    if (fs.existsSync(path.join(dir, opts.modelId, 'config.json'))) return dir;
  }
  if (opts.allowDownload) return opts.searchDirs[0]!;
  throw createError('MODEL_NOT_FOUND', { model: opts.modelId, folder: path.join(opts.searchDirs[0]!, opts.modelId) });
}

export class LocalEmbedder implements Embedder {
  readonly id: string;
  readonly maxBatch = 64;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: (Float32Array | null)[]) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly modelId: string,
    readonly dimensions: number,
    private worker: Worker,
    private readonly data: LocalWorkerData,
  ) {
    this.id = `local:${modelId}`;
    this.attach(worker);
  }

  /** Starts the worker and waits until the model is loaded and its dimension known. */
  static async load(opts: LocalModelOptions): Promise<LocalEmbedder> {
    const modelsDir = resolveModelDir(opts);
    const data: LocalWorkerData = { modelId: opts.modelId, modelsDir, allowRemote: opts.allowDownload };
    const { worker, dimensions } = await LocalEmbedder.start(data);
    return new LocalEmbedder(opts.modelId, dimensions, worker, data);
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

  private attach(worker: Worker): void {
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type !== 'result' && msg.type !== 'error') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.vectors);
      else p.reject(createError('EMBEDDING_FAILED', { reason: msg.message }));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.failAll(new Error(`embedding worker exited with code ${code}`));
    });
    // Do not keep the process alive for an idle worker.
    worker.unref();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(createError('EMBEDDING_FAILED', { reason: err.message }));
    this.pending.clear();
  }

  async embed(texts: string[]): Promise<(Float32Array | null)[]> {
    if (texts.length === 0) return [];
    if (this.worker.threadId === -1) {
      // The worker died (e.g. out of memory); start a new one for this and later calls.
      const { worker } = await LocalEmbedder.start(this.data);
      this.worker = worker;
      this.attach(worker);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, texts });
    });
  }

  async close(): Promise<void> {
    this.pending.clear();
    await this.worker.terminate();
  }
}
