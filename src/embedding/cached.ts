// Owns embedding through the cache: each distinct text is embedded once, cached vectors are
// reused (by model id and sha256 of the text), and the failure policy of the caller decides
// what a failed text does to the others.
import crypto from 'node:crypto';
import type { ImageData } from '../domain/types.js';
import type { Embedder, RetryOptions } from './embedder.js';
import { EmbedError, embedInBatches, failureKind, withRetry } from './embedder.js';

/** Where vectors by (model id, sha256 of text) are kept; the store's cache fits it. */
export interface VectorCache {
  getMany(modelId: string, hashes: Buffer[]): Map<string, Float32Array>;
  putMany(modelId: string, entries: { hash: Buffer; vector: Float32Array }[]): void;
}

export function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

export interface EmbedOutcome {
  /** One per text: a vector, null (nothing the model knows), or why this text failed. */
  results: (Float32Array | null | EmbedError)[];
  /** Texts sent to the model (cache hits and repeats are not). */
  embedded: number;
}

/**
 * Embeds texts through the cache, each distinct text once. isolate = false: any failure throws
 * (a synchronous write answers 502). isolate = true: transient errors are retried with back-off;
 * a text the model rejects fails alone (a failed batch is retried text by text unless the
 * provider reports per text); a "fatal" error (no access) still throws, failing the job.
 */
export async function embedThroughCache(cache: VectorCache, embedder: Embedder, texts: string[], isolate: boolean, retry: RetryOptions): Promise<EmbedOutcome> {
  const hashes = texts.map(sha256);
  const keys = hashes.map((h) => h.toString('hex'));
  const known = cache.getMany(embedder.id, hashes);
  const todo = new Map<string, { text: string; hash: Buffer }>();
  keys.forEach((k, i) => {
    if (!known.has(k) && !todo.has(k)) todo.set(k, { text: texts[i]!, hash: hashes[i]! });
  });
  const items = [...todo.entries()];
  const batch = items.map(([, t]) => t.text);
  let fresh: (Float32Array | null | EmbedError)[] = [];
  if (items.length > 0) {
    if (!isolate) fresh = await embedInBatches(embedder, batch);
    else if (embedder.embedSettled) fresh = await embedder.embedSettled(batch);
    else {
      try {
        fresh = await withRetry(() => embedInBatches(embedder, batch), retry);
      } catch (err) {
        if (failureKind(err) === 'fatal') throw err;
        // Find the culprit(s): one text at a time.
        fresh = await Promise.all(
          batch.map(async (t) => {
            try {
              return (await withRetry(() => embedder.embed([t]), retry))[0] ?? null;
            } catch (e) {
              if (failureKind(e) === 'fatal') throw e;
              return e instanceof EmbedError ? e : new EmbedError(e instanceof Error ? e.message : String(e), 'input');
            }
          }),
        );
      }
    }
    const fatal = fresh.find((v): v is EmbedError => v instanceof EmbedError && v.kind === 'fatal');
    if (fatal) throw fatal;
  }
  const byKey = new Map<string, Float32Array | null | EmbedError>();
  const toCache: { hash: Buffer; vector: Float32Array }[] = [];
  items.forEach(([k, t], i) => {
    const v = fresh[i] ?? null;
    byKey.set(k, v);
    if (v instanceof Float32Array) toCache.push({ hash: t.hash, vector: v });
  });
  cache.putMany(embedder.id, toCache);
  return { results: keys.map((k) => known.get(k) ?? byKey.get(k) ?? null), embedded: items.length };
}

/**
 * Embeds images through the same cache as texts: keyed by the model's id plus "#image" and the
 * sha-256 of the image's bytes, so an image is embedded once per model whatever document holds
 * it. isolate as for embedThroughCache (the provider retries transient failures per image).
 */
export async function embedImagesThroughCache(cache: VectorCache, embedder: Embedder, images: ImageData[], isolate: boolean): Promise<EmbedOutcome> {
  if (!embedder.embedImages) throw new EmbedError(`model ${embedder.id} does not embed images`, 'fatal');
  const modelId = `${embedder.id}#image`;
  const hashes = images.map((img) => Buffer.from(img.sha256, 'hex'));
  const known = cache.getMany(modelId, hashes);
  const todo = new Map<string, ImageData>();
  for (const img of images) if (!known.has(img.sha256) && !todo.has(img.sha256)) todo.set(img.sha256, img);
  const fresh = todo.size > 0 ? await embedder.embedImages([...todo.values()]) : [];
  const failed = fresh.find((v): v is EmbedError => v instanceof EmbedError && (v.kind === 'fatal' || !isolate));
  if (failed) throw failed;
  const byKey = new Map<string, Float32Array | null | EmbedError>();
  const toCache: { hash: Buffer; vector: Float32Array }[] = [];
  [...todo.keys()].forEach((k, i) => {
    const v = fresh[i] ?? null;
    byKey.set(k, v);
    if (v instanceof Float32Array) toCache.push({ hash: Buffer.from(k, 'hex'), vector: v });
  });
  cache.putMany(modelId, toCache);
  return { results: images.map((img) => known.get(img.sha256) ?? byKey.get(img.sha256) ?? null), embedded: todo.size };
}
