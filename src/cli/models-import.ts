// `quiver models import`: brings a model someone already has into QUIVER_MODELS_DIR in the layout
// the local provider loads (src/embedding MODEL_FILES), from a transformers.js model folder or a
// single ONNX file plus its tokenizer. Everything that cannot work is refused before anything is
// copied, naming the file and the problem; what can is copied into a hidden folder beside the
// target, loaded there as the server would, and only then renamed into place, so an import that
// is killed leaves no half-made model (at most a hidden folder no listing or server reads, which
// the next import removes).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { listLocalModels, MODEL_ID_PATTERN, TOKEN_OUTPUTS } from '../embedding/index.js';
import { CliError, UsageError } from './command.js';
import { withModel } from './models-probe.js';

const { onnx } = onnxProto;

export interface ImportOptions {
  /** A model folder or an .onnx file. */
  source: string;
  name?: string;
  /** tokenizer.json, or the folder holding it (with tokenizer_config.json); for a single ONNX file. */
  tokenizer?: string;
  /** model_max_length to write when the tokenizer has no tokenizer_config.json. */
  maxLength?: number;
  force: boolean;
  modelsDir: string;
}

export interface ImportResult {
  id: string;
  dir: string;
  dimensions: number;
  /** Paths inside the model folder. */
  files: string[];
  /** Files of the source left behind because the server never reads them. */
  skipped: string[];
  /** A model of the same name was there and --force replaced it. */
  replaced: boolean;
}

/** One file of the model to be: copied from `from`, or written from `text`. */
type Entry = { to: string; from: string } | { to: string; text: string };

/** Prefix of the folder an import works in; hidden, so it is never taken for a model. */
const WORK_PREFIX = '.quiver-import-';
/** Token limit written for a tokenizer that states none: BERT-family encoders have 512 positions. */
export const DEFAULT_MAX_LENGTH = 512;
/** Inputs transformers.js feeds an encoder; a graph that needs any other cannot be run by it. */
const FED_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);
/** Small files of a model folder worth keeping beside the ones the server reads (they say how the model was trained). */
const METADATA_FILES = ['special_tokens_map.json', '1_Pooling/config.json', 'sentence_bert_config.json', 'modules.json', 'README.md'];
/** Weight formats people have that are not ONNX, with what to do about them. */
const OTHER_FORMATS: [RegExp, string][] = [
  [/\.safetensors$/i, 'safetensors weights'],
  [/\.(bin|pt|pth|ckpt)$/i, 'PyTorch weights'],
  [/\.gguf$/i, 'a GGUF (llama.cpp) model'],
  [/\.(h5|keras|pb|tflite)$/i, 'TensorFlow weights'],
];
const EXPORT_HINT = 'Quiver runs ONNX models: export it with `optimum-cli export onnx --model <folder> <out>` or use the ONNX version many models publish (e.g. Xenova/<name> or onnx-community/<name>)';

function exists(p: string): boolean {
  return fs.existsSync(p);
}

function readJsonFile(file: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: not readable JSON (${err instanceof Error ? err.message : String(err)}); expected ${what}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${file}: expected ${what}, got JSON that is not an object`);
  return v as Record<string, unknown>;
}

/** A Hugging Face tokenizers file has a "model" section saying WordPiece, BPE or Unigram. */
function checkTokenizerJson(file: string): void {
  const t = readJsonFile(file, 'a Hugging Face tokenizer.json');
  const model = t.model as { type?: unknown } | undefined;
  if (typeof model?.type !== 'string') throw new UsageError(`${file}: not a Hugging Face tokenizer.json (it has no "model" section with a "type"); transformers.js needs the fast tokenizer's tokenizer.json`);
}

interface OnnxSignature {
  inputs: string[];
  outputs: { name: string; rank: number | null }[];
  /** Files holding weights outside the graph, as the graph names them (beside the .onnx file). */
  externalData: string[];
}

/** Reads an ONNX graph's inputs, outputs and external data files (weights are decoded but not kept). */
function readOnnx(file: string): OnnxSignature {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(fs.readFileSync(file));
  } catch (err) {
    throw new UsageError(`${file}: not an ONNX model (${err instanceof Error ? err.message : String(err)})`);
  }
  const graph = model.graph;
  const inputs = (graph?.input ?? []).map((i) => i.name ?? '');
  const outputs = (graph?.output ?? []).map((o) => ({ name: o.name ?? '', rank: o.type?.tensorType?.shape?.dim?.length ?? null }));
  if (inputs.length === 0 || outputs.length === 0) throw new UsageError(`${file}: not an ONNX model (no graph with inputs and outputs)`);
  const initializers = graph?.initializer ?? [];
  const weights = new Set(initializers.map((t) => t.name));
  const externalData = new Set<string>();
  for (const t of initializers) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
    if (location) externalData.add(location);
  }
  return {
    // Older exporters list initializers among the inputs; they are not fed.
    inputs: inputs.filter((n) => !weights.has(n)),
    outputs,
    externalData: [...externalData],
  };
}

