// Owns the steps every write of documents shares, whoever calls it (a synchronous upsert, an
// ingest job, a replica applying a log): validate a batch, decide per document what changed
// (content hash), chunk the text, and build the DocumentWrites of one transaction.
import crypto from 'node:crypto';
import type { ChunkingSpec, ChunkInput, CollectionInfo, DocumentInput, DocumentWrite, ImageData, Modality } from '../domain/types.js';
import { createError } from '../errors/index.js';
import type { FieldIssue } from '../errors/index.js';
import type { DocumentStore } from '../storage/index.js';
import { DEFAULT_CHUNKING, chunkText } from '../text/chunking.js';
import type { TextSpan } from '../text/chunking.js';
import { DEFAULT_MAX_IMAGE_BYTES, decodeImage } from './image.js';

/** Checks a client vector against the collection; returns it as float32. */
export function checkVector(c: CollectionInfo, v: number[], field: string): Float32Array {
  if (v.length !== c.dimension) throw createError('DIMENSION_MISMATCH', { field, expected: c.dimension, got: v.length });
  const out = Float32Array.from(v);
  if (c.metric === 'cosine' && out.every((x) => x === 0)) throw createError('ZERO_VECTOR', { field });
  for (const x of out) {
    if (!Number.isFinite(x)) {
      throw createError('VALIDATION_FAILED', { issues: [{ field, message: 'a component is out of float32 range' }] });
    }
  }
  return out;
}

/** What a collection's model can embed and how big an image may be; absent: text only. */
export interface ImageRules {
  modalities: readonly Modality[];
  maxBytes: number;
  /** The model, as an error names it ("bedrock amazon.titan-embed-text-v2:0"). */
  embedder: string;
}

const TEXT_ONLY: ImageRules = { modalities: ['text'], maxBytes: DEFAULT_MAX_IMAGE_BYTES, embedder: 'text only' };

/**
 * A document's image, decoded and checked once per input object (the batch is checked, then
 * planned twice: before and inside its group commit).
 */
const imagesMemo = new WeakMap<DocumentInput, ImageData>();

function imageOf(d: DocumentInput, field: string, maxBytes: number): ImageData | undefined {
  if (d.image === undefined) return undefined;
  let img = imagesMemo.get(d);
  if (!img) {
    img = decodeImage(d.image, field, maxBytes);
    imagesMemo.set(d, img);
  }
  return img;
}

/**
 * The cache-and-batch key of an image chunk among the texts a write embeds: document text cannot
 * hold NUL (schemas.ts), so no text is ever mistaken for an image.
 */
export const imageKey = (sha256: string) => `\u0000image:${sha256}`;

/** The checks of a document beyond its vector: something to embed, and a model to embed it. */
function checkContent(c: CollectionInfo, hasModel: boolean, d: DocumentInput, at: FieldNamer, images: ImageRules): void {
  if (d.text === undefined && d.vector === undefined && d.image === undefined) throw createError('TEXT_REQUIRED', { field: at() });
  if (d.image !== undefined) {
    imageOf(d, at('image'), images.maxBytes);
    // With a client vector the image is only stored; without one, the model must embed it.
    if (d.vector === undefined && hasModel && !images.modalities.includes('image')) {
      throw createError('IMAGE_NOT_SUPPORTED', { field: at('image'), collection: c.name, embedder: images.embedder });
    }
  }
  if (d.vector === undefined && !hasModel) throw createError('NO_EMBEDDER', { field: at('vector'), collection: c.name });
}

/** Names a document of a request, or one of its fields: "documents.3" / "documents.3.vector", "line 7" / "line 7: vector". */
export type FieldNamer = (field?: string) => string;

/** Names the documents of a JSON request: "documents.3", "documents.3.vector". */
export const documentsName =
  (position: number): FieldNamer =>
  (field) =>
    field === undefined ? `documents.${position}` : `documents.${position}.${field}`;

/** Checks one document, naming its fields with `at`; returns its vector as float32. */
export function checkDocumentAt(c: CollectionInfo, hasModel: boolean, d: DocumentInput, at: FieldNamer, images: ImageRules = TEXT_ONLY): Float32Array | undefined {
  const vector = d.vector ? checkVector(c, d.vector, at('vector')) : undefined;
  checkContent(c, hasModel, d, at, images);
  return vector;
}

