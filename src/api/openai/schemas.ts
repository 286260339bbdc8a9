// The OpenAI embeddings request, as zod: the one statement of what POST /v1/embeddings accepts,
// used to validate requests and to describe them in the OpenAPI document (api/openapi.ts).
import { z } from 'zod';
import { wellFormedProblem } from '../../text/well-formed.js';

/** As OpenAI: at most 2048 inputs a request. */
export const MAX_INPUTS = 2048;
/** Characters per input; OpenAI's own limit (8,192 tokens) is below it. */
export const MAX_INPUT_CHARS = 100_000;

/** What a value is, in the words zod uses. */
function received(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const TOKEN_ARRAYS = 'Quiver embeds text: token arrays (lists of token ids from a tokenizer) are not supported; send the text as a string or an array of strings';

/**
 * `input`: a string or an array of strings. Checked by a loop rather than a zod union, whose
 * failure says only "Invalid input": this names the bad element (input.3) and says what is wrong
 * with it, and tells token arrays (which OpenAI accepts) apart from other mistakes.
 */
const input = z
  .unknown()
  .transform((v, ctx): string[] => {
    const issue = (message: string, path: (string | number)[] = []) => ctx.addIssue({ code: 'custom', message, path });
    const one = (s: string, path: (string | number)[]) => {
      if (s.length === 0) issue('must not be empty', path);
      else if (s.trim() === '') issue('must not be blank', path);
      else if (s.length > MAX_INPUT_CHARS) issue(`must be at most ${MAX_INPUT_CHARS} characters (got ${s.length}); split the text`, path);
      else {
        const problem = wellFormedProblem(s);
        if (problem !== undefined) issue(problem, path);
      }
    };
    if (typeof v === 'string') {
      one(v, []);
      return [v];
    }
    if (!Array.isArray(v)) {
      issue(`expected a string or an array of strings, received ${received(v)}`);
      return z.NEVER;
    }
    if (v.length === 0) {
      issue('must hold at least one string');
      return z.NEVER;
    }
    if (typeof v[0] === 'number' || Array.isArray(v[0])) {
      issue(TOKEN_ARRAYS);
      return z.NEVER;
    }
    if (v.length > MAX_INPUTS) {
      issue(`at most ${MAX_INPUTS} inputs per request (got ${v.length})`);
      return z.NEVER;
    }
    v.forEach((s: unknown, i) => {
      if (typeof s === 'string') one(s, [i]);
      else issue(`expected a string, received ${received(s)}`, [i]);
    });
    return v as string[];
  })
  .meta({
    description: `A text or up to ${MAX_INPUTS} texts (each non-blank, at most ${MAX_INPUT_CHARS} characters). Token arrays are refused.`,
    anyOf: [
      { type: 'string', minLength: 1, maxLength: MAX_INPUT_CHARS },
      { type: 'array', items: { type: 'string', minLength: 1, maxLength: MAX_INPUT_CHARS }, minItems: 1, maxItems: MAX_INPUTS },
    ],
  });

export const embeddingsBody = z.strictObject({
  model: z.string().min(1, 'must not be empty').max(256).meta({ description: 'a model id from GET /v1/models' }),
  input,
  encoding_format: z.enum(['float', 'base64']).default('float').meta({ description: 'base64: each vector as little-endian float32 bytes, base64-encoded' }),
  dimensions: z
    .number()
    .int()
    .min(1)
    .max(65_536)
    .optional()
    .meta({ description: "Titan v2: 256, 512 or 1024; other models only their own size" }),
  /** OpenAI's end-user id for abuse monitoring: accepted and not used. */
  user: z.string().max(256).optional(),
});

const embedding = z.object({
  object: z.literal('embedding'),
  index: z.number().int(),
  embedding: z.union([z.array(z.number()), z.string()]).meta({ description: 'numbers, or with encoding_format "base64" a base64 string of little-endian float32' }),
});

export const embeddingsResponse = z.object({
  object: z.literal('list'),
  data: z.array(embedding),
  model: z.string(),
  usage: z.object({
    prompt_tokens: z.number().int().meta({ description: "tokens as Quiver's chunker counts them (word segments, one per CJK character), not the model tokenizer's count" }),
    total_tokens: z.number().int(),
  }),
});

export const modelObject = z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() });
export const modelList = z.object({ object: z.literal('list'), data: z.array(modelObject) });
export const openaiError = z
  .object({ error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }) })
  .meta({ id: 'OpenAIError', description: "OpenAI's error shape, used on /v1/embeddings and /v1/models" });
