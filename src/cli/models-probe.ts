// What `quiver models` learns by running a model rather than reading its files: it loads it the
// way the server does (the local provider's loader, downloads off) and measures a test embedding.
import { LocalEmbedder } from '../embedding/index.js';
import { similarity } from '../index/index.js';
import { CliError } from './command.js';

/**
 * Loads `modelId` from `searchDirs` with one worker, runs `body`, and closes the model; a model
 * that does not load is a CliError (exit 1) with the loader's reason.
 * LocalEmbedder unrefs its workers so an idle pool never keeps the server alive; a command
 * awaiting one has nothing else keeping the process alive, so a timer does it meanwhile.
 */
export async function withModel<T>(modelId: string, searchDirs: string[], body: (model: LocalEmbedder) => Promise<T> | T): Promise<T> {
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    let model: LocalEmbedder;
    try {
      model = await LocalEmbedder.load({ modelId, searchDirs, allowDownload: false, poolSize: 1 });
    } catch (err) {
      throw new CliError(`model "${modelId}" does not load: ${loadFailure(err)}`, 1);
    }
    try {
      return await body(model);
    } finally {
      await model.close();
    }
  } finally {
    clearInterval(keepAlive);
  }
}

/** The reason a model did not load, as the server would give it (MODEL_LOAD_FAILED carries the worker's message). */
export function loadFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const reason = (err as { details?: { reason?: unknown } }).details?.reason;
  return typeof reason === 'string' ? reason : err.message;
}

/** Sentences of everyday English and technical text; the models this command is for know these words. */
export const CHECK_TEXTS = [
  'The cat sat on the mat and purred quietly.',
  'Stock markets fell sharply after the central bank raised interest rates.',
  'A vector database answers search queries by meaning.',
  'Boil the pasta for ten minutes, then drain it and add the tomato sauce.',
  'Heavy rain and strong winds are expected across the region tomorrow.',
  'The server keeps an index of every document in the collection.',
];

export interface CheckReport {
  model: string;
  dimensions: number;
  /** Seconds from starting the worker to the model answering its first text. */
  loadSeconds: number;
  /** Texts that got a vector, of those given (a text of only unknown words gets none). */
  embedded: number;
  texts: number;
  /** Smallest and largest L2 norm of the vectors: the pipeline normalises, so both should be 1. */
  norm: { min: number; max: number };
  /** Largest cosine between vectors of different texts: near 1, the model cannot tell texts apart. */
  maxCosine: number | null;
  /** Milliseconds per text, batches of 32, after a warm-up. */
  msPerText: number;
  problems: string[];
}

/** How far from 1 a normalised vector's norm may be (float32 rounding over a few thousand terms). */
const NORM_TOLERANCE = 1e-3;
/** Cosine above which two different sentences count as the same vector. */
const SAME_VECTOR = 0.9999;
/** Texts embedded for the timing: enough for a stable figure, few enough to take seconds on a slow model. */
const TIMED_TEXTS = 64;

/** Loads the model offline, embeds `texts`, and says what is wrong with what came back. */
export function checkModel(modelId: string, searchDirs: string[], texts: string[]): Promise<CheckReport> {
  const started = performance.now();
  return withModel(modelId, searchDirs, async (model) => {
    const loadSeconds = (performance.now() - started) / 1000;
    const vectors = await model.embed(texts);
    const got = vectors.filter((v): v is Float32Array => v !== null);
    const problems: string[] = [];
    const norms = got.map((v) => Math.hypot(...v));
    const wrongSize = got.filter((v) => v.length !== model.dimensions).length;
    if (wrongSize > 0) problems.push(`${wrongSize} vectors are not ${model.dimensions}-dimensional`);
    if (got.length === 0) problems.push(`no test text got a vector: the model knows none of their words (try --text with text in its language)`);
    const off = norms.filter((n) => !(Math.abs(n - 1) <= NORM_TOLERANCE)).length;
    if (off > 0) problems.push(`${off} vectors do not have norm 1 (the pipeline normalises): the model's output is not usable`);
    let maxCosine: number | null = null;
    for (let i = 0; i < got.length; i++) for (let j = i + 1; j < got.length; j++) maxCosine = Math.max(maxCosine ?? -1, similarity('cosine', got[i]!, got[j]!));
    if (maxCosine !== null && maxCosine > SAME_VECTOR) problems.push(`two different texts got the same vector (cosine ${maxCosine.toFixed(5)}): the model cannot tell texts apart`);

    const timed = Array.from({ length: TIMED_TEXTS }, (_, i) => `${texts[i % texts.length]} (${i})`);
    await model.embed(timed.slice(0, 8));
    const t0 = performance.now();
    for (let i = 0; i < timed.length; i += 32) await model.embed(timed.slice(i, i + 32));
    const msPerText = (performance.now() - t0) / timed.length;
    return {
      model: modelId,
      dimensions: model.dimensions,
      loadSeconds,
      embedded: got.length,
      texts: texts.length,
      norm: { min: norms.length ? Math.min(...norms) : 0, max: norms.length ? Math.max(...norms) : 0 },
      maxCosine,
      msPerText,
      problems,
    };
  });
}
