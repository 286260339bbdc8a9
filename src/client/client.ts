// Owns the hand-written face of the typed client: QuiverClient and the handles it gives out
// (collections, collection(name), jobs, admin). Every call goes through openapi-fetch typed by
// schema.ts, which is generated from the server's own OpenAPI document, so a path, a body or an
// answer that the server changes stops compiling here rather than failing at run time. This file
// adds only what a generator cannot: names people read, errors thrown as QuiverApiError, the API
// key, the retry rule (transport.ts), pagination, job polling and bulk ingest (ingest.ts).
import { QuiverCore } from './core.js';
import type { Answer, CallOptions, QuiverClientOptions } from './core.js';
import { QuiverApiError } from './errors.js';
import { ingest, submitIngest } from './ingest.js';
import type { IngestOptions, IngestResult, SubmitIngestOptions } from './ingest.js';
import { sleep } from './transport.js';
import { readServerEvents } from './events.js';
import type {
  AnswerInput,
  AnswerResult,
  AnswerStreamEvent,
  Backup,
  BackupInput,
  ClusterInput,
  ClusterResult,
  Collection,
  ContextInput,
  ContextResult,
  CreateCollectionInput,
  DocumentInput,
  DocumentPage,
  Filter,
  Job,
  JobPage,
  ListJobsQuery,
  ProjectInput,
  ProjectResult,
  QueryInput,
  QueryResult,
  RecommendInput,
  StoredDocument,
  UpsertResult,
  ChunkingInput,
  Accepted,
  LogPosition,
} from './types.js';
import { isFinished } from './types.js';

export class QuiverClient extends QuiverCore {
  readonly collections: CollectionsApi;
  readonly jobs: JobsApi;
  readonly admin: AdminApi;

  constructor(options: QuiverClientOptions) {
    super(options);
    this.collections = new CollectionsApi(this);
    this.jobs = new JobsApi(this);
    this.admin = new AdminApi(this);
  }

  /** A handle on one collection's documents, searches and ingest; nothing is sent until it is used. */
  collection(name: string): CollectionHandle {
    return new CollectionHandle(this, name);
  }

  /** GET /healthz: the process answers. */
  async health(o: CallOptions = {}): Promise<{ status: 'ok' }> {
    return this.call('GET /healthz', { idempotent: true }, o, (init) => this.api.GET('/healthz', init));
  }

  /** GET /readyz: true once the server is ready (503 while starting, draining, or with a full disk). */
  async ready(o: CallOptions = {}): Promise<boolean> {
    const r = await this.api.GET('/readyz', this.init({ idempotent: true, retry: false }, o));
    return r.response.ok;
  }
}

export class CollectionsApi {
  constructor(private readonly c: QuiverClient) {}

  /** POST /v1/collections (admin): 409 COLLECTION_EXISTS if the name is taken. */
  async create(input: CreateCollectionInput, o: CallOptions = {}): Promise<Collection> {
    const r = await this.c.call('POST /v1/collections', {}, o, (init) => this.c.api.POST('/v1/collections', { ...init, body: input }));
    return r.collection;
  }

  /** The collections the key may see. */
  async list(o: CallOptions = {}): Promise<Collection[]> {
    const r = await this.c.call('GET /v1/collections', { idempotent: true }, o, (init) => this.c.api.GET('/v1/collections', init));
    return r.collections;
  }

  async get(name: string, o: CallOptions = {}): Promise<Collection> {
    const r = await this.c.call('GET /v1/collections/{name}', { idempotent: true }, o, (init) => this.c.api.GET('/v1/collections/{name}', { ...init, params: { path: { name } } }));
    return r.collection;
  }

  /** Deletes the collection with its documents and index (admin). */
  async delete(name: string, o: CallOptions = {}): Promise<void> {
    await this.c.call('DELETE /v1/collections/{name}', {}, o, (init) => this.c.api.DELETE('/v1/collections/{name}', { ...init, params: { path: { name } } }));
  }
}

export interface ListOptions extends CallOptions {
  /** Documents per page, 1-1000 (default 100). */
  limit?: number;
  /** next_cursor of the previous page. */
  cursor?: string;
  filter?: Filter;
}

export class CollectionHandle {
  constructor(
    private readonly c: QuiverClient,
    readonly name: string,
  ) {}

  private get path() {
    return { path: { name: this.name } };
  }

