// A collection that is open: its stored row, its VectorIndex and its write lock. It is the only
// code that writes documents and applies the resulting index changes — every write goes through
// `write` (upsert, ingest jobs, and later a replica applying a log) or the two deletes, and each
// joins the collection's group commit (write-group.ts): the requests waiting are committed in one
// transaction, under the lock, and the group's index changes are applied in the same tick, so the
// index follows SQLite in commit order. Reads that need the index or the store (search, keyword,
// joins) are here too, so a caller holds a Collection, never the store or the index.
import type { Logger } from 'pino';
import type {
  ChunkFields,
  ChunkHit,
  ChunkingSpec,
  ChunkSpan,
  CollectionInfo,
  DocumentInput,
  DocumentWrite,
  FittedProjection,
  ImageData,
  IndexChanges,
  Neighbor,
  Reduction,
  StoredDocument,
} from '../domain/types.js';
import type { Embedder, Embedders, RetryOptions } from '../embedding/index.js';
import { EmbedError, embedImagesThroughCache, embedThroughCache } from '../embedding/index.js';
import { createError } from '../errors/index.js';
import type { IndexStats, SearchPlan, VectorIndex } from '../index/index.js';
import type { AnalysisDocument, CompiledFilter, DocumentVectors, KeywordStats, Store } from '../storage/index.js';
import { FifoLock } from '../util/fifo-lock.js';
import type { ReducedIndex, Reducer } from './reduce.js';
import { projectVector } from './reduce.js';
import { LATER, WriteGroups } from './write-group.js';
import { DEFAULT_MAX_IMAGE_BYTES, decodeImage } from './image.js';
import type { DocumentPlan, FieldNamer, ImageRules, PlanKind } from './write-plan.js';
import { checkDocumentAt, checkVector, chunkSpans, chunkTexts, documentsName, effectiveChunking, planDocuments, validateDocuments } from './write-plan.js';

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
  /** Cluster mode: this write is a replica applying the log (any other write is refused there; see CollectionDeps.logOnly). */
  fromLog?: boolean;
  /**
   * Cluster mode: the vectors an ingest worker made, by chunk text (null: nothing the model knows).
   * The write then never calls the model; a chunk text missing here means the worker chunked
   * otherwise than this node would, and the write throws rather than embed or store it unembedded.
   */
  embedded?: ReadonlyMap<string, Float32Array | null>;
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
  /**
   * Cluster mode (docs/cluster.md): documents change only by applying the log, so every replica
   * holds the same data; a write from anywhere else (a surface not routed through the log, an
   * ingest job) is refused rather than landing on this node alone.
   */
  logOnly?: boolean;
  /** Largest image (decoded bytes) a document or query may carry (QUIVER_MAX_IMAGE_BYTES); default 5 MiB. */
  maxImageBytes?: number;
}

/** Refuses a write that does not come from the log on a node whose data is the log's (CollectionDeps.logOnly). */
export function checkFromLog(logOnly: boolean | undefined, fromLog: boolean | undefined, what: string): void {
  if (logOnly && !fromLog) throw createError('CLUSTER_UNSUPPORTED', { what: `${what} other than through the cluster's log` });
}

export interface VectorSearchOptions {
  filter?: CompiledFilter;
  ef?: number;
  exclude?: ReadonlySet<number>;
}

/** Documents one group commit takes at most (see WriteGroupsOptions.maxDocuments and benchmarks/writers.ts). */
export const GROUP_MAX_DOCUMENTS = 1000;

/** A reduced collection's reducer and the index seam that projects its queries (reduce.ts). */
export interface CollectionReduction {
  reducer: Reducer;
  index: ReducedIndex;
}

/** A fitted projection to install: the fit, and the vectors it projected already (by label). */
export interface ProjectionInstall {
  fit: Omit<FittedProjection, 'seq'>;
  projected: Map<number, Float32Array>;
}

/** What a write that proceed() stopped gives the index: nothing. */
const NO_CHANGES: IndexChanges = { seq: 0, adds: [], deletes: [] };

export class Collection {
  private readonly lock = new FifoLock();
  private deleted = false;
  private readonly groups: WriteGroups;

