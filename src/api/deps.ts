// What the HTTP layer is given by the composition root (src/server.ts): the services its routes
// call, each by its own interface. Routes reach nothing else.
import type { Logger } from 'pino';
import type { CollectionRegistry } from '../collection/index.js';
import type { Config } from '../config/index.js';
import type { Embedders } from '../embedding/index.js';
import type { Generator } from '../generation/index.js';
import type { JobRunner } from '../ingest/index.js';
import type { BackupResult } from '../ops/backup.js';
import type { BodyBudget } from './body.js';
import type { Readiness } from '../ops/lifecycle.js';
import type { CollectionCatalog, DiskHealth, JobStore } from '../storage/index.js';

export interface ApiDeps {
  config: Config;
  log: Logger;
  readiness: Readiness;
  collections: CollectionRegistry;
  /** Every collection's stable UUID and surface attributes, and pending collections (the Chroma surface's). */
  catalog: CollectionCatalog;
  /** The embedding models (loaded on first use, shared with the collections): for surfaces that embed text outside a collection. */
  embedders: Embedders;
  /** The generation model client (Bedrock Converse) that writes answers. */
  generator: Generator;
  /** Job reads (list, progress, failed documents). */
  jobs: JobStore;
  /** Job submission and cancellation. */
  runner: JobRunner;
  backup: (requested: string | undefined) => Promise<BackupResult>;
  /** Request body bytes held at once over all requests (QUIVER_MAX_BODY_MEMORY). */
  bodyBudget: BodyBudget;
  storeSize: () => { db: number; wal: number };
  /** Whether the disk holding the data dir is full (writes answer 507). */
  disk: DiskHealth;
}