  /** The collection's description and counts. */
  info(o: CallOptions = {}): Promise<Collection> {
    return this.c.collections.get(this.name, o);
  }

  /**
   * PUT .../documents: answers once the write is durable; a batch is written whole or not at all.
   * In cluster mode an api node answers `Accepted` instead: in the log, not yet applied.
   */
  upsert(documents: DocumentInput[], o: CallOptions & { chunking?: ChunkingInput } = {}): Promise<UpsertResult | Accepted> {
    const body = { documents, ...(o.chunking ? { chunking: o.chunking } : {}) };
    return this.c.call('PUT /v1/collections/{name}/documents', {}, o, (init) => this.c.api.PUT('/v1/collections/{name}/documents', { ...init, params: this.path, body }));
  }

  /** One document; `include` adds its vector and how its text was chunked. */
  async get(id: string, o: CallOptions & { include?: ('vector' | 'chunks')[] } = {}): Promise<StoredDocument> {
    const query = o.include && o.include.length > 0 ? { include: o.include.join(',') } : undefined;
    const r = await this.c.call('GET /v1/collections/{name}/documents/{id}', { idempotent: true }, o, (init) =>
      this.c.api.GET('/v1/collections/{name}/documents/{id}', { ...init, params: { path: { name: this.name, id }, ...(query ? { query } : {}) } }),
    );
    return r.document;
  }

  /** One page of documents in id order; pass `next_cursor` back as `cursor` for the next. */
  list(o: ListOptions = {}): Promise<DocumentPage> {
    const query = {
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(o.cursor !== undefined ? { cursor: o.cursor } : {}),
      ...(o.filter !== undefined ? { filter: JSON.stringify(o.filter) } : {}),
    };
    return this.c.call('GET /v1/collections/{name}/documents', { idempotent: true }, o, (init) => this.c.api.GET('/v1/collections/{name}/documents', { ...init, params: { ...this.path, query } }));
  }

  /** Every document (that `filter` selects), page after page: `for await (const d of notes.iterate())`. */
  async *iterate(o: Omit<ListOptions, 'cursor'> = {}): AsyncGenerator<StoredDocument, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...o, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.documents;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Deletes one document (404 DOCUMENT_NOT_FOUND if there is none). */
  async delete(id: string, o: CallOptions = {}): Promise<void> {
    await this.c.call('DELETE /v1/collections/{name}/documents/{id}', {}, o, (init) => this.c.api.DELETE('/v1/collections/{name}/documents/{id}', { ...init, params: { path: { name: this.name, id } } }));
  }

  /**
   * Deletes every document the filter selects, in one transaction; the number deleted. In cluster
   * mode an api node answers where the delete sits in the log instead (the count is the replicas').
   */
  async deleteWhere(filter: Filter, o: CallOptions = {}): Promise<number | LogPosition> {
    const r = await this.c.call('POST /v1/collections/{name}/documents/delete', {}, o, (init) =>
      this.c.api.POST('/v1/collections/{name}/documents/delete', { ...init, params: this.path, body: { filter } }),
    );
    return 'deleted' in r ? r.deleted : r;
  }

  // Searches change nothing: they may be sent again after a network error like a GET.

  /** Best documents for a text or a vector: {text, k, filter, mode: 'vector' | 'keyword' | 'hybrid', ...}. */
  query(q: QueryInput, o: CallOptions = {}): Promise<QueryResult> {
    return this.c.call('POST /v1/collections/{name}/query', { idempotent: true }, o, (init) => this.c.api.POST('/v1/collections/{name}/query', { ...init, params: this.path, body: q }));
  }

  /** More like `positive`, less like `negative` (document ids). */
  recommend(r: RecommendInput, o: CallOptions = {}): Promise<QueryResult> {
    return this.c.call('POST /v1/collections/{name}/recommend', { idempotent: true }, o, (init) => this.c.api.POST('/v1/collections/{name}/recommend', { ...init, params: this.path, body: r }));
  }

  /** Documents like document `id`. */
  similar(id: string, o: CallOptions & { k?: number; filter?: Filter } = {}): Promise<QueryResult> {
    const query = { ...(o.k !== undefined ? { k: o.k } : {}), ...(o.filter !== undefined ? { filter: JSON.stringify(o.filter) } : {}) };
    return this.c.call('GET /v1/collections/{name}/documents/{id}/similar', { idempotent: true }, o, (init) =>
      this.c.api.GET('/v1/collections/{name}/documents/{id}/similar', { ...init, params: { path: { name: this.name, id }, query } }),
    );
  }

