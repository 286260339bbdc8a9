// Owns the synchronous upsert: decide per document what changed, chunk and embed only new text
// (through the embedding cache), write everything in one SQLite transaction, then bring the
// index along. The caller gets its answer only after the commit, so an acknowledged write is
// durable. Large loads go through ingest jobs (jobs.ts) instead.
import type { Engine } from '../engine/index.js';
import { createError } from '../errors/index.js';
import type { ChunkingSpec, DocumentWrite } from '../storage/index.js';
import { EmbedError } from '../embedding/index.js';
import type { DocumentInput } from './pipeline.js';
import { effectiveChunking, embedTexts, planDocuments, validateDocuments } from './pipeline.js';

export type { DocumentInput } from './pipeline.js';

export interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Texts sent to the embedding model by this call (cache hits and unchanged documents are not). */
  embedded: number;
  /** Documents stored without a vector: their text has nothing the model knows. */
  not_embedded: string[];
}

export async function upsertDocuments(engine: Engine, collectionName: string, inputs: DocumentInput[], chunking?: ChunkingSpec): Promise<UpsertResult> {
  const c = engine.collection(collectionName);
  const vectors = validateDocuments(c, inputs);
  const embedder = await engine.embedderFor(c);
  const spec = effectiveChunking(c, chunking);

  return engine.withWriteLock(c.id, async () => {
    const result: UpsertResult = { created: 0, updated: 0, unchanged: 0, embedded: 0, not_embedded: [] };
    const plans = planDocuments(engine, c, inputs, vectors, spec);
    const writes: DocumentWrite[] = [];
    for (const p of plans) {
      if (p.kind === 'unchanged') result.unchanged++;
      else if (p.kind === 'created') result.created++;
      else result.updated++;
      if (p.write) writes.push(p.write);
    }
    const toEmbed = plans.flatMap((p) => p.toEmbed.map((t) => ({ ...t, id: p.id })));
    if (toEmbed.length > 0 && embedder) {
      const retry = { retries: engine.config.ingest.retries, baseMs: engine.config.ingest.retryBaseMs };
      const { results, embedded } = await embedTexts(
        engine,
        embedder,
        toEmbed.map((t) => t.text),
        false,
        retry,
      );
      result.embedded = embedded;
      const withVector = new Set<string>();
      toEmbed.forEach((t, i) => {
        const v = results[i];
        if (v instanceof EmbedError) throw v;
        t.chunk.vector = v ?? null;
        if (v) withVector.add(t.id);
      });
      // A document none of whose chunks has a vector cannot be found by vector search.
      for (const p of plans) if (p.toEmbed.length > 0 && !withVector.has(p.id)) result.not_embedded.push(p.id);
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
