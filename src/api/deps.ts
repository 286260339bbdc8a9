// What the HTTP layer is given by the composition root (src/server.ts): the services its routes
// call, each by its own interface. Routes reach nothing else.
import type { Logger } from 'pino';
import type { Collection, CollectionRegistry, CreateCollectionInput } from '../collection/index.js';
import type { Config } from '../config/index.js';
import type { ChunkingSpec, DocumentInput } from '../domain/types.js';
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
  /** Cluster mode (docs/cluster.md; src/cluster implements it); undefined: standalone. */
  cluster?: ClusterHooks;
}

/** Where a write landed in the cluster's log: the collection's stream and the message's sequence. */
export interface LogPosition {
  stream: string;
  seq: number;
}

/** What the routes call in cluster mode instead of writing locally: the log takes the writes. */
export interface ClusterHooks {
  readonly role: 'api' | 'replica' | 'worker' | 'all';
  /** Validates and creates the collection in the cluster's catalog (and here); `shards` > 1 shards it. */
  createCollection(input: CreateCollectionInput, opts?: { shards?: number }): Promise<Collection>;
  deleteCollection(name: string): Promise<void>;
  /** Publishes a validated batch; resolves once JetStream acknowledged it (CLUSTER_UNAVAILABLE otherwise). */
  publishUpsert(c: Collection, documents: DocumentInput[], chunking: ChunkingSpec | undefined): Promise<LogPosition>;
  publishDelete(c: Collection, ids: string[]): Promise<LogPosition>;
  /** Publishes a delete-by-filter the caller validated. */
  publishDeleteWhere(c: Collection, filter: unknown): Promise<LogPosition>;
  /** Resolves once this node applied `seq` of the collection's stream; NOT_YET_APPLIED after the configured wait. */
  waitApplied(collection: string, seq: number): Promise<void>;
  /** Why /readyz is 503 (a replica far behind its streams); undefined when ready. */
  notReadyReason(): string | undefined;
  /** Per collection this node applies: its applied sequence, the stream's last known one, and the batch whose embeddings it waits for. */
  lag(): { collection: string; applied: number; last: number; waiting_for_embeddings?: number }[];
  /** Per collection this node embeds for (ingest workers: roles worker and all). */
  workerStats(): { collection: string; consuming: boolean; batches: number; texts: number; redeliveries: number; inFlight: number }[];
  /** How many shards a collection has (1: unsharded). */
  shardCount(collection: string): number;
  /** The shard holding a document. */
  shardOf(collection: string, id: string): number;
  /**
   * api role: one read request to a replica of the shard (the api layer's shard-reads.ts says what
   * it means); `minSeq` waits there. Throws the replica's error, or 503 SHARD_UNAVAILABLE.
   */
  ask(collection: string, shard: number, body: unknown, minSeq?: number): Promise<unknown>;
  /** The live nodes (heartbeats in KV quiver-nodes) and which of them hold each collection's shards. */
  nodes(): Promise<{
    nodes: { id: string; role: string; shards: 'all' | number[] | null; applied: Record<string, number>; at: string }[];
    placement: { collection: string; shards: number; holders: { shard: number; nodes: string[] }[] }[];
  }>;
  /** Takes a snapshot on this node, uploads it and makes it current (replica roles). */
  snapshot(): Promise<ClusterSnapshot>;
  /** The current snapshot, and per collection this node applies the first sequence its stream still holds (below: purged). */
  snapshotStatus(): { current: ClusterSnapshot | undefined; streamFirst: { collection: string; first: number }[] };
}

/** A snapshot in the cluster's object store (docs/cluster.md, "Snapshots"). */
export interface ClusterSnapshot {
  id: string;
  node: string;
  created_at: string;
  bytes: number;
  collections: { name: string; stream: string; seq: number }[];
}
