// OpenAI-compatible embeddings: POST /v1/embeddings and GET /v1/models, in OpenAI's wire shapes,
// over the same embedding providers the collections use. Errors take OpenAI's shape
// {error: {message, type, param, code}}, which its clients read.
import type { QuiverError } from '../../errors/index.js';
import type { FieldIssue } from '../../errors/index.js';
import type { ErrorReply, Surface } from '../surface.js';
import { embeddingRoutes } from './embeddings.js';

/** OpenAI's error types by status. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The request field an error is about, in OpenAI's `param`. */
function errorParam(e: QuiverError): string | null {
  if (e.code === 'VALIDATION_FAILED') return (e.details as { issues: FieldIssue[] }).issues[0]?.field ?? null;
  if (e.code === 'MODEL_UNAVAILABLE' || e.code === 'MODEL_NOT_FOUND' || e.code === 'MODEL_LOAD_FAILED') return 'model';
  return null;
}

const CODES: Partial<Record<QuiverError['code'], string>> = { UNAUTHORIZED: 'invalid_api_key', MODEL_UNAVAILABLE: 'model_not_found' };

export function openaiErrorReply(e: QuiverError, reply: ErrorReply): ErrorReply {
  const message = e.code === 'INTERNAL' ? 'internal error (see the server log)' : e.message;
  return { ...reply, body: { error: { message, type: errorType(reply.status), param: errorParam(e), code: CODES[e.code] ?? e.code.toLowerCase() } } };
}

export const openaiSurface: Surface = {
  name: 'openai',
  prefix: '/v1',
  owns: (path) => /^\/v1\/(embeddings|models)(\/|$)/i.test(path),
  routes: (router, ctx) => {
    router.use(ctx.ready);
    embeddingRoutes(router, ctx);
  },
  errorReply: openaiErrorReply,
};