  /** k-means topics, answered at once (up to 20,000 documents sampled; more with clusterJob). */
  cluster(input: ClusterInput = {}, o: CallOptions = {}): Promise<ClusterResult> {
    return this.c.call('POST /v1/collections/{name}/cluster', { idempotent: true }, o, async (init) => {
      const r = await this.c.api.POST('/v1/collections/{name}/cluster', { ...init, params: this.path, body: { ...input, async: false } });
      // Without async the server answers 200 with the clusters, never 202 with a job.
      return r as Answer<ClusterResult>;
    });
  }

  /** The same clustering run as a job: jobs.wait(job.id) gives it back with `result`. */
  async clusterJob(input: ClusterInput = {}, o: CallOptions = {}): Promise<Job> {
    const r = await this.c.call('POST /v1/collections/{name}/cluster', {}, o, async (init) => {
      const a = await this.c.api.POST('/v1/collections/{name}/cluster', { ...init, params: this.path, body: { ...input, async: true } });
      // With async the server answers 202 with the job.
      return a as Answer<{ job: Job }>;
    });
    return r.job;
  }

  /** 2-D or 3-D PCA coordinates of the documents, for plotting (answered at once). */
  project(input: ProjectInput = {}, o: CallOptions = {}): Promise<ProjectResult> {
    return this.c.call('POST /v1/collections/{name}/project', { idempotent: true }, o, async (init) => {
      const r = await this.c.api.POST('/v1/collections/{name}/project', { ...init, params: this.path, body: { ...input, async: false } });
      // Without async the server answers 200 with the points, never 202 with a job.
      return r as Answer<ProjectResult>;
    });
  }

  /** A projection run as a job (UMAP always is): jobs.wait(job.id), then projectResultOf(job). */
  async projectJob(input: ProjectInput = {}, o: CallOptions = {}): Promise<Job> {
    const r = await this.c.call('POST /v1/collections/{name}/project', {}, o, async (init) => {
      const a = await this.c.api.POST('/v1/collections/{name}/project', { ...init, params: this.path, body: { ...input, async: true } });
      // With async the server answers 202 with the job.
      return a as Answer<{ job: Job }>;
    });
    return r.job;
  }

  /** RAG context: the best passages for `text`, packed under `max_tokens`, numbered for citation. */
  context(input: ContextInput, o: CallOptions = {}): Promise<ContextResult> {
    return this.c.call('POST /v1/collections/{name}/context', { idempotent: true }, o, (init) => this.c.api.POST('/v1/collections/{name}/context', { ...init, params: this.path, body: input }));
  }

  /**
   * A question answered by the server's generation model (Amazon Bedrock) from this collection's
   * passages, with the passages the answer cites. Sent once, never again after a network error
   * or a 502: every attempt is a paid generation.
   */
  answer(input: AnswerInput, o: CallOptions = {}): Promise<AnswerResult> {
    return this.c.call('POST /v1/collections/{name}/answer', { retry: false }, o, async (init) => {
      const r = await this.c.api.POST('/v1/collections/{name}/answer', { ...init, params: this.path, body: { ...input, stream: false } });
      return r as Answer<AnswerResult>;
    });
  }

  /**
   * The same answer as the model writes it: `delta` events with text, then one `done` with the
   * citations and usage. A failure after the first event is thrown as QuiverApiError (its code
   * from the server's `error` event). The call has no time limit of its own: stop it with `signal`.
   */
  async *answerStream(input: AnswerInput, o: CallOptions = {}): AsyncGenerator<AnswerStreamEvent, void, undefined> {
    const url = `${this.c.url}/v1/collections/${encodeURIComponent(this.name)}/answer`;
    const body = await this.c.call('POST /v1/collections/{name}/answer', { retry: false, timeoutMs: undefined }, o, async (init) => {
      const r = await this.c.api.POST('/v1/collections/{name}/answer', {
        ...init,
        params: this.path,
        body: { ...input, stream: true },
        headers: { accept: 'text/event-stream' },
        parseAs: 'stream',
      });
      return r as Answer<ReadableStream<Uint8Array>>;
    });
    for await (const ev of readServerEvents(body)) {
      const data = JSON.parse(ev.data) as Record<string, unknown>;
      if (ev.event === 'delta') yield { type: 'delta', text: String(data.text) };
      else if (ev.event === 'done') yield { type: 'done', ...(data as Omit<AnswerResult, 'answer'>) };
      else if (ev.event === 'error') {
        const e = data as { status?: number; error?: { code?: string; message?: string; details?: unknown } };
        throw new QuiverApiError({ status: e.status ?? 502, code: e.error?.code ?? 'INTERNAL', message: e.error?.message ?? 'the answer stream failed', details: e.error?.details, method: 'POST', url });
      }
    }
  }

