// Provider "sagemaker": a model on an Amazon SageMaker real-time endpoint (src/embedding/sagemaker.ts).
// On the wire `{provider: "sagemaker", endpoint, region?, dimensions, preset? | request_template? +
// response_path?, vocabulary?, batch_size?}`; stored in camelCase with the defaults filled in. The
// size cannot be asked of an endpoint without calling it, so `dimensions` is required.
import path from 'node:path';
import { z } from 'zod';
import type { EmbedderSpec } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import type { EmbeddingProvider, ProviderContext } from '../provider.js';
import { EmbedError } from '../embedder.js';
import type { FormatSpec, SageMakerFormat } from '../sagemaker.js';
import {
  parseResponsePath,
  readVocabulary,
  SAGEMAKER_DEFAULT_BATCH,
  SAGEMAKER_PRESETS,
  SageMakerEmbedder,
  sagemakerFormat,
  TEXT_PLACEHOLDER,
  templatePlaceholder,
} from '../sagemaker.js';

/** The longest request_template kept with a collection (it is stored and shown with it). */
const MAX_TEMPLATE_CHARS = 16_384;
const PRESET_LIST = SAGEMAKER_PRESETS.join(', ');

const wire = z
  .strictObject({
    provider: z.literal('sagemaker'),
    endpoint: z.string({ error: 'required: the name of the SageMaker endpoint' }).regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'expected a SageMaker endpoint name: up to 63 letters, digits and hyphens'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-east-1').optional(),
    dimensions: z.number({ error: (i) => (i.input === undefined ? "required: the size of the endpoint model's vectors" : 'expected a whole number') }).int().min(1).max(65_536),
    preset: z.enum(SAGEMAKER_PRESETS, { error: `expected one of ${PRESET_LIST}` }).optional(),
    request_template: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())], { error: 'expected a JSON object or list holding "{{texts}}" or "{{text}}"' }).optional(),
    response_path: z.string().min(1).max(500).optional(),
    vocabulary: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.json$/, 'expected the name of a .json file in the models folder (QUIVER_MODELS_DIR), such as vocab.json').optional(),
    vocabulary_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits').optional(),
    batch_size: z.number().int().min(1).max(1000).optional(),
  })
  .superRefine((e, ctx) => {
    const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
    const templated = e.request_template !== undefined || e.response_path !== undefined;
    if (e.preset === undefined && !templated) issue('preset', `required: one of ${PRESET_LIST} (or request_template and response_path for another container)`);
    if (e.preset !== undefined && templated) issue(e.request_template !== undefined ? 'request_template' : 'response_path', 'give a preset, or request_template with response_path, not both');
    if (e.preset === undefined && templated) {
      if (e.request_template === undefined) issue('request_template', 'required with response_path: the JSON body sent, with "{{texts}}" or "{{text}}" where the text goes');
      if (e.response_path === undefined) issue('response_path', 'required with request_template: where the vectors are in the answer, such as $.embeddings or $.data[*].embedding');
    }
    if (e.request_template !== undefined) {
      const placeholder = templatePlaceholder(e.request_template);
      if (typeof placeholder !== 'string') issue('request_template', placeholder.problem);
      else if (placeholder === TEXT_PLACEHOLDER && e.batch_size !== undefined && e.batch_size !== 1) issue('batch_size', `a request_template with "${TEXT_PLACEHOLDER}" sends one text a request`);
      if (JSON.stringify(e.request_template).length > MAX_TEMPLATE_CHARS) issue('request_template', `at most ${MAX_TEMPLATE_CHARS} characters of JSON`);
    }
    if (e.response_path !== undefined) {
      const steps = parseResponsePath(e.response_path);
      if (typeof steps === 'string') issue('response_path', steps);
    }
    if (e.preset === 'object2vec' && e.vocabulary === undefined) issue('vocabulary', 'required with preset "object2vec": Object2Vec takes token ids; name the word-to-id JSON file in the models folder');
    if (e.preset !== 'object2vec' && (e.vocabulary !== undefined || e.vocabulary_sha256 !== undefined)) issue('vocabulary', 'only for preset "object2vec"');
  });

