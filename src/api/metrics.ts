// Owns the Prometheus metrics served at GET /metrics (prom-client): HTTP request counts and
// latency by route and status, embedding latency and batch size (published by whoever embeds on
// the diagnostics channel EMBED_CHANNEL of embedding/instrument.ts, which the engine wraps around
// every embedder, so the embedding code needs no import from here), the group commits of the
// collections' write door (WRITE_GROUP_CHANNEL of collection/write-group.ts, the same way), and
// gauges read at scrape time: documents, vectors and index memory per collection, SQLite file
// size, readiness, ingest jobs. One registry per app, so tests can build several.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { RequestHandler, Response } from 'express';
import client from 'prom-client';
import { WRITE_GROUP_CHANNEL } from '../collection/index.js';
import type { WriteGroupEvent } from '../collection/index.js';
import { EMBED_CHANNEL } from '../embedding/index.js';
import type { EmbedEvent } from '../embedding/index.js';
import type { ApiDeps } from './deps.js';

export interface Metrics {
  registry: client.Registry;
  /** Times every request; put it first so rejected requests count too. */
  middleware: RequestHandler;
  handler: RequestHandler;
  close(): void;
}

/**
 * The route pattern (bounded cardinality), never the raw URL. openapi.ts's recordRoutes stores it
 * in res.locals.route when a route matches; req.route cannot be used because express has unwound
 * baseUrl by the time an error response finishes.
 */
function routeLabel(res: Response): string {
  const route = res.locals.route as unknown;
  if (typeof route === 'string') return route;
  return res.statusCode === 404 ? 'unmatched' : 'none';
}