/** Refuses a graph the feature-extraction pipeline cannot run or pool; returns the external data files it needs. */
function checkOnnx(file: string, strictInputs: boolean): string[] {
  const sig = readOnnx(file);
  const outputs = sig.outputs.map((o) => `${o.name}${o.rank === null ? '' : ` (rank ${o.rank})`}`).join(', ');
  const pooled = sig.outputs.find((o) => (TOKEN_OUTPUTS as readonly string[]).includes(o.name));
  if (!pooled || (pooled.rank !== null && pooled.rank !== 3)) {
    throw new UsageError(
      `${file}: the graph's outputs are ${outputs}; Quiver mean-pools per-token vectors, which it reads from an output named ${TOKEN_OUTPUTS.join(', ')} (batch × tokens × dimensions). A graph that already pools (e.g. "sentence_embedding") needs re-exporting without the pooling`,
    );
  }
  if (!sig.inputs.includes('input_ids')) throw new UsageError(`${file}: the graph's inputs are ${sig.inputs.join(', ')}; a text encoder takes input_ids`);
  const unfed = sig.inputs.filter((i) => !FED_INPUTS.has(i));
  if (strictInputs && unfed.length > 0) throw new UsageError(`${file}: the graph needs input ${unfed.join(', ')}, which Quiver does not feed (it feeds ${[...FED_INPUTS].join(', ')})`);
  const missing = sig.externalData.filter((d) => !exists(path.join(path.dirname(file), d)));
  if (missing.length > 0) throw new UsageError(`${file}: its weights are kept in ${missing.join(', ')}, which is not beside it`);
  return sig.externalData;
}

/** Refuses a file that is not ONNX, naming what it is when the extension says. */
function checkIsOnnxFile(file: string): void {
  if (/\.onnx$/i.test(file)) return;
  const other = OTHER_FORMATS.find(([re]) => re.test(file));
  if (other) throw new UsageError(`${file} is ${other[1]}, not ONNX. ${EXPORT_HINT}`);
  throw new UsageError(`${file}: expected a model folder or an .onnx file`);
}

/** The files of a single-file import's tokenizer: tokenizer.json and, when beside it, tokenizer_config.json. */
function tokenizerEntries(spec: string, maxLength: number | undefined): Entry[] {
  if (!exists(spec)) throw new UsageError(`--tokenizer ${spec}: no such file or folder`);
  const file = fs.statSync(spec).isDirectory() ? path.join(spec, 'tokenizer.json') : spec;
  if (!exists(file)) throw new UsageError(`--tokenizer ${spec}: the folder has no tokenizer.json`);
  if (!/\.json$/i.test(file)) throw new UsageError(`--tokenizer ${spec}: expected tokenizer.json (a Hugging Face tokenizers file) or its folder`);
  checkTokenizerJson(file);
  const entries: Entry[] = [{ to: 'tokenizer.json', from: file }];
  const dir = path.dirname(file);
  entries.push(...tokenizerConfigEntry(dir, maxLength));
  if (exists(path.join(dir, 'special_tokens_map.json'))) entries.push({ to: 'special_tokens_map.json', from: path.join(dir, 'special_tokens_map.json') });
  return entries;
}

/**
 * tokenizer_config.json from `dir`, or one written with a token limit: transformers.js will not
 * load a tokenizer without it, and without model_max_length it never cuts a long text, which then
 * overflows the model's positions.
 */
function tokenizerConfigEntry(dir: string, maxLength: number | undefined): Entry[] {
  const file = path.join(dir, 'tokenizer_config.json');
  if (exists(file)) {
    const config = readJsonFile(file, 'tokenizer_config.json');
    if (maxLength === undefined) return [{ to: 'tokenizer_config.json', from: file }];
    return [{ to: 'tokenizer_config.json', text: `${JSON.stringify({ ...config, model_max_length: maxLength }, null, 2)}\n` }];
  }
  return [{ to: 'tokenizer_config.json', text: `${JSON.stringify({ model_max_length: maxLength ?? DEFAULT_MAX_LENGTH }, null, 2)}\n` }];
}

