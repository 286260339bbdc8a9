// The composition root: builds every part from one config — store, embedding providers,
// collections, job runner (with its tasks), lifecycle, HTTP app — and nothing else. main.ts runs
// it as a process; in-process tests run it on a loopback port.
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { BodyBudget, answerShardRead, createApp } from './api/index.js';
import { ClusterNode } from './cluster/index.js';
import { CollectionRegistry } from './collection/index.js';
import type { Config } from './config/index.js';
import { Embedders } from './embedding/index.js';
import { ConverseGenerator } from './generation/index.js';
import type { IndexHostApi } from './index/index.js';
import { IndexWorkers, inThreadHost, listSnapshotFiles } from './index/index.js';
import { JobRunner } from './ingest/index.js';
import { createBackup } from './ops/backup.js';
import { Lifecycle } from './ops/lifecycle.js';
import { installShutdown, isLoopback } from './ops/shutdown.js';
import { cluster, jobDeadline, project, refit } from './query/index.js';
import type { ClusterInput, ProjectInput } from './query/index.js';
import type { Store } from './storage/index.js';
import { DiskHealth, SqliteStore } from './storage/index.js';

export interface Quiver {
  config: Config;
  log: Logger;
  store: Store;
  collections: CollectionRegistry;
  runner: JobRunner;
  lifecycle: Lifecycle;
  app: Express;
}

/** The data dir cannot be served as it is; the message names the files and what to do. */
export class StartupError extends Error {}

/**
 * A database that is missing or empty while index snapshots are there means the database was
 * lost (deleted, emptied, a wrong volume), not a first start: starting would serve an empty
 * server over stale snapshots without a word. Refused unless QUIVER_START_FRESH says so.
 */
function checkDatabaseNotLost(config: Config, dbFile: string): void {
  const size = fs.existsSync(dbFile) ? fs.statSync(dbFile).size : -1;
  if (size > 0 || config.startFresh) return;
  const indexDir = path.join(config.dataDir, 'indexes');
  const snapshots = [...listSnapshotFiles(indexDir).values()].flat().sort();
  if (snapshots.length === 0) return;
  throw new StartupError(
    `${dbFile} is ${size < 0 ? 'missing' : 'empty'} but ${indexDir} holds index snapshots (${snapshots.slice(0, 6).join(', ')}${snapshots.length > 6 ? ', ...' : ''}): ` +
      'the database looks lost, not new. Restore it (quiver restore <backup> --data-dir ...), check it (quiver check --data-dir ...), ' +
      'or set QUIVER_START_FRESH=true to start with an empty database (the old snapshots are then ignored).',
  );
}

