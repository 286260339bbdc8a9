// The Embedder contract every provider implements (local transformers.js models and USE-lite in
// worker threads, Bedrock Titan), the failure kinds that drive retries, and retry with back-off.
// One shared test suite (test/unit/embedder.case.ts) runs against each provider.
import type { ImageData, Modality } from '../domain/types.js';
import { QuiverError } from '../errors/index.js';

export interface Embedder {
  /** Stable id of the model, used as the embedding-cache key: "local:<model>". */
  readonly id: string;
  readonly dimensions: number;
  /** Largest number of texts one embed() call should carry; callers split above it. */
  readonly maxBatch: number;
  /**
   * One vector per text, in order. null means the text has nothing the model can embed (empty,
   * or only words outside its vocabulary): such a vector would be zero or NaN, and neither can
   * be ranked, so callers store the document without a vector instead.
   */
  embed(texts: string[]): Promise<(Float32Array | null)[]>;
  /**
   * Like embed, but one text's failure does not fail the others (providers that call a service
   * once per text implement it, so isolating a bad text never embeds the good ones twice).
   */
  embedSettled?(texts: string[]): Promise<(Float32Array | null | EmbedError)[]>;
  /** What the model embeds into its one space; absent: text only. */
  readonly modalities?: readonly Modality[];
  /**
   * Models with 'image' in modalities: one vector per image, in order, into the same space as
   * embed()'s texts (so a text query finds images and an image query finds texts). One image's
   * failure does not fail the others, as with embedSettled.
   */
  embedImages?(images: ImageData[]): Promise<(Float32Array | null | EmbedError)[]>;
  close(): Promise<void>;
}

/**
 * Why an embedding failed, which decides what the ingest pipeline does next:
 * "input" fails only the document (too long, rejected text), "transient" is retried with
 * back-off (throttling, 5xx, network), "fatal" fails the whole job (no access, bad model id).
 */
export type EmbedFailure = 'input' | 'transient' | 'fatal';

export class EmbedError extends QuiverError {
  constructor(
    /** What went wrong, without the "the embedding model failed" prefix (shown per document). */
    readonly reason: string,
    readonly kind: EmbedFailure,
    /** For a transient failure: how long the service asked to be left alone (Retry-After), already capped by the provider. */
    readonly retryAfterMs?: number,
  ) {
    // A QuiverError so that a synchronous request that hits it answers 502, not 500.
    super('EMBEDDING_FAILED', `the embedding model failed: ${reason}`, { reason });
    this.name = 'EmbedError';
  }
}

/** The failure kind of any error: unknown errors are blamed on the input, not retried forever. */
/** embed() from embedSettled()'s answer: the vectors, or the first failure thrown. */
export function vectorsOrFirstFailure(settled: (Float32Array | null | EmbedError)[]): (Float32Array | null)[] {
  const failed = settled.find((v): v is EmbedError => v instanceof EmbedError);
  if (failed) throw failed;
  return settled as (Float32Array | null)[];
}

/**
 * embedSettled() for a service that takes texts in batches: texts `skip` picks (blank ones by
 * default) get null without a call; the rest go in batches of batchSize issued together (the
 * provider's own concurrency bounds them); a batch the service refuses as bad input is sent again
 * text by text, so only the culprit fails and the good texts are embedded once more at most.
 */
export async function settleInBatches(
  texts: string[],
  batchSize: number,
  call: (batch: string[]) => Promise<(Float32Array | null)[]>,
  skip: (text: string) => boolean = (t) => t.trim() === '',
): Promise<(Float32Array | null | EmbedError)[]> {
  const asEmbedError = (err: unknown) => (err instanceof EmbedError ? err : new EmbedError(String(err), 'input'));
  const out = new Array<Float32Array | null | EmbedError>(texts.length).fill(null);
  const sent = texts.flatMap((t, i) => (skip(t) ? [] : [i]));
  const parts: Promise<(Float32Array | null | EmbedError)[]>[] = [];
  for (let i = 0; i < sent.length; i += batchSize) {
    const batch = sent.slice(i, i + batchSize).map((j) => texts[j]!);
    parts.push(
      call(batch).catch(async (err: unknown) => {
        const e = asEmbedError(err);
        // Only a refused input is worth splitting; retries already ran out for the rest.
        if (e.kind !== 'input' || batch.length === 1) return batch.map(() => e);
        return Promise.all(batch.map((t) => call([t]).then((v) => v[0]!, asEmbedError)));
      }),
    );
  }
  (await Promise.all(parts)).flat().forEach((v, k) => (out[sent[k]!] = v));
  return out;
}

export function failureKind(err: unknown): EmbedFailure {
  return err instanceof EmbedError ? err.kind : 'input';
}

export interface RetryOptions {
  retries: number;
  /** First delay; each retry doubles it, and "full jitter" picks a random delay below that. */
  baseMs: number;
  maxMs?: number;
}

/** Runs fn, retrying transient failures with exponential back-off and full jitter. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (failureKind(err) !== 'transient' || attempt >= opts.retries) throw err;
      const cap = Math.min(opts.maxMs ?? 20_000, opts.baseMs * 2 ** attempt);
      // A service that said when to come back (HTTP Retry-After) is not asked sooner.
      const asked = err instanceof EmbedError ? (err.retryAfterMs ?? 0) : 0;
      await new Promise((r) => setTimeout(r, Math.max(asked, Math.random() * cap)));
    }
  }
}

/**
 * Splits a call into maxBatch-sized calls and joins the results. The calls are issued together,
 * so a pool of workers (or a provider's concurrency) embeds them in parallel.
 */
export async function embedInBatches(embedder: Embedder, texts: string[]): Promise<(Float32Array | null)[]> {
  const parts: Promise<(Float32Array | null)[]>[] = [];
  for (let i = 0; i < texts.length; i += embedder.maxBatch) parts.push(embedder.embed(texts.slice(i, i + embedder.maxBatch)));
  return (await Promise.all(parts)).flat();
}