/** The .onnx files below `dir` (one level of subfolders), for telling the user what there is instead. */
function onnxFilesIn(dir: string): string[] {
  const found: string[] = [];
  for (const sub of ['', 'onnx']) {
    const d = path.join(dir, sub);
    if (!exists(d) || !fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d)) if (/\.onnx$/i.test(f)) found.push(path.join(sub, f));
  }
  return found;
}

/** The plan for a transformers.js model folder: its config, tokenizer and fp32 ONNX graph. */
function planFolder(dir: string, opts: ImportOptions): { entries: Entry[]; skipped: string[] } {
  const onnxRel = ['onnx/model.onnx', 'model.onnx'].find((f) => exists(path.join(dir, f)));
  if (onnxRel === undefined) {
    const others = onnxFilesIn(dir);
    if (others.length > 0) {
      throw new UsageError(
        `${dir} has no onnx/model.onnx, the full-precision graph the server loads; it has ${others.join(', ')}. Import one of those as a single file: quiver models import ${path.join(dir, others[0]!)} --tokenizer ${dir}`,
      );
    }
    const weights = fs.readdirSync(dir).find((f) => OTHER_FORMATS.some(([re]) => re.test(f)));
    if (weights) throw new UsageError(`${dir} holds ${weights}, not an ONNX model. ${EXPORT_HINT}`);
    throw new UsageError(`${dir}: no ONNX model in it (expected config.json, tokenizer.json and onnx/model.onnx, as transformers.js models have)`);
  }
  if (!exists(path.join(dir, 'tokenizer.json'))) {
    const slow = ['vocab.txt', 'sentencepiece.bpe.model', 'spiece.model', 'vocab.json'].filter((f) => exists(path.join(dir, f)));
    throw new UsageError(
      `${dir} has no tokenizer.json: transformers.js reads the fast tokenizer's tokenizer.json${slow.length ? ` (${slow.join(', ')} alone is not enough; save the tokenizer with AutoTokenizer.from_pretrained(...).save_pretrained(...) to get one)` : ''}`,
    );
  }
  if (!exists(path.join(dir, 'config.json'))) throw new UsageError(`${dir} has no config.json (the model's configuration, which says which architecture to run)`);
  readJsonFile(path.join(dir, 'config.json'), "the model's config.json");
  checkTokenizerJson(path.join(dir, 'tokenizer.json'));
  const onnxFile = path.join(dir, onnxRel);
  const external = checkOnnx(onnxFile, false);

  const entries: Entry[] = [
    { to: 'config.json', from: path.join(dir, 'config.json') },
    { to: 'tokenizer.json', from: path.join(dir, 'tokenizer.json') },
    ...tokenizerConfigEntry(dir, opts.maxLength),
    { to: 'onnx/model.onnx', from: onnxFile },
    ...external.map((d) => ({ to: `onnx/${d}`, from: path.join(path.dirname(onnxFile), d) })),
    ...METADATA_FILES.filter((f) => exists(path.join(dir, f))).map((f) => ({ to: f, from: path.join(dir, f) })),
  ];
  const taken = new Set(entries.filter((e): e is { to: string; from: string } => 'from' in e).map((e) => path.resolve(e.from)));
  const skipped = [...fs.readdirSync(dir), ...(exists(path.join(dir, 'onnx')) ? fs.readdirSync(path.join(dir, 'onnx')).map((f) => `onnx/${f}`) : [])].filter(
    (f) => f !== 'onnx' && !taken.has(path.resolve(dir, f)) && fs.statSync(path.join(dir, f)).isFile(),
  );
  return { entries, skipped };
}

/** The plan for one ONNX file: the graph, its tokenizer, and a config.json that runs it as an encoder. */
function planFile(file: string, opts: ImportOptions): { entries: Entry[]; skipped: string[] } {
  checkIsOnnxFile(file);
  if (opts.tokenizer === undefined) {
    throw new UsageError(`${file} is a single ONNX file, which needs its tokenizer: add --tokenizer <tokenizer.json or its folder> (the tokenizer the model was trained with)`);
  }
  const tokenizer = tokenizerEntries(opts.tokenizer, opts.maxLength);
  const external = checkOnnx(file, true);
  // A BERT-typed config makes transformers.js run the graph as a plain encoder: it feeds
  // input_ids, attention_mask and token_type_ids (those the graph declares) and returns its outputs.
  const config = {
    architectures: ['BertModel'],
    model_type: 'bert',
    quiver: { kind: 'imported-onnx', source: path.basename(file) },
  };
  return {
    entries: [
      { to: 'config.json', text: `${JSON.stringify(config, null, 2)}\n` },
      ...tokenizer,
      { to: 'onnx/model.onnx', from: file },
      ...external.map((d) => ({ to: `onnx/${d}`, from: path.join(path.dirname(file), d) })),
    ],
    skipped: [],
  };
}

