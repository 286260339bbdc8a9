// Owns the process configuration: one typed object read from QUIVER_* environment variables,
// validated once at start-up so a bad value stops the process before anything is opened.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The package root, so the built-in model is found whatever the working directory. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILTIN_MODELS_DIR = path.join(PACKAGE_ROOT, 'models');
export const DEFAULT_LOCAL_MODEL = 'quiver-glove-sif-100d';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const byteSize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'expected a size such as 10mb, 512kb or 1048576')
  .transform((v) => {
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v)!;
    const unit = (m[2] ?? 'b').toLowerCase();
    const mult = unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1;
    return Math.floor(Number(m[1]) * mult);
  })
  .pipe(z.number().int().min(1024, 'must be at least 1kb'));

/** The model POST .../answer asks when the request names none (Amazon Nova Micro: text only, the cheapest Nova). */
export const DEFAULT_ANSWER_MODEL = 'amazon.nova-micro-v1:0';
/** A Bedrock model id, inference profile id or ARN, as the answer route's `model` field takes it. */
export const BEDROCK_MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,2047}$/;

/** Every variable the server reads; the README lists the same table. */
const envSchema = z.object({
  QUIVER_HOST: z.string().min(1).default('127.0.0.1'),
  QUIVER_PORT: int(0, 65535).default(8080),
  QUIVER_DATA_DIR: z.string().min(1).default('./data'),
  QUIVER_EMBEDDER: z.enum(['local', 'none'], { error: 'expected "local" or "none"' }).default('local'),
  QUIVER_DEFAULT_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,127})?$/, 'expected a model id such as quiver-glove-sif-100d or org/name')
    .default(DEFAULT_LOCAL_MODEL),
  QUIVER_MODELS_DIR: z.string().min(1).optional(),
  QUIVER_ALLOW_MODEL_DOWNLOAD: bool.default(false),
  QUIVER_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  QUIVER_ACCESS_LOG: bool.default(false),
  QUIVER_MAX_BODY: byteSize.default(10 * 1024 * 1024),
  QUIVER_MAX_DOCUMENTS_PER_REQUEST: int(1, 100_000).default(1000),
  // Decoded bytes of one document's or query's image (Titan Multimodal takes up to 25 MB; the base64 of a 5 MiB image fits QUIVER_MAX_BODY).
  QUIVER_MAX_IMAGE_BYTES: byteSize.default(5 * 1024 * 1024),
  QUIVER_SYNC: z.enum(['full', 'normal'], { error: 'expected "full" or "normal"' }).default('full'),
  QUIVER_START_FRESH: bool.default(false),
  QUIVER_SNAPSHOT_INTERVAL_MS: int(1000, 86_400_000).default(60_000),
  QUIVER_HNSW_M: int(4, 128).default(16),
  QUIVER_HNSW_EF_CONSTRUCTION: int(10, 2000).default(200),
  QUIVER_HNSW_EF_SEARCH: int(10, 5000).default(256),
  QUIVER_EXACT_SEARCH_THRESHOLD: int(0, 10_000_000).default(5000),
  QUIVER_INDEX_WORKERS: int(0, 64).default(1),
  QUIVER_EMBED_CACHE_MAX: int(0, 100_000_000).default(1_000_000),
  QUIVER_EMBED_WORKERS: int(1, 256).optional(),
  QUIVER_INGEST_MAX_PENDING: int(1, 1_000_000_000).default(1_000_000),
  QUIVER_INGEST_BATCH: int(1, 10_000).default(256),
  QUIVER_INGEST_MAX_DOCUMENTS: int(1, 1_000_000).default(100_000),
  // A JSON ingest body is held whole and parsed at once; bigger loads stream as NDJSON instead.
  QUIVER_INGEST_MAX_BODY: byteSize.default(64 * 1024 * 1024),
  QUIVER_MAX_BODY_MEMORY: byteSize.optional(),
  QUIVER_EMBED_RETRIES: int(0, 20).default(6),
  QUIVER_EMBED_RETRY_BASE_MS: int(1, 60_000).default(250),
  QUIVER_BEDROCK_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-east-1').optional(),
  QUIVER_BEDROCK_ENDPOINT: z.url({ error: 'expected a URL such as https://bedrock-runtime.us-east-1.amazonaws.com' }).optional(),
  QUIVER_BEDROCK_CONCURRENCY: int(1, 1000).default(8),
  QUIVER_SAGEMAKER_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-east-1').optional(),
  QUIVER_SAGEMAKER_ENDPOINT: z.url({ error: 'expected a URL such as https://runtime.sagemaker.us-east-1.amazonaws.com' }).optional(),
  QUIVER_SAGEMAKER_CONCURRENCY: int(1, 1000).default(8),
  QUIVER_ANSWER_MODEL: z.string().regex(BEDROCK_MODEL_ID, 'expected a Bedrock model id such as amazon.nova-micro-v1:0 (or an inference profile id or ARN)').default(DEFAULT_ANSWER_MODEL),
  QUIVER_OPENAI_CONCURRENCY: int(1, 1000).default(4),
  QUIVER_OPENAI_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  QUIVER_API_KEYS: z.string().optional(),
  QUIVER_API_KEYS_FILE: z.string().min(1).optional(),
  QUIVER_CORS_ORIGINS: z.string().optional(),
  QUIVER_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  QUIVER_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  QUIVER_ANALYSIS_JOB_TIMEOUT_MS: int(1000, 86_400_000).default(3_600_000),
  QUIVER_BACKUP_DIR: z.string().min(1).optional(),
  // Cluster mode (docs/cluster.md): on when QUIVER_NATS_URL is set.
  QUIVER_NATS_URL: z
    .string()
    .regex(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, 'expected nats:// URLs separated by commas, such as nats://n1:4222,nats://n2:4222')
    .optional(),
  QUIVER_NATS_USER: z.string().min(1).optional(),
  QUIVER_NATS_PASSWORD: z.string().min(1).optional(),
  QUIVER_NATS_TOKEN: z.string().min(1).optional(),
  QUIVER_ROLE: z.enum(['api', 'replica', 'worker', 'all'], { error: 'expected "api", "replica", "worker" or "all"' }).default('all'),
  QUIVER_CLUSTER_REPLICAS: int(1, 5).default(3),
  QUIVER_CLUSTER_MIN_SEQ_WAIT_MS: int(0, 600_000).default(10_000),
  QUIVER_CLUSTER_MAX_LAG: int(0, 1_000_000_000).default(10_000),
  QUIVER_CLUSTER_SHARDS: z
    .string()
    .regex(/^(all|\d{1,2}(,\d{1,2})*)$/, 'expected "all" or shard numbers separated by commas, such as 0,1')
    .default('all'),
  QUIVER_NODE_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, "_" or "-"').optional(),
  QUIVER_CLUSTER_SNAPSHOT_EVERY: int(0, 1_000_000_000).default(100_000),
  QUIVER_CLUSTER_EMBEDDED_MAX_AGE_S: int(60, 365 * 86_400).default(7 * 86_400),
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  defaultEmbedder: 'local' | 'none';
  defaultModel: string;
  /** Where user models live; the built-in model is also looked up in BUILTIN_MODELS_DIR. */
  modelsDir: string;
  allowModelDownload: boolean;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /**
   * Log every request's `request completed` line at info (an access log). Off, it is at debug:
   * the JSON line and its write to stdout were ~5% of a query's server CPU (benchmarks/FINDINGS.md, the lean request path).
   */
  accessLog: boolean;
  maxBodyBytes: number;
  /**
   * Request body bytes held in memory at once over all requests (JSON bodies while they arrive
   * and until answered, NDJSON slices until recorded); over it a request gets 503 with Retry-After.
   */
  maxBodyMemoryBytes: number;
  maxDocumentsPerRequest: number;
  /** Largest image (decoded bytes) a document or a query may carry. */
  maxImageBytes: number;
  sync: 'full' | 'normal';
  /** Start on a missing or empty database even though index snapshots are there (they are then stale). */
  startFresh: boolean;
  snapshotIntervalMs: number;
  hnsw: { m: number; efConstruction: number; efSearch: number };
  /** Filtered searches whose filter passes at most this many chunks scan them exactly instead of walking HNSW. */
  exactSearchThreshold: number;
  /** Worker threads that hold the HNSW indexes (collections are spread over them); 0: the main thread holds them. */
  indexWorkers: number;
  embedCacheMax: number;
  /** Ingest jobs and local embedding (src/ingest, src/embedding). */
  ingest: {
    /** Worker threads per local model; default: the number of cores. */
    embedWorkers: number;
    /** Accepted-but-unprocessed documents over all jobs above which POST .../ingest answers 429. */
    maxPending: number;
    /** Documents per job batch (one embedding round and one transaction). */
    batch: number;
    /** Largest number of documents in one ingest request. */
    maxDocuments: number;
    /** Largest JSON ingest request body: bulk loads are bigger than other requests (NDJSON streams are bounded per line by QUIVER_MAX_BODY). */
    maxBodyBytes: number;
    retries: number;
    retryBaseMs: number;
  };
  bedrock: { region?: string; endpoint?: string; concurrency: number };
  /** POST .../answer: the Converse model asked when a request names none (QUIVER_ANSWER_MODEL). */
  answerModel: string;
  /**
   * The "sagemaker" provider: the region of endpoints whose embedder names none, the service URL
   * (a VPC endpoint, or a stand-in for tests) and the requests in flight per endpoint.
   */
  sagemaker: { region?: string; endpoint?: string; concurrency: number };
  /**
   * The "openai" provider (OpenAI-compatible embeddings APIs): requests in flight per service and
   * model, how long one may take, and the environment its API keys are read from at call time
   * (a collection stores only the variable's name).
   */
  openai: { concurrency: number; timeoutMs: number; env: (name: string) => string | undefined };
  /** Empty: authentication is off (local use). */
  apiKeys: ApiKey[];
  /** Empty: CORS is off; ["*"]: any origin. */
  corsOrigins: string[];
  requestTimeoutMs: number;
  /**
   * Deadline of an analysis job (cluster with "async": true), whose worker is terminated then.
   * Synchronous projections and clusterings take theirs from requestTimeoutMs.
   */
  analysisJobTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Online backups are written only inside this folder. */
  backupDir: string;
  /** Cluster mode (docs/cluster.md); undefined: standalone. */
  cluster?: ClusterConfig;
}

