// Owns the open collections: opening each one's index at start-up (snapshot + replay, or a
// rebuild), creating and deleting collections, periodic and final index snapshots.
import type { Logger } from 'pino';
import type { ChunkingSpec, CollectionInfo, EmbedderSpec, HnswParams, Metric, ReduceSpec } from '../domain/types.js';
import type { Embedders } from '../embedding/index.js';
import { createError } from '../errors/index.js';
import type { IndexHostApi, VectorIndex } from '../index/index.js';
import { LocalVectorIndex } from '../index/index.js';
import type { Store } from '../storage/index.js';
import type { CollectionDeps } from './collection.js';
import { Collection, checkFromLog } from './collection.js';
import { ReducedIndex, Reducer } from './reduce.js';

export interface CreateCollectionInput {
  name: string;
  metric: Metric;
  embedder: EmbedderSpec;
  dimension?: number;
  /** The collection's default chunking; absent: the server default. */
  chunking?: ChunkingSpec;
  /** HNSW build parameters; absent ones: the server's (QUIVER_HNSW_M, QUIVER_HNSW_EF_CONSTRUCTION). */
  hnsw?: Partial<HnswParams>;
  /** Project the vectors onto fewer dimensions (reduce.ts); `dimensions` must be below the embedder's. */
  reduce?: ReduceSpec;
  /** Materialises the pending collection with this UUID (storage CollectionCatalog): it keeps its UUID and surface attributes. */
  uuid?: string;
}

export interface RegistryOptions extends CollectionDeps {
  /** Folder of the index snapshots. */
  indexDir: string;
  /** Filtered searches whose filter passes at most this many chunks scan them exactly. */
  exactThreshold: number;
  /** HNSW build parameters of new collections. */
  hnsw: HnswParams;
  /** The host (a worker thread's, or this thread's) that keeps a collection's graph. */
  indexHost: (collectionId: number) => IndexHostApi;
}

export class CollectionRegistry {
  private readonly open = new Map<string, Collection>();

  constructor(private readonly opts: RegistryOptions) {}

  private get store(): Store {
    return this.opts.store;
  }

  private get log(): Logger {
    return this.opts.log;
  }

  private get embedders(): Embedders {
    return this.opts.embedders;
  }

  /** Opens every stored collection's index; then loads the models in use (a missing model is logged, not fatal). */
  async openAll(defaultSpec: EmbedderSpec | undefined): Promise<void> {
    const specs = new Map<string, EmbedderSpec>();
    if (defaultSpec) specs.set(JSON.stringify(defaultSpec), defaultSpec);
    for (const info of this.store.collections.list()) {
      this.open.set(info.name, await this.openCollection(info));
      specs.set(JSON.stringify(info.embedder), info.embedder);
    }
    for (const spec of specs.values()) {
      const started = Date.now();
      try {
        const e = await this.embedders.forSpec(spec);
        if (e) this.log.info({ model: spec.model ?? e.id, dimensions: e.dimensions, ms: Date.now() - started }, 'embedding model loaded');
      } catch (err) {
        // A collection whose model is gone still serves vector queries and reads; say so loudly.
        this.log.error({ embedder: spec, err: (err as Error).message }, 'embedding model could not be loaded');
      }
    }
  }

  /** A stored collection with its index opened (snapshot + replay, or a rebuild). */
  private async openCollection(info: CollectionInfo): Promise<Collection> {
    const openIndex = async (at: CollectionInfo, validFrom?: number): Promise<VectorIndex> => {
      const { index } = await LocalVectorIndex.open(at, {
        dir: this.opts.indexDir,
        source: this.store.documents,
        log: this.log,
        exactThreshold: this.opts.exactThreshold,
        host: this.opts.indexHost(info.id),
        validFrom,
      });
      return index;
    };
    const reduction = this.store.reductions.get(info.id);
    if (!reduction) return new Collection(info, await openIndex(info), this.opts);
    // A reduced collection's index holds vectors of the reduced dimension once fitted.
    const reducer = new Reducer(reduction.spec, info.dimension, reduction.fitted);
    const inner = await openIndex({ ...info, dimension: reducer.indexDimension }, reduction.fitted?.seq);
    // Reopened right after a fit, under the collection's lock: `seq` is the fit's, the current one.
    const index = new ReducedIndex(inner, reducer, (dimension, seq) => openIndex({ ...info, dimension, seq }, seq));
    const c = new Collection(info, index, this.opts, { reducer, index });
    await c.queueFitIfDue();
    return c;
  }

  /** The open collection, or 404 COLLECTION_NOT_FOUND. */
  get(name: string): Collection {
    const c = this.open.get(name);
    if (!c) throw createError('COLLECTION_NOT_FOUND', { name });
    return c;
  }

  find(name: string): Collection | undefined {
    return this.open.get(name);
  }

  /** Open collections by name. */
  list(): Collection[] {
    return [...this.open.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** `fromLog`: cluster mode's catalog creates it (any other create is refused there, CollectionDeps.logOnly). */
  async create(input: CreateCollectionInput, fromLog = false): Promise<Collection> {
    checkFromLog(this.opts.logOnly, fromLog, 'creating a collection');
    const { spec, dimension } = await this.embedders.resolve(input.embedder, input.dimension);
    if (input.reduce && input.reduce.dimensions >= dimension) {
      throw createError('VALIDATION_FAILED', {
        issues: [{ field: 'reduce.dimensions', message: `must be less than the embedder's dimension (${dimension}), got ${input.reduce.dimensions}` }],
      });
    }
    const info = this.store.collections.create({
      reduce: input.reduce,
      name: input.name,
      metric: input.metric,
      dimension,
      embedder: spec,
      hnsw: { m: input.hnsw?.m ?? this.opts.hnsw.m, efConstruction: input.hnsw?.efConstruction ?? this.opts.hnsw.efConstruction },
      chunking: input.chunking ?? null,
      uuid: input.uuid,
    });
    if (!info) throw createError('COLLECTION_EXISTS', { name: input.name });
    const c = await this.openCollection(info);
    this.open.set(info.name, c);
    this.log.info({ collection: info.name, dimension, metric: info.metric, embedder: spec, reduce: input.reduce }, 'collection created');
    return c;
  }

  async delete(name: string, fromLog = false): Promise<void> {
    checkFromLog(this.opts.logOnly, fromLog, 'deleting a collection');
    const c = this.get(name);
    await c.drop(() => this.store.collections.delete(c.info.id));
    if (this.open.get(name) === c) this.open.delete(name);
    this.log.info({ collection: name }, 'collection deleted');
  }

  /** Saves every index that changed since its last snapshot; a failure is logged (SQLite has every write). */
  async saveAll(): Promise<number> {
    let saved = 0;
    for (const c of this.list()) {
      try {
        if (await c.index.save()) saved++;
      } catch (err) {
        this.log.error({ err, collection: c.name }, 'index snapshot failed; SQLite still has every write');
      }
    }
    return saved;
  }

  /** Lets queued writes finish, then writes the last snapshots. */
  async close(): Promise<void> {
    await Promise.all(this.list().map((c) => c.settle()));
    await this.saveAll();
  }
}