/** The model's name: --name, else the folder's name, else the file's ("model*.onnx" take their folder's). */
function modelName(source: string, isDir: boolean, name: string | undefined): string {
  let id = name;
  if (id === undefined) {
    let p = isDir ? source : path.dirname(source);
    if (!isDir && !/^model([_.-]|\.onnx$)/i.test(path.basename(source))) id = path.basename(source).replace(/\.onnx$/i, '');
    else {
      if (path.basename(p) === 'onnx') p = path.dirname(p);
      id = path.basename(p);
    }
  }
  if (!MODEL_ID_PATTERN.test(id) || id.split('/').some((s) => s === '.' || s === '..')) {
    const what = name === undefined ? `the name taken from ${source} (${JSON.stringify(id)})` : `--name ${JSON.stringify(id)}`;
    throw new UsageError(`${what} is not a model id: letters, digits, ".", "_" and "-" (and one "/" as in org/name)${name === undefined ? '; give one with --name' : ''}`);
  }
  return id;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes work folders left by imports that were killed (their process is gone); running ones are left alone. */
function removeAbandoned(modelsDir: string): void {
  for (const f of fs.readdirSync(modelsDir)) {
    const pid = f.startsWith(WORK_PREFIX) ? Number(f.slice(WORK_PREFIX.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) fs.rmSync(path.join(modelsDir, f), { recursive: true, force: true });
  }
}

/** Copies or writes every entry, then fsyncs them, so the rename publishes complete files. */
async function writeEntries(dir: string, entries: Entry[]): Promise<void> {
  for (const e of entries) {
    const target = path.join(dir, e.to);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    if ('from' in e) await fs.promises.copyFile(e.from, target);
    else await fs.promises.writeFile(target, e.text);
    const fh = await fs.promises.open(target, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export async function importModel(opts: ImportOptions): Promise<ImportResult> {
  const source = path.resolve(opts.source);
  if (!exists(source)) throw new UsageError(`${opts.source}: no such file or folder`);
  const isDir = fs.statSync(source).isDirectory();
  if (isDir && opts.tokenizer !== undefined) throw new UsageError('--tokenizer is for a single ONNX file; a model folder brings its own tokenizer.json');
  const id = modelName(source, isDir, opts.name);
  const plan = isDir ? planFolder(source, opts) : planFile(source, opts);

  const modelsDir = path.resolve(opts.modelsDir);
  const target = path.join(modelsDir, id);
  const existing = listLocalModels(modelsDir).find((m) => m.id === id);
  if (existing && !opts.force) {
    const where = existing.origin === 'builtin' ? `is the built-in model (a model of that name in ${modelsDir} would replace it for every collection that uses it)` : existing.origin === 'package' ? 'is a packaged model' : `is already in ${existing.dir}`;
    throw new UsageError(`a model named "${id}" ${where}; choose another --name, or --force to replace it`);
  }
  if (existing?.origin === 'package') throw new UsageError(`"${id}" is the name of a packaged model, which a folder cannot replace; choose another --name`);
  // --force may shadow the built-in model from another folder, never overwrite the install's own copy.
  if (existing?.origin === 'builtin' && existing.dir === target) throw new UsageError(`"${id}" is the built-in model in ${target}, which an import does not overwrite; choose another --name`);
  if (exists(target) && !existing && !opts.force) throw new UsageError(`${target} exists (it is not a model); choose another --name, or --force to replace it`);

  await fs.promises.mkdir(modelsDir, { recursive: true });
  removeAbandoned(modelsDir);
  const work = path.join(modelsDir, `${WORK_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  const staged = path.join(work, id);
  // A killed import leaves `work` for the next import to remove; an interrupted one cleans up now.
  const onSignal = (signal: NodeJS.Signals) => {
    fs.rmSync(work, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await writeEntries(staged, plan.entries);
    // Loaded from the work folder exactly as the server would load it from the models folder.
    const dimensions = await withModel(id, [work], (model) => model.dimensions).catch((err: unknown) => {
      if (err instanceof CliError) err.message += '; nothing was imported';
      throw err;
    });
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const replaced = exists(target);
    if (replaced) await fs.promises.rename(target, path.join(work, 'replaced'));
    await fs.promises.rename(staged, target);
    fsyncDir(path.dirname(target));
    return { id, dir: target, dimensions, files: plan.entries.map((e) => e.to), skipped: plan.skipped, replaced };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}
