// Owns the synchronous upsert: decide per document what changed, embed only new text (through
// the embedding cache), write everything in one SQLite transaction, then bring the index along.
// The caller gets its answer only after the commit, so an acknowledged write is durable.
import crypto from 'node:crypto';
import type { Engine } from '../engine/index.js';
import { createError } from '../errors/index.js';
import type { FieldIssue } from '../errors/index.js';
import type { DocumentWrite, Metadata } from '../storage/index.js';
import { embedCached } from '../embedding/index.js';
import { checkVector } from '../engine/index.js';

export interface DocumentInput {
  id: string;
  text?: string;
  vector?: number[];
  metadata?: Metadata;
}

export interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Texts sent to the embedding model by this call (cache hits and unchanged documents are not). */
  embedded: number;
  /** Documents stored without a vector: their text has nothing the model knows. */
  not_embedded: string[];
}

function contentHash(text: string | undefined, vector: Float32Array | undefined): string {
  const h = crypto.createHash('sha256');
  h.update(text === undefined ? '\u0000no-text' : `t:${text}`);
  if (vector) h.update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  return h.digest('hex');
}

function sameMetadata(a: Metadata, b: Metadata): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function upsertDocuments(engine: Engine, collectionName: string, inputs: DocumentInput[]): Promise<UpsertResult> {
  const c = engine.collection(collectionName);

  // Validate everything before touching anything: a batch is all or nothing.
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
  const embedder = await engine.embedderFor(c);

  return engine.withWriteLock(c.id, async () => {
    const result: UpsertResult = { created: 0, updated: 0, unchanged: 0, embedded: 0, not_embedded: [] };
    const writes: DocumentWrite[] = [];
    const toEmbed: { write: Extract<DocumentWrite, { kind: 'content' }>; text: string }[] = [];
    inputs.forEach((d, i) => {
      const vector = vectors[i];
      const hash = contentHash(d.text, vector);
      const metadata = d.metadata ?? {};
      const existing = engine.docs.get(c.id, d.id);
      if (existing && existing.contentHash === hash) {
        if (sameMetadata(existing.metadata, metadata)) result.unchanged++;
        else {
          writes.push({ kind: 'metadata', pk: existing.pk, metadata });
          result.updated++;
        }
        return;
      }
      const text = d.text ?? null;
      const write: DocumentWrite = {
        kind: 'content',
        id: d.id,
        existingPk: existing?.pk,
        text,
        metadata,
        contentHash: hash,
        chunks: [{ index: 0, start: 0, end: text?.length ?? 0, vector: vector ?? null }],
      };
      writes.push(write);
      if (existing) result.updated++;
      else result.created++;
      if (!vector && text !== null) toEmbed.push({ write, text });
    });

    if (toEmbed.length > 0 && embedder) {
      const { vectors: embedded, embedded: count } = await embedCached(
        embedder,
        toEmbed.map((t) => t.text),
        engine.cache,
      );
      result.embedded = count;
      toEmbed.forEach((t, i) => {
        const v = embedded[i] ?? null;
        t.write.chunks[0]!.vector = v;
        if (!v) result.not_embedded.push(t.write.id);
      });
    }

    const changes = engine.docs.write(c.id, writes);
    await engine.indexes.apply(c.id, changes);
    return result;
  });
}

export async function deleteDocument(engine: Engine, collectionName: string, id: string): Promise<void> {
  const c = engine.collection(collectionName);
  await engine.withWriteLock(c.id, async () => {
    const changes = engine.docs.delete(c.id, id);
    if (!changes) throw createError('DOCUMENT_NOT_FOUND', { collection: c.name, id });
    await engine.indexes.apply(c.id, changes);
  });
}