/** Builds a server on the data dir of `config`; opens the database (fast), loads nothing else yet. */
export function createQuiver(config: Config, log: Logger): Quiver {
  const dbFile = path.join(config.dataDir, 'quiver.db');
  checkDatabaseNotLost(config, dbFile);
  const store = SqliteStore.open({ file: dbFile, sync: config.sync, embedCacheMax: config.embedCacheMax });
  const disk = new DiskHealth(config.dataDir, log);
  const embedders = new Embedders(config);
  // Answers reach Bedrock where the bedrock embedder does (region, endpoint, credentials).
  const generator = new ConverseGenerator({ region: config.bedrock.region, endpoint: config.bedrock.endpoint });
  // The HNSW graphs live in worker threads (started on first use), or in this one with 0.
  const indexWorkers = config.indexWorkers > 0 ? new IndexWorkers(config.indexWorkers, log) : undefined;
  const mainThreadHost = indexWorkers ? undefined : inThreadHost();
  const indexHost = (id: number): IndexHostApi => indexWorkers?.hostFor(id) ?? mainThreadHost!;
  const collections = new CollectionRegistry({
    store,
    embedders,
    log,
    retry: { retries: config.ingest.retries, baseMs: config.ingest.retryBaseMs },
    efSearch: config.hnsw.efSearch,
    maxImageBytes: config.maxImageBytes,
    indexDir: path.join(config.dataDir, 'indexes'),
    exactThreshold: config.exactSearchThreshold,
    hnsw: config.hnsw,
    indexHost,
    // Cluster mode: documents change only by applying the log (docs/cluster.md).
    logOnly: config.cluster !== undefined,
  });
  const clusterNode =
    config.cluster &&
    new ClusterNode({ config: config.cluster, collections, store, log, dataDir: config.dataDir, backup: (root) => createBackup({ store, collections, log, backupDir: root }) });
  // A replica answers the reads an api node routes to the shards it holds (api/v1/shard-reads.ts).
  clusterNode?.serveReads((name, _shard, body) => answerShardRead(collections, name, body));
  const runner = new JobRunner({
    jobs: store.jobs,
    disk,
    collections,
    log,
    batch: config.ingest.batch,
    maxPending: config.ingest.maxPending,
    ...(clusterNode ? { publish: (c, documents, chunking) => clusterNode.publishUpsert(c, documents, chunking) } : {}),
  });
  // Job tasks are registered here, so a server started without HTTP still runs queued ones. A
  // job's deadline is QUIVER_ANALYSIS_JOB_TIMEOUT_MS, not the request timeout: no client waits.
  runner.registerTask('cluster', (c, params) => cluster(c, params as ClusterInput, jobDeadline(config.analysisJobTimeoutMs)));
  runner.registerTask('refit', (c) => refit(c, jobDeadline(config.analysisJobTimeoutMs)));
  runner.registerTask('project', (c, params) => project(c, params as ProjectInput, jobDeadline(config.analysisJobTimeoutMs)));
  const lifecycle = new Lifecycle(
    {
      open: async () => {
        await collections.openAll(config.defaultEmbedder === 'local' ? { provider: 'local', model: config.defaultModel } : undefined);
        await clusterNode?.start();
      },
      periodic: { run: () => collections.saveAll(), intervalMs: config.snapshotIntervalMs },
      services: [runner],
      close: [() => clusterNode?.stop(), () => collections.close(), () => indexWorkers?.close(), () => embedders.closeAll(), () => generator.close(), () => store.close(), () => disk.close()],
    },
    log,
  );
  const app = createApp({
    config,
    log,
    readiness: lifecycle,
    collections,
    catalog: store.catalog,
    embedders,
    generator,
    jobs: store.jobs,
    runner,
    backup: (requested) => createBackup({ store, collections, log, backupDir: config.backupDir }, requested),
    bodyBudget: new BodyBudget(config.maxBodyMemoryBytes),
    storeSize: () => store.sizeBytes(),
    disk,
    cluster: clusterNode,
  });
  return { config, log, store, collections, runner, lifecycle, app };
}

/** Listens on the configured host and port (0: any free port), says so in the log; resolves with the server and its port. */
export async function listen(q: Quiver): Promise<{ server: Server; port: number }> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = q.app.listen(q.config.port, q.config.host, () => resolve(s));
    s.once('error', reject);
  });
  // Receiving a body is bounded by the app (api/app.ts: 408 BODY_TIMEOUT), which lets an NDJSON
  // stream that keeps coming run past QUIVER_REQUEST_TIMEOUT_MS; Node's whole-request timeout
  // would cut it off, so it is off. Headers still have to arrive in time.
  server.requestTimeout = 0;
  server.headersTimeout = Math.min(60_000, q.config.requestTimeoutMs);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : q.config.port;
  const { config, log } = q;
  log.info({ host: config.host, port, dataDir: config.dataDir }, `listening on http://${config.host}:${port}`);
  if (config.apiKeys.length === 0 && !isLoopback(config.host)) {
    log.warn({ host: config.host }, 'listening on a non-loopback address without API keys: anyone who can reach it can read and change every collection; set QUIVER_API_KEYS');
  }
  return { server, port };
}

export { installShutdown };