  constructor(
    readonly info: CollectionInfo,
    readonly index: VectorIndex,
    private readonly deps: CollectionDeps,
    private readonly reduced?: CollectionReduction,
  ) {
    this.groups = new WriteGroups({
      name: info.name,
      store: deps.store,
      index,
      lock: this.lock,
      isDeleted: () => this.deleted,
      maxDocuments: GROUP_MAX_DOCUMENTS,
    });
  }

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

  /** What the collection's model embeds and how large an image may be (known without loading the model). */
  private imageRules(): ImageRules {
    const spec = this.info.embedder;
    return {
      modalities: this.deps.embedders.modalities(spec),
      maxBytes: this.deps.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES,
      embedder: [spec.provider, spec.model].filter(Boolean).join(' '),
    };
  }

  /** Checks a query's image as a document's is checked: size, PNG or JPEG, and a model that embeds images. */
  checkImage(base64: string, field: string): ImageData {
    const rules = this.imageRules();
    const image = decodeImage(base64, field, rules.maxBytes);
    if (!this.hasModel) throw createError('NO_EMBEDDER', { field, collection: this.name });
    if (!rules.modalities.includes('image')) throw createError('IMAGE_NOT_SUPPORTED', { field, collection: this.name, embedder: rules.embedder });
    return image;
  }

  /** A stored image's bytes by its sha-256 (a document's imageSha256). */
  image(sha256: string): Buffer | undefined {
    return this.deps.store.documents.image(sha256);
  }

  /**
   * The chunks of a batch the model would embed in a write (text without a client vector), cut
   * as the write cuts them: a cluster's ingest worker embeds these, and the replicas' writes
   * look each chunk's vector up by its text (WriteOptions.embedded).
   */
  chunksToEmbed(inputs: DocumentInput[], chunking: ChunkingSpec | null | undefined): { document: number; start: number; end: number; text: string }[] {
    if (!this.hasModel) return [];
    const spec = effectiveChunking(this.info, chunking);
    return inputs.flatMap((d, document) => chunkSpans(d, spec).map((s) => ({ document, start: s.start, end: s.end, text: d.text!.slice(s.start, s.end) })));
  }

  /**
   * Cluster workers: embeds chunk texts with the collection's model, through the cache (a batch
   * delivered again costs nothing), transient failures retried. A text the model rejects gets
   * null, as a text it knows nothing of: its document is stored without that vector rather than
   * holding up the log. Throws when the model cannot be reached at all (no access, still down).
   */
  async embedTexts(texts: string[]): Promise<{ vectors: (Float32Array | null)[]; embedded: number; rejected: number }> {
    const embedder = await this.embedder();
    if (!embedder) throw createError('NO_EMBEDDER', { field: 'text', collection: this.name });
    const { results, embedded } = await embedThroughCache(this.deps.store.cache, embedder, texts, true, this.deps.retry);
    let rejected = 0;
    const vectors = results.map((v) => {
      if (!(v instanceof EmbedError)) return v;
      if (v.kind !== 'input') throw v;
      rejected++;
      return null;
    });
    return { vectors, embedded, rejected };
  }

  /** Checks a batch as a write would, without writing (ingest jobs check before queueing). */
  validate(inputs: DocumentInput[]): void {
    validateDocuments(this.info, this.hasModel, inputs, this.imageRules());
  }

  /** Checks one document as a write would (duplicates aside), naming its fields with `at`. */
  checkDocument(input: DocumentInput, at: FieldNamer): void {
    checkDocumentAt(this.info, this.hasModel, input, at, this.imageRules());
  }

  compileFilter(filter: unknown, field?: string): CompiledFilter | undefined {
    return this.deps.store.compileFilter(filter, field);
  }

  /** Serialises work on the collection's rows and index with its writes. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn);
  }

  /**
   * Runs after every write queued so far was committed (shutdown waits on it before the last
   * snapshot, which the index takes after the applies already handed to it).
   */
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