export function createMetrics(deps: ApiDeps): Metrics {
  const { collections, readiness, jobs, runner } = deps;
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'quiver_' });

  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new client.Counter({ name: 'quiver_http_requests_total', help: 'HTTP requests answered', labelNames, registers: [registry] });
  const latency = new client.Histogram({
    name: 'quiver_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  // The labelled children of one method, route and status, looked up once: prom-client otherwise
  // hashes the label object on every observe and every inc. Bounded as the labels are (routes are
  // patterns, methods are the few Node's parser accepts).
  const series = new Map<string, { latency: client.Histogram.Internal<(typeof labelNames)[number]>; requests: client.Counter.Internal }>();
  const seriesOf = (method: string, route: string, statusCode: number) => {
    const key = `${method} ${statusCode} ${route}`;
    let s = series.get(key);
    if (!s) {
      const labels = { method, route, status: String(statusCode) };
      s = { latency: latency.labels(labels), requests: requests.labels(labels) };
      series.set(key, s);
    }
    return s;
  };
  const embedLatency = new client.Histogram({
    name: 'quiver_embed_duration_seconds',
    help: 'Time for one call to an embedding model',
    labelNames: ['model'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const embedBatch = new client.Histogram({
    name: 'quiver_embed_batch_size',
    help: 'Texts per call to an embedding model',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  const onEmbed = (message: unknown) => {
    const e = message as EmbedEvent;
    embedLatency.observe({ model: e.model }, e.ms / 1000);
    embedBatch.observe({ model: e.model }, e.texts);
  };
  diagnosticsChannel.subscribe(EMBED_CHANNEL, onEmbed);

  // One group = one transaction = one fsync under QUIVER_SYNC=full (src/collection/write-group.ts).
  const groups = new client.Counter({
    name: 'quiver_write_groups_total',
    help: 'Transactions committed by the write door: each holds one or more concurrent writes and deletes of one collection',
    registers: [registry],
  });
  const groupRequests = new client.Histogram({
    name: 'quiver_write_group_requests',
    help: 'Write and delete requests committed together in one transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  const groupDocuments = new client.Histogram({
    name: 'quiver_write_group_documents',
    help: 'Documents in one group commit (a delete counts one)',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500],
    registers: [registry],
  });
  const onGroup = (message: unknown) => {
    const e = message as WriteGroupEvent;
    groups.inc();
    groupRequests.observe(e.requests);
    groupDocuments.observe(e.documents);
  };
  diagnosticsChannel.subscribe(WRITE_GROUP_CHANNEL, onGroup);

  const live = () => readiness.status !== 'closed';
  new client.Gauge({
    name: 'quiver_collection_documents',
    help: 'Documents stored per collection',
    labelNames: ['collection'],
    registers: [registry],
    collect() {
      this.reset();
      if (live()) for (const c of collections.list()) this.set({ collection: c.name }, c.documentCount());
    },
  });
  new client.Gauge({
    name: 'quiver_collection_vectors',
    help: 'Vectors in the live index per collection',
    labelNames: ['collection'],
    registers: [registry],
    async collect() {
      this.reset();
      if (live()) for (const c of collections.list()) this.set({ collection: c.name }, (await c.stats()).size);
    },
  });
  if (deps.cluster) {
    const cluster = deps.cluster;
    // Cluster mode: how far this node's view is behind each collection's stream (docs/cluster.md).
    new client.Gauge({
      name: 'quiver_cluster_replica_lag',
      help: 'Messages of a collection stream this node has not applied yet (last known stream sequence - applied sequence)',
      labelNames: ['collection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const l of cluster.lag()) this.set({ collection: l.collection }, Math.max(0, l.last - l.applied));
      },
    });
    new client.Gauge({
      name: 'quiver_cluster_applied_seq',
      help: 'Last sequence of a collection stream this node applied',
      labelNames: ['collection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const l of cluster.lag()) this.set({ collection: l.collection }, l.applied);
      },
    });
    // Snapshots and purge (docs/cluster.md, "Snapshots"): what a new replica would start from.
    new client.Gauge({
      name: 'quiver_cluster_snapshot_seq',
      help: 'Sequence of a collection stream the current cluster snapshot holds',
      labelNames: ['collection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of cluster.snapshotStatus().current?.collections ?? []) this.set({ collection: c.name }, c.seq);
      },
    });
    new client.Gauge({
      name: 'quiver_cluster_snapshot_age_seconds',
      help: 'Age of the current cluster snapshot',
      registers: [registry],
      collect() {
        this.reset();
        const current = cluster.snapshotStatus().current;
        if (current) this.set((Date.now() - Date.parse(current.created_at)) / 1000);
      },
    });
    new client.Gauge({
      name: 'quiver_cluster_snapshot_bytes',
      help: 'Size of the current cluster snapshot',
      registers: [registry],
      collect() {
        this.reset();
        const current = cluster.snapshotStatus().current;
        if (current) this.set(current.bytes);
      },
    });
    new client.Gauge({
      name: 'quiver_cluster_log_first_seq',
      help: 'First sequence a collection stream still holds: everything below it was purged',
      labelNames: ['collection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of cluster.snapshotStatus().streamFirst) this.set({ collection: s.collection }, s.first);
      },
    });
    new client.Gauge({
      name: 'quiver_cluster_waiting_for_embeddings',
      help: 'Sequence of the write batch whose embedded chunks this replica waits for from the ingest workers (0: not waiting)',
      labelNames: ['collection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const l of cluster.lag()) this.set({ collection: l.collection }, l.waiting_for_embeddings ?? 0);
      },
    });
    // Ingest workers (roles worker and all): totals since the process started, read from the workers.
    const workerTotal = (name: string, help: string, field: 'batches' | 'texts' | 'redeliveries') =>
      new client.Counter({
        name,
        help,
        labelNames: ['collection'],
        registers: [registry],
        collect() {
          this.reset();
          for (const w of cluster.workerStats()) this.inc({ collection: w.collection }, w[field]);
        },
      });
    workerTotal('quiver_cluster_worker_batches_total', 'Write batches this ingest worker embedded and published', 'batches');
    workerTotal('quiver_cluster_worker_texts_embedded_total', 'Chunk texts this ingest worker sent to the model (cache hits not)', 'texts');
    workerTotal('quiver_cluster_worker_redeliveries_total', 'Write batches this ingest worker received again after another delivery was not acknowledged in time', 'redeliveries');
    new client.Gauge({
      name: 'quiver_cluster_worker_in_flight',
      help: 'Write batches this ingest worker is embedding right now',
      labelNames: ['collection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of cluster.workerStats()) this.set({ collection: w.collection }, w.inFlight);
      },
    });
  }
  new client.Gauge({
    name: 'quiver_index_memory_bytes',
    help: 'Estimated memory held by each collection index (capacity x (vector + links + labels))',
    labelNames: ['collection'],
    registers: [registry],
    async collect() {
      this.reset();
      if (live()) for (const c of collections.list()) this.set({ collection: c.name }, (await c.stats()).memoryBytes);
    },
  });
  new client.Gauge({
    name: 'quiver_sqlite_bytes',
    help: 'Size of the SQLite database files',
    labelNames: ['file'],
    registers: [registry],
    collect() {
      const size = deps.storeSize();
      this.set({ file: 'db' }, size.db);
      this.set({ file: 'wal' }, size.wal);
    },
  });
  new client.Gauge({
    name: 'quiver_ready',
    help: '1 when the server is ready to serve, 0 while starting or shutting down',
    registers: [registry],
    collect() {
      this.set(readiness.isReady ? 1 : 0);
    },
  });

  new client.Gauge({
    name: 'quiver_storage_full',
    help: '1 while the disk holding the data dir is full (writes answer 507 INSUFFICIENT_STORAGE), else 0',
    registers: [registry],
    collect() {
      this.set(deps.disk.status().full ? 1 : 0);
    },
  });
  // Request bodies held in memory (src/api/body.ts).
  new client.Gauge({
    name: 'quiver_body_memory_bytes',
    help: 'Request body bytes held in memory now, over all requests (bounded by QUIVER_MAX_BODY_MEMORY)',
    registers: [registry],
    collect() {
      this.set(deps.bodyBudget.inUse);
    },
  });
  new client.Counter({
    name: 'quiver_body_memory_refused_total',
    help: 'Requests answered 503 BODY_MEMORY_FULL because QUIVER_MAX_BODY_MEMORY was reached',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.bodyBudget.refused);
    },
  });

  // Ingest jobs (src/ingest/jobs.ts).
  new client.Gauge({
    name: 'quiver_ingest_jobs',
    help: 'Ingest jobs by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      if (!live()) return;
      for (const [status, n] of Object.entries(jobs.countByStatus())) this.set({ status }, n);
    },
  });
  new client.Gauge({
    name: 'quiver_ingest_pending_documents',
    help: 'Documents accepted by ingest jobs and not yet processed (POST .../ingest answers 429 above QUIVER_INGEST_MAX_PENDING)',
    registers: [registry],
    collect() {
      if (live()) this.set(jobs.pendingDocuments());
    },
  });
  new client.Gauge({
    name: 'quiver_ingest_documents_per_second',
    help: 'Recent ingest throughput (moving average over batches)',
    registers: [registry],
    collect() {
      this.set(runner.progress.docsPerSecond);
    },
  });
  new client.Counter({
    name: 'quiver_ingest_documents_total',
    help: 'Documents processed by ingest jobs since start, by outcome (done, skipped unchanged, failed)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      // The runner counts; a counter's value can only be set by resetting and adding.
      this.reset();
      for (const [outcome, n] of Object.entries(runner.finished)) this.inc({ outcome }, n);
    },
  });

  return {
    registry,
    middleware: (req, res, next) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const series = seriesOf(req.method, routeLabel(res), res.statusCode);
        series.latency.observe(Number(process.hrtime.bigint() - started) / 1e9);
        series.requests.inc();
      });
      next();
    },
    handler: async (_req, res) => {
      const body = await registry.metrics();
      res.setHeader('content-type', registry.contentType);
      res.end(body);
    },
    close: () => {
      diagnosticsChannel.unsubscribe(EMBED_CHANNEL, onEmbed);
      diagnosticsChannel.unsubscribe(WRITE_GROUP_CHANNEL, onGroup);
    },
  };
}
