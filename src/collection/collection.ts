// A collection that is open: its stored row, its VectorIndex and its write lock. It is the only
// code that writes documents and applies the resulting index changes — "commit, then apply the
// changes in the same tick, under the lock", so the index follows SQLite in commit order — and
// every write goes through `write` (upsert, ingest jobs, and later a replica applying a log) or
// the two deletes. Reads that need the index or the store (search, keyword, joins) are here too,
// so a caller holds a Collection, never the store or the index.
import type { Logger } from 'pino';
import type {
  ChunkFields,
  ChunkHit,
  ChunkingSpec,
  ChunkSpan,
  CollectionInfo,
  DocumentInput,
  DocumentWrite,
  Neighbor,
  StoredDocument,
} from '../domain/types.js';
import type { Embedder, Embedders, RetryOptions } from '../embedding/index.js';
import { EmbedError, embedThroughCache } from '../embedding/index.js';
import { createError } from '../errors/index.js';
import type { IndexStats, SearchPlan, VectorIndex } from '../index/index.js';
import type { AnalysisDocument, CompiledFilter, DocumentVectors, Store } from '../storage/index.js';
import { FifoLock } from '../util/fifo-lock.js';
import type { PlanKind } from './write-plan.js';
import type { FieldNamer } from './write-plan.js';
import { checkDocumentAt, checkVector, chunkTexts, documentsName, effectiveChunking, planDocuments, validateDocuments } from './write-plan.js';

/**
 * What a failed document does to its batch. reject-batch: any failure throws and nothing is
 * written (a synchronous upsert: 4xx/502). isolate-document: the document fails alone, with
 * its reason in the outcome, and the others are written (ingest jobs).
 */
export type FailurePolicy = 'reject-batch' | 'isolate-document';

export interface WriteOptions {
  onError: FailurePolicy;
  /** The request's chunking; else the collection's, else the server default. */
  chunking?: ChunkingSpec | null;
  /** Runs inside the write's transaction with every input's outcome (a job records its items in it). */
  record?: (outcomes: DocumentOutcome[]) => void;
  /** Checked right before the commit with no await in between: false drops the batch (a cancelled job). */
  proceed?: () => boolean;
}

export interface DocumentOutcome {
  /** Position of the input in the batch. */
  index: number;
  id: string;
  kind: PlanKind | 'failed';
  error?: string;
}

export interface WriteResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Texts sent to the embedding model (cache hits and unchanged documents are not). */
  embedded: number;
  /** Documents stored without a vector: their text has nothing the model knows. */
  notEmbedded: string[];
  outcomes: DocumentOutcome[];
  /** false: nothing was written (proceed() said no, or the collection was deleted meanwhile). */
  committed: boolean;
}

export interface CollectionDeps {
  store: Store;
  embedders: Embedders;
  log: Logger;
  /** Retries of transient embedding failures (isolate-document writes). */
  retry: RetryOptions;
  /** HNSW search breadth when a search does not give one. */
  efSearch: number;
}

export interface VectorSearchOptions {
  filter?: CompiledFilter;
  ef?: number;
  exclude?: ReadonlySet<number>;
}

export class Collection {
  private readonly lock = new FifoLock();
  private deleted = false;

  constructor(
    readonly info: CollectionInfo,
    readonly index: VectorIndex,
    private readonly deps: CollectionDeps,
  ) {}

  get name(): string {
    return this.info.name;
  }

  /** Whether the collection has a model (false: clients supply every vector). */
  get hasModel(): boolean {
    return this.deps.embedders.hasModel(this.info.embedder);
  }

  /** The collection's embedder, or undefined when clients supply the vectors (loads the model on first use). */
  embedder(): Promise<Embedder | undefined> {
    return this.deps.embedders.forSpec(this.info.embedder);
  }

  /** Checks a client vector against the collection's dimension and metric. */
  checkVector(v: number[], field: string): Float32Array {
    return checkVector(this.info, v, field);
  }

  /** Checks a batch as a write would, without writing (ingest jobs check before queueing). */
  validate(inputs: DocumentInput[]): void {
    validateDocuments(this.info, this.hasModel, inputs);
  }

  /** Checks one document as a write would (duplicates aside), naming its fields with `at`. */
  checkDocument(input: DocumentInput, at: FieldNamer): void {
    checkDocumentAt(this.info, this.hasModel, input, at);
  }