  /**
   * Writes a batch of documents: plan and embed (through the cache) outside the lock, then join
   * the collection's next group commit, where the batch is planned again against the rows as
   * they are then (earlier members of the group included) and written in its own savepoint.
   * Answers once the group committed and the index applied it.
   */
  async write(inputs: DocumentInput[], opts: WriteOptions): Promise<WriteResult> {
    checkFromLog(this.deps.logOnly, opts.fromLog, 'writing documents');
    const isolate = opts.onError === 'isolate-document';
    const images = this.imageRules();
    const invalid: DocumentOutcome[] = [];
    const valid: { index: number; input: DocumentInput; vector: Float32Array | undefined }[] = [];
    if (isolate) {
      inputs.forEach((input, index) => {
        try {
          valid.push({ index, input, vector: checkDocumentAt(this.info, this.hasModel, input, documentsName(index), images) });
        } catch (err) {
          invalid.push({ index, id: input.id, kind: 'failed', error: err instanceof Error ? err.message : String(err) });
        }
      });
    } else {
      validateDocuments(this.info, this.hasModel, inputs, images).forEach((vector, index) => valid.push({ index, input: inputs[index]!, vector }));
    }
    // Loads the model before queueing: a missing model is the caller's 4xx now. Vectors made by a
    // worker need no model here at all.
    const supplied = opts.embedded;
    const embedder = supplied ? undefined : await this.embedder();
    const canEmbed = supplied !== undefined || embedder !== undefined;
    const chunking = effectiveChunking(this.info, opts.chunking);
    const result: WriteResult = { created: 0, updated: 0, unchanged: 0, embedded: 0, notEmbedded: [], outcomes: [...invalid], committed: false };
    const store = this.deps.store;
    const plan = () =>
      planDocuments(
        store.documents,
        this.info,
        valid.map((v) => v.input),
        valid.map((v) => v.vector),
        chunking,
      );

    // Chunk texts embedded for this write, by text (a text is embedded once whatever chunk has it);
    // image chunks by their imageKey, so one image is embedded once too.
    const vectors = new Map<string, Float32Array | null | EmbedError>();
    const keep = (keys: string[], results: (Float32Array | null | EmbedError)[]) =>
      keys.forEach((k, i) => {
        const v = results[i];
        if (v instanceof EmbedError && !isolate) throw v;
        vectors.set(k, v ?? null);
      });
    const embedFor = async (plans: DocumentPlan[]): Promise<void> => {
      const todo = plans.flatMap((p) => p.toEmbed).filter((t) => !vectors.has(t.text));
      if (todo.length === 0 || !canEmbed) return;
      if (supplied) {
        keep(
          todo.map((t) => t.text),
          todo.map((t) => {
            const v = supplied.get(t.text);
            if (v === undefined || t.image) throw new Error(`no vector was supplied for chunk ${t.chunk.index} of the write (${JSON.stringify(t.text.slice(0, 40))}...): the worker chunked it otherwise`);
            return v;
          }),
        );
        return;
      }
      if (!embedder) return;
      const texts = [...new Set(todo.filter((t) => !t.image).map((t) => t.text))];
      const pictures = [...new Map(todo.flatMap((t) => (t.image ? [[t.text, t.image] as const] : []))).entries()];
      if (texts.length > 0) {
        const { results, embedded } = await embedThroughCache(store.cache, embedder, texts, isolate, this.deps.retry);
        result.embedded += embedded;
        keep(texts, results);
      }
      if (pictures.length > 0) {
        const { results, embedded } = await embedImagesThroughCache(store.cache, embedder, pictures.map(([, img]) => img), isolate);
        result.embedded += embedded;
        keep(pictures.map(([k]) => k), results);
      }
    };
    // Embedding may be slow (a local model, a remote provider): it happens here, outside the
    // lock, against the rows as they are now, so other writers' groups commit meanwhile. Client
    // vectors need no embedding and skip this planning.
    if (canEmbed && valid.some((v) => v.vector === undefined && (typeof v.input.text === 'string' || v.input.image !== undefined))) await embedFor(plan());

    const step = (): IndexChanges | typeof LATER => {
      // In the group's transaction: nothing awaits between this check and the commit.
      if (opts.proceed && !opts.proceed()) return NO_CHANGES;
      const plans = plan();
      // A concurrent write changed a document since the embedding above, and its text must be
      // embedded after all: the group is cut here and this write leads the next one (prepare).
      if (plans.some((p) => p.toEmbed.some((t) => !vectors.has(t.text)))) return LATER;
      const outcomes = [...invalid];
      const counts = { created: 0, updated: 0, unchanged: 0 };
      const notEmbedded: string[] = [];
      const writes: DocumentWrite[] = [];
      plans.forEach((p, i) => {
        const { index } = valid[i]!;
        let error: string | undefined;
        let withVector = false;
        for (const t of p.toEmbed) {
          const v = vectors.get(t.text);
          if (v instanceof EmbedError) {
            error ??= p.toEmbed.length > 1 ? `chunk ${t.chunk.index}: ${v.reason}` : v.reason;
            continue;
          }
          t.chunk.vector = v ?? null;
          if (v) withVector = true;
        }
        if (error !== undefined) {
          outcomes.push({ index, id: p.id, kind: 'failed', error });
          return;
        }
        outcomes.push({ index, id: p.id, kind: p.kind });
        if (p.write) writes.push(p.write);
        if (p.kind === 'unchanged') counts.unchanged++;
        else if (p.kind === 'created') counts.created++;
        else counts.updated++;
        // A document none of whose chunks has a vector cannot be found by vector search.
        if (p.toEmbed.length > 0 && !withVector) notEmbedded.push(p.id);
      });
      outcomes.sort((a, b) => a.index - b.index);
      this.reduced?.reducer.prepare(writes);
      const changes = store.documents.write(this.info.id, writes, opts.record && (() => opts.record!(outcomes)));
      Object.assign(result, counts, { notEmbedded, outcomes, committed: true });
      return changes;
    };

    await this.groups.submit({
      documents: Math.max(1, valid.length),
      prepare: () => embedFor(plan()),
      step,
    });
    if (result.committed) await this.queueFitIfDue();
    return result;
  }

