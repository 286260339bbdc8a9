// The composition root: builds every part from one config — store, embedding providers,
// collections, job runner (with its tasks), lifecycle, HTTP app — and nothing else. main.ts runs
// it as a process; in-process tests run it on a loopback port.
import type { Server } from 'node:http';
import path from 'node:path';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { createApp } from './api/index.js';
import { CollectionRegistry } from './collection/index.js';
import type { Config } from './config/index.js';
import { Embedders } from './embedding/index.js';
import { JobRunner } from './ingest/index.js';
import { createBackup } from './ops/backup.js';
import { Lifecycle } from './ops/lifecycle.js';
import { installShutdown } from './ops/shutdown.js';
import { cluster } from './query/cluster.js';
import type { ClusterInput } from './query/cluster.js';
import type { Store } from './storage/index.js';
import { SqliteStore } from './storage/index.js';

export interface Quiver {
  config: Config;
  log: Logger;
  store: Store;
  collections: CollectionRegistry;
  runner: JobRunner;
  lifecycle: Lifecycle;
  app: Express;
}

/** Builds a server on the data dir of `config`; opens the database (fast), loads nothing else yet. */
export function createQuiver(config: Config, log: Logger): Quiver {
  const store = SqliteStore.open({ file: path.join(config.dataDir, 'quiver.db'), sync: config.sync, embedCacheMax: config.embedCacheMax });
  const embedders = new Embedders(config);
  const collections = new CollectionRegistry({
    store,
    embedders,
    log,
    retry: { retries: config.ingest.retries, baseMs: config.ingest.retryBaseMs },
    efSearch: config.hnsw.efSearch,
    indexDir: path.join(config.dataDir, 'indexes'),
    exactThreshold: config.exactSearchThreshold,
    hnsw: config.hnsw,
  });
  const runner = new JobRunner({ jobs: store.jobs, collections, log, batch: config.ingest.batch, maxPending: config.ingest.maxPending });
  // Job tasks are registered here, so a server started without HTTP still runs queued ones.
  runner.registerTask('cluster', (c, params) => cluster(c, params as ClusterInput));
  const lifecycle = new Lifecycle(
    {
      open: () => collections.openAll(config.defaultEmbedder === 'local' ? { provider: 'local', model: config.defaultModel } : undefined),
      periodic: { run: () => collections.saveAll(), intervalMs: config.snapshotIntervalMs },
      services: [runner],
      close: [() => collections.close(), () => embedders.closeAll(), () => store.close()],
    },
    log,
  );
  const app = createApp({
    config,
    log,
    readiness: lifecycle,
    collections,
    jobs: store.jobs,
    runner,
    backup: (requested) => createBackup({ store, collections, log, backupDir: config.backupDir }, requested),
    storeSize: () => store.sizeBytes(),
  });
  return { config, log, store, collections, runner, lifecycle, app };
}

/** Listens on the configured host and port (0: any free port); resolves with the server and its port. */
export async function listen(q: Quiver): Promise<{ server: Server; port: number }> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = q.app.listen(q.config.port, q.config.host, () => resolve(s));
    s.once('error', reject);
  });
  // Receiving a whole request is bounded too (Node answers 408), not only handling it.
  server.requestTimeout = q.config.requestTimeoutMs;
  server.headersTimeout = Math.min(60_000, q.config.requestTimeoutMs);
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : q.config.port };
}

export { installShutdown };