/** Wire (snake_case) to the stored spec (camelCase); fields left out stay out until normalize. */
const schema = wire.transform(
  (e): EmbedderSpec => ({
    provider: 'sagemaker',
    endpoint: e.endpoint,
    ...(e.region === undefined ? {} : { region: e.region }),
    dimensions: e.dimensions,
    ...(e.preset === undefined ? {} : { preset: e.preset }),
    ...(e.request_template === undefined ? {} : { requestTemplate: e.request_template }),
    ...(e.response_path === undefined ? {} : { responsePath: e.response_path }),
    ...(e.vocabulary === undefined ? {} : { vocabulary: e.vocabulary }),
    ...(e.vocabulary_sha256 === undefined ? {} : { vocabularySha256: e.vocabulary_sha256 }),
    ...(e.batch_size === undefined ? {} : { batchSize: e.batch_size }),
  }),
);

const invalid = (field: string, message: string) => createError('VALIDATION_FAILED', { issues: [{ field: `embedder.${field}`, message }] });

/** The vocabulary of an object2vec spec from the models folder; `pinned`, when given, must be its sha256. */
function vocabularyOf(spec: EmbedderSpec, ctx: ProviderContext) {
  const file = path.join(ctx.config.modelsDir, spec.vocabulary!);
  let v: ReturnType<typeof readVocabulary>;
  try {
    v = readVocabulary(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw invalid('vocabulary', e.code === 'ENOENT' ? `no file ${spec.vocabulary} in the models folder (QUIVER_MODELS_DIR)` : e.message);
  }
  if (spec.vocabularySha256 !== undefined && v.sha256 !== spec.vocabularySha256) {
    throw invalid('vocabulary', `${spec.vocabulary} has changed since the collection was made (sha256 ${v.sha256.slice(0, 12)}…, not ${spec.vocabularySha256.slice(0, 12)}…); its token ids would no longer match the stored vectors`);
  }
  return v;
}

function formatSpec(spec: EmbedderSpec, ctx: ProviderContext): FormatSpec {
  if (spec.preset === undefined) return { requestTemplate: spec.requestTemplate, responsePath: spec.responsePath! };
  if (spec.preset === 'object2vec') return { preset: 'object2vec', vocabulary: vocabularyOf(spec, ctx).words };
  return { preset: spec.preset as 'tei' | 'huggingface' | 'jumpstart' };
}

export const sagemakerProvider: EmbeddingProvider = {
  name: 'sagemaker',
  hasModel: true,
  schema,
  normalize: (spec, ctx) => {
    const region = spec.region ?? ctx.config.sagemaker.region;
    const single = spec.requestTemplate !== undefined && templatePlaceholder(spec.requestTemplate) === TEXT_PLACEHOLDER;
    return {
      provider: 'sagemaker',
      endpoint: spec.endpoint!,
      // The region in force at creation is kept: the endpoint lives there, whatever the server's default later.
      ...(region === undefined ? {} : { region }),
      dimensions: spec.dimensions!,
      ...(spec.preset === undefined ? { requestTemplate: spec.requestTemplate, responsePath: spec.responsePath! } : { preset: spec.preset }),
      ...(spec.preset === 'object2vec' ? { vocabulary: spec.vocabulary!, vocabularySha256: vocabularyOf(spec, ctx).sha256 } : {}),
      batchSize: spec.batchSize ?? (single ? 1 : SAGEMAKER_DEFAULT_BATCH),
    };
  },
  dimensions: (spec) => Promise.resolve(spec.dimensions!),
  create: (spec, ctx) => {
    let format: SageMakerFormat;
    try {
      format = sagemakerFormat(formatSpec(spec, ctx));
    } catch (err) {
      // The vocabulary file gone or changed since creation: no text of this collection can be embedded.
      return Promise.reject(new EmbedError((err as Error).message, 'fatal'));
    }
    return SageMakerEmbedder.create({
      endpoint: spec.endpoint!,
      region: spec.region ?? ctx.config.sagemaker.region,
      serviceUrl: ctx.config.sagemaker.endpoint,
      dimensions: spec.dimensions!,
      format,
      batchSize: spec.batchSize ?? SAGEMAKER_DEFAULT_BATCH,
      concurrency: ctx.config.sagemaker.concurrency,
      retry: { retries: ctx.config.ingest.retries, baseMs: ctx.config.ingest.retryBaseMs },
    });
  },
  key: (spec) => `sagemaker:${JSON.stringify([spec.region, spec.endpoint, spec.dimensions, spec.preset, spec.requestTemplate, spec.responsePath, spec.vocabulary, spec.vocabularySha256, spec.batchSize])}`,
};