  /** A reduced collection's settings and projection (null until fitted); undefined for others. */
  get reduction(): Reduction | undefined {
    return this.reduced?.reducer.reduction;
  }

  /**
   * Queues the first fit of a reduced collection (a 'refit' job) once it holds fitOn vectors, if
   * no fit job was ever queued for it (a failed or cancelled one is redone by POST .../reduce/refit).
   * Called after each write and at open: a crash between a write and this leaves nothing undone.
   */
  async queueFitIfDue(): Promise<void> {
    const reducer = this.reduced?.reducer;
    if (!reducer || reducer.fitted || this.deleted) return;
    const { size } = await this.index.stats();
    if (size < reducer.spec.fitOn) return;
    // No await from here to the insert: two writes crossing the threshold queue one job.
    const jobs = this.deps.store.jobs;
    if (jobs.list({ collectionIds: [this.info.id], kind: 'refit', limit: 1 }).length > 0) return;
    const job = jobs.createTask(this.info.id, 'refit', { reason: 'first fit' });
    this.deps.log.info({ collection: this.name, job: job.id, vectors: size }, 'reduced collection: first fit queued');
  }

  /** The embedder's vectors of the chunks, in the order written (a reduced collection's fit sample). */
  fullVectors(): Iterable<{ label: number; vector: Float32Array }> {
    return this.deps.store.reductions.fullVectors(this.info.id, this.info.dimension);
  }