  compileFilter(filter: unknown, field?: string): CompiledFilter | undefined {
    return this.deps.store.compileFilter(filter, field);
  }

  /** Serialises work on the collection's rows and index with its writes. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn);
  }

  /** Runs after every write queued so far (shutdown waits on it before the last snapshot). */
  settle(): Promise<void> {
    return this.lock.run(() => undefined);
  }

  /** Marks the collection deleted: writes still queued write nothing. Call under the lock. */
  async drop(remove: () => void): Promise<void> {
    await this.locked(async () => {
      // Rows first: if the process dies between the two steps, the orphaned index files are
      // never read again, because collection ids are not reused.
      remove();
      this.deleted = true;
      await this.index.drop();
    });
  }

  /** Writes a batch of documents: plan, embed through the cache, commit, apply to the index. */
  async write(inputs: DocumentInput[], opts: WriteOptions): Promise<WriteResult> {
    const isolate = opts.onError === 'isolate-document';
    const outcomes: DocumentOutcome[] = [];
    const valid: { index: number; input: DocumentInput; vector: Float32Array | undefined }[] = [];
    if (isolate) {
      inputs.forEach((input, index) => {
        try {
          valid.push({ index, input, vector: checkDocumentAt(this.info, this.hasModel, input, documentsName(index)) });
        } catch (err) {
          outcomes.push({ index, id: input.id, kind: 'failed', error: err instanceof Error ? err.message : String(err) });
        }
      });
    } else {
      validateDocuments(this.info, this.hasModel, inputs).forEach((vector, index) => valid.push({ index, input: inputs[index]!, vector }));
    }
    // Loads the model before waiting for the lock: a missing model is the caller's 4xx now.
    const embedder = await this.embedder();
    const chunking = effectiveChunking(this.info, opts.chunking);
    const result: WriteResult = { created: 0, updated: 0, unchanged: 0, embedded: 0, notEmbedded: [], outcomes, committed: false };

    return this.locked(async () => {
      if (this.deleted) return result;
      const store = this.deps.store;
      const plans = planDocuments(
        store.documents,
        this.info,
        valid.map((v) => v.input),
        valid.map((v) => v.vector),
        chunking,
      );
      const failedAt = new Map<number, string>();
      const withVector = new Set<number>();
      const toEmbed = plans.flatMap((p, i) => p.toEmbed.map((t) => ({ ...t, plan: i })));
      if (toEmbed.length > 0 && embedder) {
        const { results, embedded } = await embedThroughCache(
          store.cache,
          embedder,
          toEmbed.map((t) => t.text),
          isolate,
          this.deps.retry,
        );
        result.embedded = embedded;
        toEmbed.forEach((t, i) => {
          const v = results[i];
          if (v instanceof EmbedError) {
            if (!isolate) throw v;
            const many = plans[t.plan]!.toEmbed.length > 1;
            if (!failedAt.has(t.plan)) failedAt.set(t.plan, many ? `chunk ${t.chunk.index}: ${v.reason}` : v.reason);
            return;
          }
          t.chunk.vector = v ?? null;
          if (v) withVector.add(t.plan);
        });
      }
      const writes: DocumentWrite[] = [];
      plans.forEach((p, i) => {
        const { index } = valid[i]!;
        const error = failedAt.get(i);
        if (error !== undefined) {
          outcomes.push({ index, id: p.id, kind: 'failed', error });
          return;
        }
        outcomes.push({ index, id: p.id, kind: p.kind });
        if (p.write) writes.push(p.write);
        if (p.kind === 'unchanged') result.unchanged++;
        else if (p.kind === 'created') result.created++;
        else result.updated++;
        // A document none of whose chunks has a vector cannot be found by vector search.
        if (p.toEmbed.length > 0 && !withVector.has(i)) result.notEmbedded.push(p.id);
      });
      outcomes.sort((a, b) => a.index - b.index);
      // No await between this check and the commit, so a cancel cannot slip in between.
      if (opts.proceed && !opts.proceed()) return result;
      const changes = store.documents.write(this.info.id, writes, opts.record && (() => opts.record!(outcomes)));
      result.committed = true;
      await this.index.apply(changes);
      return result;
    });
  }

