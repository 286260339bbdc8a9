// Provider "openai": an OpenAI-compatible embeddings API (src/embedding/openai.ts). On the wire
// `{provider: "openai", model, base_url?, dimensions?, api_key_env?, batch_size?}`; stored in
// camelCase with every default filled in. The size must be known without calling the service:
// from `dimensions`, or for OpenAI's own models from their known sizes.
import { z } from 'zod';
import type { EmbedderSpec } from '../../domain/types.js';
import { OPENAI_DEFAULT_BASE_URL, OPENAI_DEFAULT_BATCH, OPENAI_DEFAULT_KEY_ENV, OPENAI_MODELS, OpenAIEmbedder } from '../openai.js';
import type { EmbeddingProvider } from '../provider.js';

/**
 * Only variables named like API keys may be read: a collection's creator chooses both the variable
 * and the URL the key is sent to, and must not be able to send the server's other secrets
 * (AWS_SECRET_ACCESS_KEY, QUIVER_API_KEYS) anywhere.
 */
const KEY_ENV_PATTERN = /^[A-Z][A-Z0-9_]{0,100}_API_KEY$/;

const baseUrl = z
  .string()
  .max(2048)
  .superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a URL such as https://api.openai.com/v1 or http://localhost:11434/v1' });
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'expected an http or https URL' });
    // Stored with the collection and shown to every reader of it: a key belongs in api_key_env.
    else if (u.username !== '' || u.password !== '') ctx.addIssue({ code: 'custom', message: 'must not hold credentials; put the key in an environment variable and name it in api_key_env' });
    else if (u.hash !== '') ctx.addIssue({ code: 'custom', message: 'must not have a #fragment' });
  });

const wire = z
  .strictObject({
    provider: z.literal('openai'),
    model: z.string().min(1, 'must not be empty').max(256).regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces'),
    base_url: baseUrl.optional(),
    dimensions: z.number().int().min(1).max(65_536).optional(),
    api_key_env: z.string().regex(KEY_ENV_PATTERN, 'expected an environment variable name ending in _API_KEY, such as OPENAI_API_KEY').optional(),
    batch_size: z.number().int().min(1).max(2048).optional(),
  })
  .superRefine((e, ctx) => {
    const known = OPENAI_MODELS[e.model];
    if (known === undefined) {
      if (e.dimensions === undefined) ctx.addIssue({ code: 'custom', path: ['dimensions'], message: `required for model "${e.model}": the size of its vectors (known without asking only for ${Object.keys(OPENAI_MODELS).join(', ')})` });
    } else if (e.dimensions !== undefined && (known.shortens ? e.dimensions > known.dimensions : e.dimensions !== known.dimensions)) {
      const allowed = known.shortens ? `at most ${known.dimensions}` : `${known.dimensions} only`;
      ctx.addIssue({ code: 'custom', path: ['dimensions'], message: `model "${e.model}" makes ${allowed}` });
    }
  });

/** Wire (snake_case) to the stored spec (camelCase); fields left out stay out until normalize. */
const schema = wire.transform(
  (e): EmbedderSpec => ({
    provider: 'openai',
    model: e.model,
    ...(e.base_url === undefined ? {} : { baseUrl: e.base_url }),
    ...(e.dimensions === undefined ? {} : { dimensions: e.dimensions }),
    ...(e.api_key_env === undefined ? {} : { apiKeyEnv: e.api_key_env }),
    ...(e.batch_size === undefined ? {} : { batchSize: e.batch_size }),
  }),
);

function dimensionsOf(spec: EmbedderSpec): number {
  // The schema requires dimensions for every model outside the table.
  return spec.dimensions ?? OPENAI_MODELS[spec.model ?? '']!.dimensions;
}

export const openaiProvider: EmbeddingProvider = {
  name: 'openai',
  hasModel: true,
  schema,
  normalize: (spec) => ({
    provider: 'openai',
    model: spec.model!,
    baseUrl: (spec.baseUrl ?? OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, ''),
    dimensions: dimensionsOf(spec),
    apiKeyEnv: spec.apiKeyEnv ?? OPENAI_DEFAULT_KEY_ENV,
    batchSize: spec.batchSize ?? OPENAI_DEFAULT_BATCH,
  }),
  dimensions: (spec) => Promise.resolve(dimensionsOf(spec)),
  create: (spec, ctx) =>
    Promise.resolve(
      new OpenAIEmbedder({
        model: spec.model!,
        baseUrl: spec.baseUrl ?? OPENAI_DEFAULT_BASE_URL,
        dimensions: dimensionsOf(spec),
        apiKeyEnv: spec.apiKeyEnv ?? OPENAI_DEFAULT_KEY_ENV,
        batchSize: spec.batchSize ?? OPENAI_DEFAULT_BATCH,
        concurrency: ctx.config.openai.concurrency,
        timeoutMs: ctx.config.openai.timeoutMs,
        retry: { retries: ctx.config.ingest.retries, baseMs: ctx.config.ingest.retryBaseMs },
        env: ctx.config.openai.env,
      }),
    ),
  key: (spec) => `openai:${spec.baseUrl ?? ''}:${spec.model ?? ''}:${spec.dimensions ?? ''}:${spec.apiKeyEnv ?? ''}:${spec.batchSize ?? ''}`,
};