  /**
   * Installs a fitted projection, under the lock (between two group commits): every chunk's vector
   * is replaced by its projection (those written since the fit's sample was read are projected
   * here) in one transaction, then the index is rebuilt from SQLite at the reduced dimension.
   * Restart-safe: the transaction is all or nothing, and an index snapshot older than it is never
   * used (reduce.ts). Returns the fit as stored.
   */
  async installProjection(p: ProjectionInstall): Promise<FittedProjection> {
    const reduced = this.reduced;
    if (!reduced) throw new Error(`collection ${this.name} is not reduced`);
    return this.locked(async () => {
      if (this.deleted) throw createError('COLLECTION_NOT_FOUND', { name: this.name });
      const { reducer, index } = reduced;
      const projected = p.projected;
      const vectors = (function* (source: Iterable<{ label: number; vector: Float32Array }>) {
        for (const { label, vector } of source) yield { label, vector: projected.get(label) ?? projectVector(p.fit, vector) };
      })(this.fullVectors());
      // Read to the end before the transaction writes the rows it reads.
      const all = [...vectors];
      const fit = this.deps.store.reductions.install(this.info.id, { fit: p.fit, vectors: all, keepFull: reducer.spec.keepFull, fullDimension: this.info.dimension });
      reducer.installed(fit);
      await index.rebuild(fit.seq);
      return fit;
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

  /**
   * A replica applying a delete from the log: deletes the documents that are there (a missing one
   * is no error: the log may hold a delete twice) and runs `record` in the same transaction.
   */
  async applyDelete(ids: string[], record: () => void): Promise<number> {
    let n = 0;
    await this.groups.submit({
      documents: Math.max(1, ids.length),
      step: () => {
        const { deleted, changes } = this.deps.store.documents.delete(this.info.id, ids);
        record();
        n = deleted;
        return changes;
      },
    });
    return n;
  }

  /** Deletes one document in the collection's next group commit; DOCUMENT_NOT_FOUND when it is not there. */
  async deleteDocument(id: string): Promise<void> {
    checkFromLog(this.deps.logOnly, false, 'deleting documents');
    const notFound = () => createError('DOCUMENT_NOT_FOUND', { collection: this.name, id });
    const end = await this.groups.submit({
      documents: 1,
      step: () => {
        const { deleted, changes } = this.deps.store.documents.delete(this.info.id, [id]);
        if (deleted === 0) throw notFound();
        return changes;
      },
    });
    if (end === 'gone') throw notFound();
  }

  /**
   * Deletes every document the filter selects (undefined: all), in the next group commit; returns
   * how many. A replica applying a delete-by-filter from the log passes `record` (run in the same
   * transaction); the filter then selects what this replica holds at that point of the log.
   */
  async deleteWhere(filter: CompiledFilter | undefined, record?: () => void): Promise<number> {
    checkFromLog(this.deps.logOnly, record !== undefined, 'deleting documents');
    let n = 0;
    await this.groups.submit({
      // Its size is not known before it runs; it counts as one request.
      documents: 1,
      step: () => {
        // Selected inside the group's transaction, after the earlier members' writes, so the set
        // cannot change between the choice and the delete.
        const docs = this.deps.store.documents;
        const { deleted, changes } = docs.delete(this.info.id, docs.idsWhere(this.info.id, filter));
        record?.();
        n = deleted;
        return changes;
      },
    });
    return n;
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
  keyword(text: string, filter: CompiledFilter | undefined, limit: number, stats?: KeywordStats): Neighbor[] {
    return this.deps.store.documents.keyword(this.info.id, text, filter, limit, stats);
  }

  /** This collection's keyword statistics for a query (a shard's part of the whole collection's). */
  keywordStats(text: string): KeywordStats {
    return this.deps.store.documents.keywordStats(this.info.id, text);
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

  /** Documents in the order they were first written, skipping `offset`, optionally those a filter selects. */
  slice(offset: number, limit: number, filter?: CompiledFilter): StoredDocument[] {
    return this.deps.store.documents.slice(this.info.id, offset, limit, filter);
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

  /** Which of the metadata keys hold a value in some document here, themselves or below them (dotted). */
  keysPresent(keys: string[]): Set<string> {
    return keys.length === 0 ? new Set() : this.deps.store.documents.keysPresent(this.info.id, keys);
  }

  /** How many documents the filter selects (undefined: all). */
  count(filter: CompiledFilter | undefined): number {
    return filter === undefined ? this.documentCount() : this.deps.store.documents.countWhere(this.info.id, filter);
  }

  documentCount(): number {
    return this.deps.store.collections.documentCount(this.info.id);
  }

  stats(): Promise<IndexStats> {
    return this.index.stats();
  }
}

