// `quiver models`: the local embedding models this install can use, offline (no server needed).
//   quiver models list                 what is in QUIVER_MODELS_DIR and built in, and whether each loads
//   quiver models import PATH          a transformers.js model folder, or one .onnx file + --tokenizer
//   quiver models check NAME           load it as the server does, test it, print the collection config
// Models are found by the listing the server's GET /v1/models uses (src/embedding) and loaded by the
// local provider's own loader with downloads off, so what these commands say is what the server will do.
// Exit codes: 0 fine, 1 a model does not load or fails its check, 2 usage errors (bad arguments, an
// import refused, no such model).
import path from 'node:path';
import { Command, Option } from 'commander';
import { BUILTIN_MODELS_DIR, ConfigError, loadConfig, type Config } from '../config/index.js';
import { describeLocalModel, listLocalModels, localModelDirs, type LocalModel } from '../embedding/index.js';
import { DEFAULT_URL, UsageError, intArg, runCommand, usageErrorsExit2 } from './command.js';
import { DEFAULT_MAX_LENGTH, importModel } from './models-import.js';
import { CHECK_TEXTS, checkModel, loadFailure, withModel } from './models-probe.js';

interface ModelsDirOption {
  modelsDir?: string;
}

/** The server's configuration with --models-dir in place of QUIVER_MODELS_DIR: the same folders the server would search. */
function configFor(opts: ModelsDirOption): Config {
  try {
    return loadConfig({ ...process.env, ...(opts.modelsDir !== undefined ? { QUIVER_MODELS_DIR: opts.modelsDir } : {}) });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`invalid configuration: ${err.message}`);
    throw err;
  }
}