  /**
   * Loads documents through ingest jobs, batch by batch, and (unless `wait: false`) follows the
   * jobs to the end, reporting progress; a full queue (429) is waited out as Retry-After says.
   * See ingest.ts.
   */
  ingest(documents: DocumentInput[] | Iterable<DocumentInput> | AsyncIterable<DocumentInput>, o: IngestOptions = {}): Promise<IngestResult> {
    return ingest(this.c, this.name, documents, o);
  }

  /**
   * One ingest job, as one request: an array as JSON (sent again after a full queue like any
   * call), an async iterable streamed as NDJSON (once: a 429 is thrown for the caller to handle).
   */
  submitIngest(documents: DocumentInput[] | AsyncIterable<DocumentInput>, o: SubmitIngestOptions = {}): Promise<Job> {
    return submitIngest(this.c, this.name, documents, o);
  }
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Told each time the job's counts or status change. */
  onProgress?: (job: Job) => void;
  /** First wait between polls (default 100 ms), growing by half each time... */
  pollMs?: number;
  /** ...up to this (default 2,000 ms). */
  maxPollMs?: number;
  /** Give up after this long (default: never): QuiverApiError code TIMEOUT. */
  timeoutMs?: number;
}

export class JobsApi {
  constructor(private readonly c: QuiverClient) {}

  async get(id: string, o: CallOptions = {}): Promise<Job> {
    const r = await this.c.call('GET /v1/jobs/{id}', { idempotent: true }, o, (init) => this.c.api.GET('/v1/jobs/{id}', { ...init, params: { path: { id } } }));
    return r.job;
  }

  /** Jobs newest first, filtered by collection, status and kind; pass next_cursor back for more. */
  list(query: ListJobsQuery = {}, o: CallOptions = {}): Promise<JobPage> {
    return this.c.call('GET /v1/jobs', { idempotent: true }, o, (init) => this.c.api.GET('/v1/jobs', { ...init, params: { query } }));
  }

  /** Cancels a queued or running job; documents already committed stay. */
  async cancel(id: string, o: CallOptions = {}): Promise<Job> {
    const r = await this.c.call('POST /v1/jobs/{id}/cancel', {}, o, (init) => this.c.api.POST('/v1/jobs/{id}/cancel', { ...init, params: { path: { id } } }));
    return r.job;
  }

  /**
   * Polls the job, with back-off, until it is done, failed or cancelled, and returns it as it
   * ended (a failed job is returned, not thrown: its `error` and `errors` say why).
   */
  async wait(id: string, o: WaitOptions = {}): Promise<Job> {
    const started = Date.now();
    let delay = o.pollMs ?? 100;
    let last = '';
    for (;;) {
      const job = await this.get(id, o.signal ? { signal: o.signal } : {});
      const seen = `${job.status}/${job.done}/${job.failed}`;
      if (seen !== last) {
        last = seen;
        o.onProgress?.(job);
      }
      if (isFinished(job)) return job;
      if (o.timeoutMs !== undefined && Date.now() - started + delay > o.timeoutMs) {
        throw new QuiverApiError({ status: 0, code: 'TIMEOUT', message: `job ${id} was still ${job.status} after ${o.timeoutMs} ms`, details: { job }, method: 'GET', url: `${this.c.url}/v1/jobs/${id}` });
      }
      await sleep(delay, o.signal);
      delay = Math.min(o.maxPollMs ?? 2000, Math.ceil(delay * 1.5));
    }
  }
}

export class AdminApi {
  constructor(private readonly c: QuiverClient) {}

  /** Online backup into QUIVER_BACKUP_DIR (admin key); answers once the backup is complete. */
  async backup(input: BackupInput = {}, o: CallOptions = {}): Promise<Backup> {
    // A backup takes as long as the data takes to copy: no time limit of its own.
    const r = await this.c.call('POST /v1/admin/backup', { timeoutMs: undefined }, o, (init) => this.c.api.POST('/v1/admin/backup', { ...init, body: input }));
    return r.backup;
  }
}