  /** Embeds the chunk texts of documents into the embedding cache ahead of their write. Best effort. */
  async warm(inputs: DocumentInput[], chunking: ChunkingSpec | null | undefined): Promise<void> {
    // Warming writes into the cache; a cache that keeps nothing would make every text embedded twice.
    if (!this.deps.store.cache.enabled) return;
    const embedder = await this.embedder();
    if (!embedder) return;
    const spec = effectiveChunking(this.info, chunking);
    const texts = inputs.flatMap((d) => chunkTexts(d, spec));
    if (texts.length === 0) return;
    try {
      await embedThroughCache(this.deps.store.cache, embedder, texts, true, { retries: 0, baseMs: 1 });
    } catch {
      // the write will embed (and retry) these texts itself
    }
  }

  async deleteDocument(id: string): Promise<void> {
    await this.locked(async () => {
      const { deleted, changes } = this.deps.store.documents.delete(this.info.id, [id]);
      if (deleted === 0) throw createError('DOCUMENT_NOT_FOUND', { collection: this.name, id });
      await this.index.apply(changes);
    });
  }

  /** Deletes every document the filter selects (undefined: all), in one transaction; returns how many. */
  deleteWhere(filter: CompiledFilter | undefined): Promise<number> {
    return this.locked(async () => {
      // Selected inside the lock, so the set cannot change between the choice and the delete.
      const docs = this.deps.store.documents;
      const { deleted, changes } = docs.delete(this.info.id, docs.idsWhere(this.info.id, filter));
      await this.index.apply(changes);
      return deleted;
    });
  }

  /**
   * Vector candidates, best first. With a filter, the store gives the labels that pass it and
   * the index plans the search over that allow-set (exact scan or filtered HNSW).
   */
  async search(query: Float32Array, k: number, opts: VectorSearchOptions = {}): Promise<{ neighbors: Neighbor[]; plan: SearchPlan; filtered?: number }> {
    const ef = Math.max(opts.ef ?? this.deps.efSearch, k);
    if (!opts.filter) return this.index.search(query, k, { ef, exclude: opts.exclude });
    const allow = new Set(this.deps.store.documents.labelsWhere(this.info.id, opts.filter));
    const out = await this.index.search(query, k, { ef, allow, exclude: opts.exclude });
    return { ...out, filtered: allow.size };
  }

  /** BM25 over chunk text, best first. */
  keyword(text: string, filter: CompiledFilter | undefined, limit: number): Neighbor[] {
    return this.deps.store.documents.keyword(this.info.id, text, filter, limit);
  }

  /** Chunks joined with their documents, for ranked labels. */
  chunks(labels: number[], fields: ChunkFields): Map<number, ChunkHit> {
    return this.deps.store.documents.chunksByLabel(labels, fields);
  }

  vectorsByLabel(labels: number[]): Map<number, Float32Array> {
    return this.deps.store.documents.vectorsByLabel(labels);
  }

  get(id: string): StoredDocument | undefined {
    return this.deps.store.documents.get(this.info.id, id);
  }

  chunksOf(doc: StoredDocument): ChunkSpan[] {
    return this.deps.store.documents.chunksOf(doc.pk);
  }

  vectorOf(doc: StoredDocument): Float32Array | null {
    return this.deps.store.documents.vectorOf(doc.pk);
  }

  /** Documents in id order after `afterId`, optionally those a filter selects. */
  page(afterId: string, limit: number, filter?: CompiledFilter): StoredDocument[] {
    return this.deps.store.documents.page(this.info.id, afterId, limit, filter);
  }

  documentVectors(ids: string[]): Map<string, DocumentVectors> {
    return this.deps.store.documents.documentVectors(this.info.id, ids);
  }

  /** pks of the documents with a vector that pass the filter (for sampling), and their analysis rows. */
  analysisPks(filter: CompiledFilter | undefined): number[] {
    return this.deps.store.documents.analysisPks(this.info.id, filter);
  }

  analysisDocuments(pks: number[], maxText: number): AnalysisDocument[] {
    return this.deps.store.documents.analysisDocuments(pks, maxText);
  }

  documentCount(): number {
    return this.deps.store.collections.documentCount(this.info.id);
  }

  stats(): Promise<IndexStats> {
    return this.index.stats();
  }
}

