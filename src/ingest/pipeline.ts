// Owns the steps every write of documents shares, synchronous upsert and ingest jobs alike:
// validate a batch, decide per document what changed (content hash), chunk the text, embed the
// chunks through the embedding cache, and build the DocumentWrites for one SQLite transaction.
import crypto from 'node:crypto';
import type { Engine } from '../engine/index.js';
// vectors.js directly: the engine imports the job runner, which imports this file.
import { checkVector } from '../engine/vectors.js';
import { createError } from '../errors/index.js';
import type { FieldIssue } from '../errors/index.js';
import type { Embedder, RetryOptions } from '../embedding/index.js';
import { EmbedError, embedInBatches, failureKind, sha256, withRetry } from '../embedding/index.js';
import type { ChunkingSpec, ChunkInput, Collection, DocumentWrite, Metadata } from '../storage/index.js';
import { DEFAULT_CHUNKING, chunkText } from './chunking.js';

export interface DocumentInput {
  id: string;
  text?: string;
  vector?: number[];
  metadata?: Metadata;
}

/** Checks a batch before anything is written or queued: all or nothing. Returns float32 vectors. */
export function validateDocuments(c: Collection, inputs: DocumentInput[]): (Float32Array | undefined)[] {
  const issues: FieldIssue[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((d, i) => {
    const first = seen.get(d.id);
    if (first !== undefined) issues.push({ field: `documents.${i}.id`, message: `"${d.id}" also appears at documents.${first}` });
    seen.set(d.id, i);
  });
  if (issues.length > 0) throw createError('VALIDATION_FAILED', { issues });
  const vectors = inputs.map((d, i) => (d.vector ? checkVector(c, d.vector, `documents.${i}.vector`) : undefined));
  inputs.forEach((d, i) => {
    if (d.text === undefined && d.vector === undefined) throw createError('TEXT_REQUIRED', { field: `documents.${i}` });
    if (d.vector === undefined && c.embedder.provider === 'none') {
      throw createError('NO_EMBEDDER', { field: `documents.${i}.vector`, collection: c.name });
    }
  });
  return vectors;
}

/** The chunking that applies: the request's, else the collection's, else the server default. */
export function effectiveChunking(c: Collection, requested: ChunkingSpec | null | undefined): ChunkingSpec {
  return requested ?? c.chunking ?? DEFAULT_CHUNKING;
}

function contentHash(text: string | undefined, vector: Float32Array | undefined, chunking: ChunkingSpec): string {
  const h = crypto.createHash('sha256');
  h.update(text === undefined ? '\u0000no-text' : `t:${text}`);
  if (vector) h.update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  // Text is chunked, so the same text chunked another way is other content.
  else if (text !== undefined) h.update(`\u0000c:${JSON.stringify(chunking)}`);
  return h.digest('hex');
}

export type PlanKind = 'created' | 'updated' | 'metadata' | 'unchanged';

export interface DocumentPlan {
  id: string;
  kind: PlanKind;
  /** Absent for "unchanged". */
  write?: DocumentWrite;
  /** Chunks whose vector the model must make: their text, for the content write's chunks. */
  toEmbed: { chunk: ChunkInput; text: string }[];
}

/** Decides per document what to write; reads the stored rows, so call it under the write lock. */
export function planDocuments(engine: Engine, c: Collection, inputs: DocumentInput[], vectors: (Float32Array | undefined)[], chunking: ChunkingSpec): DocumentPlan[] {
  return inputs.map((d, i) => {
    const vector = vectors[i];
    const hash = contentHash(d.text, vector, chunking);
    const metadata = d.metadata ?? {};
    const existing = engine.docs.get(c.id, d.id);
    if (existing && existing.contentHash === hash) {
      if (JSON.stringify(existing.metadata) === JSON.stringify(metadata)) return { id: d.id, kind: 'unchanged', toEmbed: [] };
      return { id: d.id, kind: 'metadata', write: { kind: 'metadata', pk: existing.pk, metadata }, toEmbed: [] };
    }
    const text = d.text ?? null;
    const toEmbed: DocumentPlan['toEmbed'] = [];
    let chunks: ChunkInput[];
    if (vector || text === null) {
      // A client vector stands for the whole document.
      chunks = [{ index: 0, start: 0, end: text?.length ?? 0, vector: vector ?? null }];
    } else {
      chunks = chunkText(text, chunking).map((span, index) => ({ index, start: span.start, end: span.end, vector: null }));
      for (const chunk of chunks) toEmbed.push({ chunk, text: text.slice(chunk.start, chunk.end) });
    }
    const write: DocumentWrite = { kind: 'content', id: d.id, existingPk: existing?.pk, text, metadata, contentHash: hash, chunks };
    return { id: d.id, kind: existing ? 'updated' : 'created', write, toEmbed };
  });
}

export interface EmbedOutcome {
  /** One per text: a vector, null (nothing the model knows), or why this text failed. */
  results: (Float32Array | null | EmbedError)[];
  /** Texts sent to the model (cache hits and repeats are not). */
  embedded: number;
}

/**
 * Embeds texts through the cache, each distinct text once. isolate = false: any failure throws
 * (the synchronous path answers 502). isolate = true: transient errors are retried with back-off;
 * a text the model rejects fails alone (a failed batch is retried text by text unless the
 * provider reports per text); a "fatal" error (no access) still throws, failing the job.
 */
export async function embedTexts(engine: Engine, embedder: Embedder, texts: string[], isolate: boolean, retry: RetryOptions): Promise<EmbedOutcome> {
  const hashes = texts.map(sha256);
  const keys = hashes.map((h) => h.toString('hex'));
  const known = engine.cache.getMany(embedder.id, hashes);
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
  engine.cache.putMany(embedder.id, toCache);
  return { results: keys.map((k) => known.get(k) ?? byKey.get(k) ?? null), embedded: items.length };
}