const modelsDirOption = () => new Option('--models-dir <dir>', 'the models folder (default: QUIVER_MODELS_DIR, else the install\'s own models folder)');

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024).toFixed(1)} kB`;
}

/** The embedder to give POST /v1/collections (the local provider's schema: provider and model). */
function collectionConfig(id: string): { embedder: { provider: 'local'; model: string } } {
  return { embedder: { provider: 'local', model: id } };
}

// ---------------------------------------------------------------- list

interface ListOptions extends ModelsDirOption {
  json?: boolean;
  load: boolean;
}

interface ListedModel {
  id: string;
  origin: LocalModel['origin'];
  dir: string | null;
  default: boolean;
  /** What the loaded model made (or, unloaded, what config.json declares). */
  dimensions: number | null;
  tokenizer: string | null;
  max_tokens: number | null;
  /** What Quiver applies: mean pooling + normalisation, or the model's own (use-lite). */
  pooling: 'mean' | 'in-model';
  trained_pooling: string | null;
  size_bytes: number;
  /** null with --no-load. */
  loads: boolean | null;
  load_error: string | null;
  warnings: string[];
}

async function listModels(opts: ListOptions): Promise<number> {
  const config = configFor(opts);
  const models: ListedModel[] = [];
  for (const m of listLocalModels(config.modelsDir)) {
    const d = describeLocalModel(m);
    let dimensions = d.declaredDimensions;
    let loads: boolean | null = null;
    let loadError: string | null = null;
    if (opts.load) {
      try {
        dimensions = await withModel(m.id, localModelDirs(config.modelsDir), (model) => model.dimensions);
        loads = true;
      } catch (err) {
        loads = false;
        loadError = loadFailure(err).replace(/^model "[^"]*" does not load: /, '');
      }
    }
    models.push({
      id: m.id,
      origin: m.origin,
      dir: m.dir ?? null,
      default: m.id === config.defaultModel,
      dimensions,
      tokenizer: d.tokenizer,
      max_tokens: d.maxTokens,
      pooling: d.trainedPooling === 'in-model' ? 'in-model' : 'mean',
      trained_pooling: d.trainedPooling,
      size_bytes: d.sizeBytes,
      loads,
      load_error: loadError,
      warnings: d.warnings,
    });
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ models_dir: config.modelsDir, builtin_dir: path.resolve(BUILTIN_MODELS_DIR), default_model: config.defaultModel, models }, null, 2)}\n`);
    return 0;
  }
  const rows = [
    ['MODEL', 'DIMS', 'TOKENIZER', 'MAX TOKENS', 'POOLING', 'SIZE', 'FROM', 'LOADS'],
    ...models.map((m) => [
      `${m.default ? '* ' : '  '}${m.id}`,
      m.dimensions === null ? '?' : String(m.dimensions),
      m.tokenizer ?? '?',
      m.max_tokens === null ? 'no limit' : String(m.max_tokens),
      m.trained_pooling !== null && m.trained_pooling !== m.pooling ? `${m.pooling} (trained: ${m.trained_pooling})` : m.pooling,
      bytes(m.size_bytes),
      m.origin,
      m.loads === null ? 'not tried' : m.loads ? 'yes' : 'NO',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
  const notes = models.flatMap((m) => [...(m.load_error ? [`${m.id}: does not load: ${m.load_error}`] : []), ...m.warnings.map((w) => `${m.id}: ${w}`)]);
  process.stdout.write(
    `Models in ${config.modelsDir}${config.modelsDir !== path.resolve(BUILTIN_MODELS_DIR) ? ` and the built-in ${path.resolve(BUILTIN_MODELS_DIR)}` : ''}\n\n${table}\n\n* the server's default model (QUIVER_DEFAULT_MODEL)\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`,
  );
  return 0;
}

// ---------------------------------------------------------------- import

interface ImportCliOptions extends ModelsDirOption {
  name?: string;
  tokenizer?: string;
  maxLength?: number;
  force?: boolean;
  json?: boolean;
}

async function importCli(source: string, opts: ImportCliOptions): Promise<number> {
  const config = configFor(opts);
  const r = await importModel({ source, name: opts.name, tokenizer: opts.tokenizer, maxLength: opts.maxLength, force: opts.force ?? false, modelsDir: config.modelsDir });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ model: r.id, dir: r.dir, dimensions: r.dimensions, files: r.files, skipped: r.skipped, replaced: r.replaced, collection_config: collectionConfig(r.id) }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    `Imported "${r.id}" (${r.dimensions} dimensions) into ${r.dir}${r.replaced ? ', replacing the model that was there' : ''}.\n` +
      `Files: ${r.files.join(', ')}\n` +
      (r.skipped.length ? `Left behind (the server never reads them): ${r.skipped.join(', ')}\n` : '') +
      `Next: quiver models check ${r.id}${opts.modelsDir !== undefined ? ` --models-dir ${opts.modelsDir}` : ''}\n`,
  );
  return 0;
}

// ---------------------------------------------------------------- check

interface CheckOptions extends ModelsDirOption {
  text?: string[];
  json?: boolean;
}

