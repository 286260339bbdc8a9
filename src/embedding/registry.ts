// Owns the loaded embedding models: one LocalEmbedder (a pool of workers) per local model id and
// one BedrockEmbedder per Titan configuration, made on first use and shared by every collection
// that uses it; plus the cached embed path.
import crypto from 'node:crypto';
import type { Embedder } from './embedder.js';
import { embedInBatches } from './embedder.js';
import { LocalEmbedder } from './local.js';
import { BedrockEmbedder } from './bedrock.js';
import type { BedrockOptions, TitanModel } from './bedrock.js';

/** Where vectors by (model id, sha256 of text) are kept; storage's EmbeddingCache fits it. */
export interface VectorCache {
  getMany(modelId: string, hashes: Buffer[]): Map<string, Float32Array>;
  putMany(modelId: string, entries: { hash: Buffer; vector: Float32Array }[]): void;
}

export interface RegistryOptions {
  /** User models first, then the folder of the built-in model. */
  searchDirs: string[];
  allowDownload: boolean;
  /** Worker threads per local model. */
  poolSize?: number;
  bedrock?: Omit<BedrockOptions, 'model' | 'dimensions' | 'normalize'>;
}

export class EmbedderRegistry {
  private readonly models = new Map<string, Promise<Embedder>>();

  constructor(private readonly opts: RegistryOptions) {}

  /** The embedder for a local model id, loading it on first use. */
  local(modelId: string): Promise<Embedder> {
    let p = this.models.get(modelId);
    if (!p) {
      p = LocalEmbedder.load({ modelId, searchDirs: this.opts.searchDirs, allowDownload: this.opts.allowDownload, poolSize: this.opts.poolSize });
      this.models.set(modelId, p);
      // A failed load is not remembered: the user may put the model in place and try again.
      p.catch(() => this.models.delete(modelId));
    }
    return p;
  }

  /** The Titan embedder for a model and options; makes no call until used. */
  bedrock(model: TitanModel, dimensions?: number, normalize?: boolean): Embedder {
    const key = `bedrock:${model}:${dimensions ?? ''}:${normalize ?? ''}`;
    let p = this.models.get(key);
    if (!p) {
      if (!this.opts.bedrock) throw new Error('Bedrock is not configured');
      const e = new BedrockEmbedder({ ...this.opts.bedrock, model, dimensions, normalize });
      p = Promise.resolve(e);
      this.models.set(key, p);
      this.sync.set(key, e);
    }
    return this.sync.get(key)!;
  }

  private readonly sync = new Map<string, Embedder>();

  /** Model ids whose load finished. */
  async loaded(): Promise<string[]> {
    const ids: string[] = [];
    for (const [id, p] of this.models) {
      try {
        await p;
        ids.push(id);
      } catch {
        // not loaded
      }
    }
    return ids;
  }

  async closeAll(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    this.sync.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}

export function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

export interface CachedEmbedResult {
  vectors: (Float32Array | null)[];
  /** How many texts went to the model (the rest came from the cache or were duplicates). */
  embedded: number;
}

/** Embeds texts, taking what it can from the cache and embedding each distinct text once. */
export async function embedCached(embedder: Embedder, texts: string[], cache: VectorCache | undefined): Promise<CachedEmbedResult> {
  const hashes = texts.map(sha256);
  const keys = hashes.map((h) => h.toString('hex'));
  const known = cache ? cache.getMany(embedder.id, hashes) : new Map<string, Float32Array>();
  const todo = new Map<string, { text: string; hash: Buffer }>();
  keys.forEach((k, i) => {
    if (!known.has(k) && !todo.has(k)) todo.set(k, { text: texts[i]!, hash: hashes[i]! });
  });
  const fresh = new Map<string, Float32Array | null>();
  if (todo.size > 0) {
    const items = [...todo.entries()];
    const vectors = await embedInBatches(
      embedder,
      items.map(([, t]) => t.text),
    );
    const toCache: { hash: Buffer; vector: Float32Array }[] = [];
    items.forEach(([k, t], i) => {
      const v = vectors[i] ?? null;
      fresh.set(k, v);
      if (v) toCache.push({ hash: t.hash, vector: v });
    });
    cache?.putMany(embedder.id, toCache);
  }
  return { vectors: keys.map((k) => known.get(k) ?? fresh.get(k) ?? null), embedded: todo.size };
}
