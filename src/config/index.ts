// Owns the process configuration: one typed object read from QUIVER_* environment variables,
// validated once at start-up so a bad value stops the process before anything is opened.
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
  QUIVER_MAX_BODY: byteSize.default(10 * 1024 * 1024),
  QUIVER_MAX_DOCUMENTS_PER_REQUEST: int(1, 100_000).default(1000),
  QUIVER_SYNC: z.enum(['full', 'normal'], { error: 'expected "full" or "normal"' }).default('full'),
  QUIVER_SNAPSHOT_INTERVAL_MS: int(1000, 86_400_000).default(60_000),
  QUIVER_HNSW_M: int(4, 128).default(16),
  QUIVER_HNSW_EF_CONSTRUCTION: int(10, 2000).default(200),
  QUIVER_HNSW_EF_SEARCH: int(10, 5000).default(100),
  QUIVER_EMBED_CACHE_MAX: int(0, 100_000_000).default(1_000_000),
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
  maxBodyBytes: number;
  maxDocumentsPerRequest: number;
  sync: 'full' | 'normal';
  snapshotIntervalMs: number;
  hnsw: { m: number; efConstruction: number; efSearch: number };
  embedCacheMax: number;
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
    maxBodyBytes: e.QUIVER_MAX_BODY,
    maxDocumentsPerRequest: e.QUIVER_MAX_DOCUMENTS_PER_REQUEST,
    sync: e.QUIVER_SYNC,
    snapshotIntervalMs: e.QUIVER_SNAPSHOT_INTERVAL_MS,
    hnsw: { m: e.QUIVER_HNSW_M, efConstruction: e.QUIVER_HNSW_EF_CONSTRUCTION, efSearch: e.QUIVER_HNSW_EF_SEARCH },
    embedCacheMax: e.QUIVER_EMBED_CACHE_MAX,
  };
}