async function checkCli(id: string, opts: CheckOptions): Promise<number> {
  const config = configFor(opts);
  const model = listLocalModels(config.modelsDir).find((m) => m.id === id);
  if (model === undefined) {
    throw new UsageError(`no model "${id}" in ${localModelDirs(config.modelsDir).join(' or ')}; \`quiver models list\` shows the models there, \`quiver models import\` brings one in`);
  }
  const texts = opts.text?.length ? opts.text : CHECK_TEXTS;
  if (texts.some((t) => t.trim() === '')) throw new UsageError('--text: a test text is empty');
  const report = await checkModel(id, localModelDirs(config.modelsDir), texts);
  const warnings = describeLocalModel(model).warnings;
  const useIt = collectionConfig(id);
  // The server finds a model outside its install only if it is started with the same models folder.
  const env = model.origin === 'models-dir' && config.modelsDir !== path.resolve(BUILTIN_MODELS_DIR) ? `QUIVER_MODELS_DIR=${config.modelsDir}` : null;
  if (opts.json) {
    const json = {
      model: id,
      dir: model.dir ?? null,
      ok: report.problems.length === 0,
      dimensions: report.dimensions,
      load_seconds: report.loadSeconds,
      texts: report.texts,
      embedded: report.embedded,
      norm: report.norm,
      max_cosine: report.maxCosine,
      ms_per_text: report.msPerText,
      problems: report.problems,
      warnings,
      server_env: env,
      collection_config: useIt,
    };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return report.problems.length === 0 ? 0 : 1;
  }
  const lines = [
    `Model "${id}" (${model.dir ?? 'packaged'})`,
    `  loads        yes, offline, in ${report.loadSeconds.toFixed(1)} s`,
    `  dimensions   ${report.dimensions}`,
    `  test texts   ${report.embedded} of ${report.texts} got a vector`,
    `  norms        ${report.norm.min.toFixed(4)} to ${report.norm.max.toFixed(4)} (should be 1: the pipeline normalises)`,
    `  distinct     largest cosine between different texts: ${report.maxCosine === null ? 'n/a' : report.maxCosine.toFixed(3)}`,
    `  speed        ${report.msPerText.toFixed(2)} ms per text (batches of 32, one worker thread; the server runs one per core)`,
    ...report.problems.map((p) => `  PROBLEM      ${p}`),
    ...warnings.map((w) => `  warning      ${w}`),
    '',
  ];
  if (report.problems.length === 0) {
    const body = { name: 'my-docs', ...useIt };
    lines.push(
      'Create a collection with it (POST /v1/collections):',
      `  ${JSON.stringify(useIt)}`,
      ...(env ? [`with the server started with ${env}, e.g.`] : ['e.g.']),
      `  curl -X POST ${DEFAULT_URL}/v1/collections -H 'content-type: application/json' -d '${JSON.stringify(body)}'`,
      '',
    );
  }
  process.stdout.write(lines.join('\n'));
  return report.problems.length === 0 ? 0 : 1;
}

// ---------------------------------------------------------------- wiring

export function modelsCommand(): Command {
  const list = new Command('list')
    .description('list the local models: dimensions, tokenizer, token limit, pooling, size on disk, whether each loads')
    .addOption(modelsDirOption())
    .option('--no-load', 'do not load each model (faster; dimensions are then what config.json declares)')
    .option('--json', 'print the list as JSON')
    .action((opts: ListOptions) => runCommand('models list', () => listModels(opts)));
  const imp = new Command('import')
    .description('import a transformers.js model folder, or one .onnx file with its tokenizer, into the models folder')
    .argument('<path>', 'a model folder (config.json, tokenizer.json, onnx/model.onnx) or an .onnx file')
    .option('--name <name>', 'the model id to give it (default: the folder\'s name)')
    .option('--tokenizer <path>', 'for an .onnx file: its tokenizer.json, or the folder holding it (and tokenizer_config.json)')
    .option('--max-length <tokens>', `tokens per text the tokenizer keeps (written to tokenizer_config.json; default: the tokenizer's own, else ${DEFAULT_MAX_LENGTH})`, intArg(1, 1_000_000))
    .option('--force', 'replace a model of the same name')
    .addOption(modelsDirOption())
    .option('--json', 'print the result as JSON')
    .action((source: string, opts: ImportCliOptions) => runCommand('models import', () => importCli(source, opts)));
  const check = new Command('check')
    .description('load a model offline as the server does, test an embedding, and print the collection config that uses it')
    .argument('<name>', 'the model id, as `quiver models list` shows it')
    .option('--text <text...>', 'test texts (default: a few English sentences); use your own language\'s')
    .addOption(modelsDirOption())
    .option('--json', 'print the report as JSON')
    .action((id: string, opts: CheckOptions) => runCommand('models check', () => checkCli(id, opts)));
  const cmd = new Command('models').description('list, import and check local embedding models (offline; no server needed)');
  for (const sub of [list, imp, check]) cmd.addCommand(usageErrorsExit2(sub).addHelpText('after', '\nExit status: 0 fine, 1 a model does not load or fails its check, 2 bad arguments, an import\nrefused, or no such model.'));
  return usageErrorsExit2(cmd);
}