export interface ClusterConfig {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
  /** api: publishes writes, holds the catalog only; replica: applies the log too; worker: embeds for the replicas; all: everything. */
  role: 'api' | 'replica' | 'worker' | 'all';
  /** Copies JetStream keeps of each stream and bucket (R); 3 tolerates the loss of one NATS node. */
  replicas: number;
  /** How long a read with min_seq waits for this node to apply that sequence. */
  minSeqWaitMs: number;
  /** Messages a replica may be behind its streams and still answer /readyz 200. */
  maxLag: number;
  /** The shards of every collection a replica holds (an unsharded collection is shard 0). */
  shards: 'all' | number[];
  /** This node's id in quiver-nodes; undefined: the one kept in <data dir>/node-id (made at first start). */
  nodeId?: string;
  /** Applied messages past the current snapshot after which the designated replica takes a new one; 0: only on demand. */
  snapshotEvery: number;
  /** How long the workers' embedded chunks stay in their stream (a replica away longer cannot apply what it missed from them). */
  embeddedMaxAgeS: number;
}

export type Role = 'admin' | 'write' | 'read';

/** A configured API key. Only its sha256 is kept, so the key itself never sits in memory or logs. */
export interface ApiKey {
  hash: Buffer;
  role: Role;
  /** Collections the key may use; null means all. */
  collections: string[] | null;
  /** First 8 hex digits of the hash, to name the key in logs without revealing it. */
  fingerprint: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    // An empty variable means "not set", as in most shells' `VAR= cmd`.
    if (value !== undefined && value !== '') present[key] = value.trim();
  }
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const got = present[variable];
    throw new ConfigError(variable, `${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
  }
  const e = parsed.data;
  // Two of the largest bodies at once by default: a bulk load does not shut out every other
  // request, and the worst case follows from the limits alone (no guess at the container's memory).
  const largestBody = Math.max(e.QUIVER_MAX_BODY, e.QUIVER_INGEST_MAX_BODY);
  const maxBodyMemory = e.QUIVER_MAX_BODY_MEMORY ?? 2 * largestBody;
  if (maxBodyMemory < largestBody) {
    throw new ConfigError(
      'QUIVER_MAX_BODY_MEMORY',
      `must be at least the largest body limit, ${largestBody} bytes (QUIVER_MAX_BODY, QUIVER_INGEST_MAX_BODY), or such a body could never be accepted (got ${JSON.stringify(present.QUIVER_MAX_BODY_MEMORY)})`,
    );
  }
  const dataDir = path.resolve(e.QUIVER_DATA_DIR);
  return {
    host: e.QUIVER_HOST,
    port: e.QUIVER_PORT,
    dataDir,
    defaultEmbedder: e.QUIVER_EMBEDDER,
    defaultModel: e.QUIVER_DEFAULT_MODEL,
    modelsDir: path.resolve(e.QUIVER_MODELS_DIR ?? BUILTIN_MODELS_DIR),
    allowModelDownload: e.QUIVER_ALLOW_MODEL_DOWNLOAD,
    logLevel: e.QUIVER_LOG_LEVEL,
    accessLog: e.QUIVER_ACCESS_LOG,
    maxBodyBytes: e.QUIVER_MAX_BODY,
    maxBodyMemoryBytes: maxBodyMemory,
    maxDocumentsPerRequest: e.QUIVER_MAX_DOCUMENTS_PER_REQUEST,
    maxImageBytes: e.QUIVER_MAX_IMAGE_BYTES,
    sync: e.QUIVER_SYNC,
    startFresh: e.QUIVER_START_FRESH,
    snapshotIntervalMs: e.QUIVER_SNAPSHOT_INTERVAL_MS,
    hnsw: { m: e.QUIVER_HNSW_M, efConstruction: e.QUIVER_HNSW_EF_CONSTRUCTION, efSearch: e.QUIVER_HNSW_EF_SEARCH },
    exactSearchThreshold: e.QUIVER_EXACT_SEARCH_THRESHOLD,
    indexWorkers: e.QUIVER_INDEX_WORKERS,
    embedCacheMax: e.QUIVER_EMBED_CACHE_MAX,
    ingest: {
      embedWorkers: e.QUIVER_EMBED_WORKERS ?? os.availableParallelism(),
      maxPending: e.QUIVER_INGEST_MAX_PENDING,
      batch: e.QUIVER_INGEST_BATCH,
      maxDocuments: e.QUIVER_INGEST_MAX_DOCUMENTS,
      maxBodyBytes: e.QUIVER_INGEST_MAX_BODY,
      retries: e.QUIVER_EMBED_RETRIES,
      retryBaseMs: e.QUIVER_EMBED_RETRY_BASE_MS,
    },
    bedrock: { region: e.QUIVER_BEDROCK_REGION, endpoint: e.QUIVER_BEDROCK_ENDPOINT, concurrency: e.QUIVER_BEDROCK_CONCURRENCY },
    sagemaker: { region: e.QUIVER_SAGEMAKER_REGION, endpoint: e.QUIVER_SAGEMAKER_ENDPOINT, concurrency: e.QUIVER_SAGEMAKER_CONCURRENCY },
    answerModel: e.QUIVER_ANSWER_MODEL,
    openai: { concurrency: e.QUIVER_OPENAI_CONCURRENCY, timeoutMs: e.QUIVER_OPENAI_TIMEOUT_MS, env: (name) => env[name] },
    apiKeys: readApiKeys(e.QUIVER_API_KEYS, e.QUIVER_API_KEYS_FILE),
    corsOrigins: parseCorsOrigins(e.QUIVER_CORS_ORIGINS),
    requestTimeoutMs: e.QUIVER_REQUEST_TIMEOUT_MS,
    analysisJobTimeoutMs: e.QUIVER_ANALYSIS_JOB_TIMEOUT_MS,
    shutdownTimeoutMs: e.QUIVER_SHUTDOWN_TIMEOUT_MS,
    backupDir: path.resolve(e.QUIVER_BACKUP_DIR ?? path.join(dataDir, 'backups')),
    cluster: e.QUIVER_NATS_URL
      ? {
          servers: e.QUIVER_NATS_URL.split(','),
          user: e.QUIVER_NATS_USER,
          password: e.QUIVER_NATS_PASSWORD,
          token: e.QUIVER_NATS_TOKEN,
          role: e.QUIVER_ROLE,
          replicas: e.QUIVER_CLUSTER_REPLICAS,
          minSeqWaitMs: e.QUIVER_CLUSTER_MIN_SEQ_WAIT_MS,
          maxLag: e.QUIVER_CLUSTER_MAX_LAG,
          shards: e.QUIVER_CLUSTER_SHARDS === 'all' ? 'all' : [...new Set(e.QUIVER_CLUSTER_SHARDS.split(',').map(Number))],
          nodeId: e.QUIVER_NODE_ID,
          snapshotEvery: e.QUIVER_CLUSTER_SNAPSHOT_EVERY,
          embeddedMaxAgeS: e.QUIVER_CLUSTER_EMBEDDED_MAX_AGE_S,
        }
      : undefined,
  };
}

const KEY_PATTERN = /^[A-Za-z0-9._~+/=-]{16,256}$/;
const COLLECTION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses `<key>:<role>[:<collection>|<collection>...]` entries from the variable (comma-separated) and the file (one a line). */
function readApiKeys(inline: string | undefined, file: string | undefined): ApiKey[] {
  const entries: { text: string; where: string; variable: string }[] = [];
  (inline ?? '').split(',').forEach((text, i) => {
    if (text.trim() !== '') entries.push({ text: text.trim(), where: `entry ${i + 1}`, variable: 'QUIVER_API_KEYS' });
  });
  if (file !== undefined) {
    let content: string;
    try {
      content = fs.readFileSync(path.resolve(file), 'utf8');
    } catch (err) {
      throw new ConfigError('QUIVER_API_KEYS_FILE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    content.split(/\r?\n/).forEach((line, i) => {
      const text = line.trim();
      if (text !== '' && !text.startsWith('#')) entries.push({ text, where: `line ${i + 1}`, variable: 'QUIVER_API_KEYS_FILE' });
    });
  }
  const keys: ApiKey[] = [];
  const seen = new Set<string>();
  for (const { text, where, variable } of entries) {
    // The messages name the entry, never the key: the error is printed to the log.
    const [key = '', role = '', scope, ...rest] = text.split(':');
    if (rest.length > 0) throw new ConfigError(variable, `${where}: expected <key>:<role>[:<collection>|<collection>...]`);
    if (!KEY_PATTERN.test(key)) throw new ConfigError(variable, `${where}: a key must be 16-256 characters from A-Z a-z 0-9 . _ ~ + / = -`);
    if (role !== 'admin' && role !== 'write' && role !== 'read') throw new ConfigError(variable, `${where}: role must be admin, write or read`);
    let collections: string[] | null = null;
    if (scope !== undefined) {
      collections = scope.split('|').map((c) => c.trim());
      const bad = collections.find((c) => !COLLECTION_PATTERN.test(c));
      if (bad !== undefined) throw new ConfigError(variable, `${where}: ${JSON.stringify(bad)} is not a collection name`);
    }
    const hash = crypto.createHash('sha256').update(key).digest();
    const hex = hash.toString('hex');
    if (seen.has(hex)) throw new ConfigError(variable, `${where}: the same key appears twice`);
    seen.add(hex);
    keys.push({ hash, role, collections, fingerprint: hex.slice(0, 8) });
  }
  return keys;
}

function parseCorsOrigins(value: string | undefined): string[] {
  const origins = (value ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const o of origins) {
    if (o === '*') continue;
    let ok = false;
    try {
      const u = new URL(o);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o;
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError('QUIVER_CORS_ORIGINS', `${JSON.stringify(o)} is not an origin such as https://app.example.com (or *)`);
  }
  return origins;
}
