// Owns the running database: wires storage, the vector indexes and the embedding models, and
// the lifecycle of collections (create, open at start-up, delete) and of the process (ready,
// periodic index snapshots, clean close). Verbs on documents live in ingest/ and query/.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { BUILTIN_MODELS_DIR } from '../config/index.js';
import { createError } from '../errors/index.js';
import type { ChunkingSpec, Collection, Db, EmbedderSpec, Metric } from '../storage/index.js';
import { CollectionsRepo, DocumentsRepo, EmbeddingCache, JobsRepo, openDatabase } from '../storage/index.js';
import { IndexManager } from '../index/index.js';
import type { Embedder, TitanModel } from '../embedding/index.js';
import { EmbedderRegistry, titanDimensions } from '../embedding/index.js';
import { FifoLock } from '../util/fifo-lock.js';
import { instrumentEmbedder } from '../util/embed-channel.js';
import { JobRunner } from '../ingest/jobs.js';

export interface CreateCollectionInput {
  name: string;
  metric: Metric;
  embedder: EmbedderSpec;
  dimension?: number;
  /** The collection's default chunking; absent: the server default. */
  chunking?: ChunkingSpec;
}

export class Engine {
  readonly collections: CollectionsRepo;
  readonly docs: DocumentsRepo;
  readonly cache: EmbeddingCache;
  readonly indexes: IndexManager;
  readonly embedders: EmbedderRegistry;
  private readonly writeLocks = new Map<number, FifoLock>();
  private snapshotTimer: NodeJS.Timeout | undefined;
  private state: 'starting' | 'ready' | 'draining' | 'closing' | 'closed' = 'starting';

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly db: Db,
  ) {
    this.collections = new CollectionsRepo(db);
    this.docs = new DocumentsRepo(db, this.collections);
    this.cache = new EmbeddingCache(db, config.embedCacheMax);
    this.indexes = new IndexManager(path.join(config.dataDir, 'indexes'), this.docs, log);
    const searchDirs = [config.modelsDir];
    if (path.resolve(BUILTIN_MODELS_DIR) !== config.modelsDir) searchDirs.push(BUILTIN_MODELS_DIR);
    this.embedders = new EmbedderRegistry({
      searchDirs,
      allowDownload: config.allowModelDownload,
      poolSize: config.ingest.embedWorkers,
      bedrock: { ...config.bedrock, retry: { retries: config.ingest.retries, baseMs: config.ingest.retryBaseMs } },
    });
    this.jobs = new JobsRepo(db, this.docs);
    this.ingest = new JobRunner(this);
    this.services.push(this.ingest);
  }

  readonly jobs: JobsRepo;
  /** Works through queued ingest jobs while the engine is ready. */
  readonly ingest: JobRunner;
  /** Long-running services (the ingest job runner) started when ready and stopped before close. */
  private readonly services: { start(): void; stop(): Promise<void> }[] = [];

  addService(s: { start(): void; stop(): Promise<void> }): void {
    this.services.push(s);
    if (this.state === 'ready') s.start();
  }

  /** Opens the database (fast, synchronous); call start() to load indexes and models. */
  static open(config: Config, log: Logger): Engine {
    const db = openDatabase({ file: path.join(config.dataDir, 'quiver.db'), sync: config.sync });
    return new Engine(config, log, db);
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get status(): string {
    return this.state;
  }

  /** Loads every collection's index and every model in use, then starts periodic snapshots. */
  async start(): Promise<void> {
    const models = new Set<string>();
    if (this.config.defaultEmbedder === 'local') models.add(this.config.defaultModel);
    for (const c of this.collections.list()) {
      await this.indexes.open(c);
      if (c.embedder.provider === 'local' && c.embedder.model) models.add(c.embedder.model);
    }
    for (const m of models) {
      const started = Date.now();
      try {
        const e = await this.embedders.local(m);
        this.log.info({ model: m, dimensions: e.dimensions, ms: Date.now() - started }, 'embedding model loaded');
      } catch (err) {
        // A collection whose model is gone still serves vector queries and reads; say so loudly.
        this.log.error({ model: m, err: (err as Error).message }, 'embedding model could not be loaded');
      }
    }
    // Indexes rebuilt at open are written now rather than at the first interval.
    await this.indexes.snapshotAll();
    this.snapshotTimer = setInterval(() => void this.indexes.snapshotAll(), this.config.snapshotIntervalMs);
    this.snapshotTimer.unref();
    // A shutdown that began while loading wins: the server must not turn ready again.
    if (this.state === 'starting') {
      this.state = 'ready';
      for (const s of this.services) s.start();
    }
  }

  /** Shutdown has begun: /readyz and new /v1 requests answer 503 while in-flight ones finish. */
  drain(): void {
    if (this.state === 'starting' || this.state === 'ready') this.state = 'draining';
  }

  /** Serialises writes to one collection, so a write never works on rows another one changed mid-way. */
  withWriteLock<T>(collectionId: number, fn: () => Promise<T>): Promise<T> {
    let lock = this.writeLocks.get(collectionId);
    if (!lock) {
      lock = new FifoLock();
      this.writeLocks.set(collectionId, lock);
    }
    return lock.run(fn);
  }

  collection(name: string): Collection {
    const c = this.collections.get(name);
    if (!c) throw createError('COLLECTION_NOT_FOUND', { name });
    return c;
  }

  /** The collection's embedder, or undefined for provider "none". */
  async embedderFor(c: Collection): Promise<Embedder | undefined> {
    if (c.embedder.provider === 'bedrock') {
      return instrumentEmbedder(this.embedders.bedrock(c.embedder.model as TitanModel, c.embedder.dimensions, c.embedder.normalize));
    }
    if (c.embedder.provider !== 'local') return undefined;
    // Instrumented: each model call is published for the metrics (util/embed-channel.ts).
    return instrumentEmbedder(await this.embedders.local(c.embedder.model ?? this.config.defaultModel));
  }

  async createCollection(input: CreateCollectionInput): Promise<Collection> {
    let dimension = input.dimension;
    let embedder: EmbedderSpec = input.embedder;
    if (embedder.provider === 'local') {
      const model = embedder.model ?? this.config.defaultModel;
      const e = await this.embedders.local(model);
      if (dimension !== undefined && dimension !== e.dimensions) {
        throw createError('VALIDATION_FAILED', {
          issues: [{ field: 'dimension', message: `model "${model}" makes ${e.dimensions}-dimension vectors, not ${dimension}; omit dimension` }],
        });
      }
      dimension = e.dimensions;
      embedder = { provider: 'local', model };
    } else if (embedder.provider === 'bedrock') {
      // Titan's size is known from the spec: creating a collection makes no call to AWS.
      const model = embedder.model as TitanModel;
      const made = titanDimensions(model, embedder.dimensions);
      if (dimension !== undefined && dimension !== made) {
        throw createError('VALIDATION_FAILED', { issues: [{ field: 'dimension', message: `${model} makes ${made}-dimension vectors, not ${dimension}; omit dimension` }] });
      }
      dimension = made;
      embedder =
        model === 'amazon.titan-embed-text-v1'
          ? { provider: 'bedrock', model }
          : { provider: 'bedrock', model, dimensions: made, normalize: embedder.normalize ?? true };
    } else if (dimension === undefined) {
      throw createError('VALIDATION_FAILED', { issues: [{ field: 'dimension', message: 'required when embedder.provider is "none"' }] });
    } else {
      embedder = { provider: 'none' };
    }
    const created = this.collections.create({
      name: input.name,
      metric: input.metric,
      dimension,
      embedder,
      hnsw: { m: this.config.hnsw.m, efConstruction: this.config.hnsw.efConstruction },
      chunking: input.chunking ?? null,
    });
    if (!created) throw createError('COLLECTION_EXISTS', { name: input.name });
    await this.indexes.open(created);
    this.log.info({ collection: created.name, dimension, metric: created.metric, embedder }, 'collection created');
    return created;
  }

  async deleteCollection(name: string): Promise<void> {
    const c = this.collection(name);
    await this.withWriteLock(c.id, async () => {
      // Rows first: if the process dies between the two steps, the orphaned files are never
      // read again, because collection ids are not reused.
      this.collections.delete(c.id);
      await this.indexes.drop(c.id);
    });
    this.writeLocks.delete(c.id);
    this.log.info({ collection: name }, 'collection deleted');
  }

  /** Saves indexes and closes everything; safe to call twice. */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    // The job runner stops between batches; unfinished jobs resume at the next start.
    await Promise.all(this.services.map((s) => s.stop()));
    // Let queued writes finish before the final snapshot.
    await Promise.all([...this.writeLocks.values()].map((l) => l.run(() => undefined)));
    await this.indexes.snapshotAll();
    await this.embedders.closeAll();
    this.db.close();
    this.state = 'closed';
  }
}
