// The Embedder contract every provider implements (local transformers.js models, and later
// Bedrock). One shared test suite (test/unit/embedder.case.ts) runs against each of them.

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
  close(): Promise<void>;
}

/** A vector is usable when every component is finite and it is not all zeros. */
export function usableVector(v: Float32Array): boolean {
  let norm = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) return false;
    norm += x * x;
  }
  return norm > 0;
}

/** Splits a call into maxBatch-sized calls and joins the results. */
export async function embedInBatches(embedder: Embedder, texts: string[]): Promise<(Float32Array | null)[]> {
  const out: (Float32Array | null)[] = [];
  for (let i = 0; i < texts.length; i += embedder.maxBatch) {
    out.push(...(await embedder.embed(texts.slice(i, i + embedder.maxBatch))));
  }
  return out;
}