/** Checks a batch before anything is written or queued: all or nothing. Returns float32 vectors. */
export function validateDocuments(c: CollectionInfo, hasModel: boolean, inputs: DocumentInput[], images: ImageRules = TEXT_ONLY): (Float32Array | undefined)[] {
  const issues: FieldIssue[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((d, i) => {
    const first = seen.get(d.id);
    if (first !== undefined) issues.push({ field: `documents.${i}.id`, message: `"${d.id}" also appears at documents.${first}` });
    seen.set(d.id, i);
  });
  if (issues.length > 0) throw createError('VALIDATION_FAILED', { issues });
  // Vectors first, for every document: a wrong dimension is the likelier mistake to report.
  const vectors = inputs.map((d, i) => (d.vector ? checkVector(c, d.vector, `documents.${i}.vector`) : undefined));
  inputs.forEach((d, i) => checkContent(c, hasModel, d, documentsName(i), images));
  return vectors;
}

/** The chunking that applies: the request's, else the collection's, else the server default. */
export function effectiveChunking(c: CollectionInfo, requested: ChunkingSpec | null | undefined): ChunkingSpec {
  return requested ?? c.chunking ?? DEFAULT_CHUNKING;
}

/**
 * A document's chunk spans, computed once per input object: a write plans a batch before it
 * waits for its group and again inside it, and an ingest job chunks a batch ahead to warm the
 * embedding cache; word segmentation was ~220 µs a document, three times over, on the main thread.
 */
const spansMemo = new WeakMap<DocumentInput, { text: string; chunking: string; spans: TextSpan[] }>();

function spansOf(d: DocumentInput, text: string, chunking: ChunkingSpec): TextSpan[] {
  const key = JSON.stringify(chunking);
  const hit = spansMemo.get(d);
  if (hit && hit.text === text && hit.chunking === key) return hit.spans;
  const spans = chunkText(text, chunking);
  spansMemo.set(d, { text, chunking: key, spans });
  return spans;
}

/** A document's chunks the model embeds, where they are in its text; none for a client vector or no text. */
export function chunkSpans(d: DocumentInput, chunking: ChunkingSpec): TextSpan[] {
  if (d.vector !== undefined || typeof d.text !== 'string') return [];
  return spansOf(d, d.text, chunking);
}

/** The texts of a document's chunks, as the model sees them; none for a client vector. */
export function chunkTexts(d: DocumentInput, chunking: ChunkingSpec): string[] {
  if (d.vector !== undefined || typeof d.text !== 'string') return [];
  const text = d.text;
  return spansOf(d, text, chunking).map((span) => text.slice(span.start, span.end));
}

function contentHash(text: string | undefined, vector: Float32Array | undefined, chunking: ChunkingSpec, image: ImageData | undefined): string {
  const h = crypto.createHash('sha256');
  h.update(text === undefined ? '\u0000no-text' : `t:${text}`);
  // Only when there is one, so the hashes of documents stored before images existed still match.
  if (image) h.update(`\u0000i:${image.sha256}`);
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
  /**
   * Chunks whose vector the model must make: their text, for the content write's chunks; for the
   * image chunk, `image` and a `text` that is its key (imageKey), never a real text.
   */
  toEmbed: { chunk: ChunkInput; text: string; image?: ImageData }[];
}

/** Decides per document what to write; reads the stored rows, so call it under the write lock. */
export function planDocuments(
  docs: Pick<DocumentStore, 'get'>,
  c: CollectionInfo,
  inputs: DocumentInput[],
  vectors: (Float32Array | undefined)[],
  chunking: ChunkingSpec,
): DocumentPlan[] {
  return inputs.map((d, i) => {
    const vector = vectors[i];
    // Checked by validateDocuments / checkDocumentAt before any plan.
    const image = imageOf(d, 'image', Infinity);
    const hash = contentHash(d.text, vector, chunking, image);
    const metadata = d.metadata ?? {};
    const existing = docs.get(c.id, d.id);
    if (existing && existing.contentHash === hash) {
      if (JSON.stringify(existing.metadata) === JSON.stringify(metadata)) return { id: d.id, kind: 'unchanged', toEmbed: [] };
      return { id: d.id, kind: 'metadata', write: { kind: 'metadata', pk: existing.pk, metadata }, toEmbed: [] };
    }
    const text = d.text ?? null;
    const toEmbed: DocumentPlan['toEmbed'] = [];
    let chunks: ChunkInput[];
    if (image && !vector) {
      // Text and image are two kinds of chunk of one document: the text's chunks as always
      // (keyword search reads them), then the image's (README, "Image embeddings").
      chunks = text === null ? [] : spansOf(d, text, chunking).map((span, index) => ({ index, start: span.start, end: span.end, vector: null }));
      for (const chunk of chunks) toEmbed.push({ chunk, text: text!.slice(chunk.start, chunk.end) });
      const chunk: ChunkInput = { index: chunks.length, start: 0, end: 0, vector: null, modality: 'image' };
      chunks.push(chunk);
      toEmbed.push({ chunk, text: imageKey(image.sha256), image });
    } else if (vector || text === null) {
      // A client vector stands for the whole document.
      chunks = [{ index: 0, start: 0, end: text?.length ?? 0, vector: vector ?? null }];
    } else {
      chunks = spansOf(d, text, chunking).map((span, index) => ({ index, start: span.start, end: span.end, vector: null }));
      for (const chunk of chunks) toEmbed.push({ chunk, text: text.slice(chunk.start, chunk.end) });
    }
    const write: DocumentWrite = { kind: 'content', id: d.id, existingPk: existing?.pk, text, image: image ?? null, metadata, contentHash: hash, chunks };
    return { id: d.id, kind: existing ? 'updated' : 'created', write, toEmbed };
  });
}
