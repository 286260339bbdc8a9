// The "openai" provider: any service that speaks OpenAI's POST /embeddings (OpenAI, Azure OpenAI,
// Ollama, LM Studio, vLLM, Hugging Face TEI, Jina, Mistral, another Quiver). Texts go in batches,
// at most `concurrency` requests in flight; throttling, 5xx, timeouts and network errors are
// retried with back-off (a Retry-After is waited out); a batch the service refuses as bad input
// is sent again text by text, so only the culprit fails.
//
// Plain fetch rather than the `openai` package: the package is built for OpenAI's own API (its
// retries, its base64 default, its error classes), while this speaks to many servers that each
// implement part of it; fetch gives one small request we control, and no runtime dependency.
import type { Embedder, RetryOptions } from './embedder.js';
import { EmbedError, settleInBatches, vectorsOrFirstFailure, withRetry } from './embedder.js';
import { Semaphore } from '../util/semaphore.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const OPENAI_DEFAULT_KEY_ENV = 'OPENAI_API_KEY';
export const OPENAI_DEFAULT_BATCH = 128;
/** The longest a Retry-After is honoured; a service asking for more is asked again after this. */
export const RETRY_AFTER_CEILING_MS = 60_000;

/** OpenAI's own models, whose sizes are known without a call; text-embedding-3-* can be asked for fewer. */
export const OPENAI_MODELS: Readonly<Record<string, { dimensions: number; shortens: boolean }>> = {
  'text-embedding-3-small': { dimensions: 1536, shortens: true },
  'text-embedding-3-large': { dimensions: 3072, shortens: true },
  'text-embedding-ada-002': { dimensions: 1536, shortens: false },
};

export interface OpenAIEmbedderOptions {
  model: string;
  baseUrl: string;
  dimensions: number;
  /** The environment variable that holds the API key; none set: no Authorization header (local servers). */
  apiKeyEnv: string;
  batchSize: number;
  concurrency: number;
  timeoutMs: number;
  retry: RetryOptions;
  /** Reads an environment variable at call time. */
  env: (name: string) => string | undefined;
}

/** The embeddings URL under a base URL, keeping its query (Azure's ?api-version=...). */
export function embeddingsUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/embeddings`;
  return u.toString();
}

/** Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms, in ms, capped; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  let wait: number | undefined;
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) wait = Number(ms);
  else {
    const ra = headers.get('retry-after')?.trim();
    if (ra === undefined || ra === '') return undefined;
    if (/^\d+(\.\d+)?$/.test(ra)) wait = Number(ra) * 1000;
    else {
      const at = Date.parse(ra);
      if (Number.isNaN(at)) return undefined;
      wait = Math.max(0, at - now);
    }
  }
  return Math.min(wait, RETRY_AFTER_CEILING_MS);
}

/** The service's own message from an error body ({error: {message}} or {error: "..."} or {message}), short. */
function serviceMessage(text: string): string {
  let m: unknown;
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message ?? j.detail);
  } catch {
    m = text;
  }
  const s = typeof m === 'string' ? m : JSON.stringify(m);
  return (s ?? '').replace(/\s+/g, ' ').trim().slice(0, 300);
}

function isZero(v: Float32Array): boolean {
  for (const x of v) if (x !== 0) return false;
  return true;
}

function fromBase64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const v = new Float32Array(Math.floor(b.length / 4));
  for (let i = 0; i < v.length; i++) v[i] = b.readFloatLE(i * 4);
  return v;
}

export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly maxBatch: number;
  private readonly url: string;
  private readonly azure: boolean;
  private readonly slots: Semaphore;

  constructor(private readonly opts: OpenAIEmbedderOptions) {
    this.slots = new Semaphore(opts.concurrency);
    this.dimensions = opts.dimensions;
    this.url = embeddingsUrl(opts.baseUrl);
    // The same model name on two servers need not give the same vectors: the cache key names both.
    this.id = `openai:${opts.baseUrl}:${opts.model}:${opts.dimensions}`;
    // Callers (the cache, jobs) split into several batches issued together, so up to
    // concurrency batches are in flight at once.
    this.maxBatch = opts.batchSize;
    const host = new URL(opts.baseUrl).hostname;
    // Azure OpenAI takes its key in an api-key header.
    this.azure = host.endsWith('.openai.azure.com') || host.endsWith('.cognitiveservices.azure.com');
  }


  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const key = this.opts.env(this.opts.apiKeyEnv);
    if (key !== undefined && key !== '') {
      if (this.azure) h['api-key'] = key;
      else h.authorization = `Bearer ${key}`;
    }
    return h;
  }

  private body(texts: string[]): string {
    const known = OPENAI_MODELS[this.opts.model];
    // `dimensions` is sent only to models known to take it: servers of other models (vLLM,
    // TEI) refuse it even when it equals the model's size; for them it states what to expect.
    const dims = known?.shortens === true ? { dimensions: this.dimensions } : {};
    return JSON.stringify({ model: this.opts.model, input: texts, encoding_format: 'float', ...dims });
  }

  /** Why a non-2xx answer failed, classified: the service's words, and what the pipeline should do. */
  private failure(status: number, text: string, headers: Headers): EmbedError {
    const said = serviceMessage(text);
    const what = `${this.url} answered ${status}${said ? `: ${said}` : ''}`;
    if (status === 401 || status === 403) {
      const key = this.opts.env(this.opts.apiKeyEnv);
      const hint = key === undefined || key === '' ? `${this.opts.apiKeyEnv} is not set` : `check the key in ${this.opts.apiKeyEnv}`;
      return new EmbedError(`${what} (${hint})`, 'fatal');
    }
    if (status === 429 || status === 408 || status === 409 || status >= 500) return new EmbedError(what, 'transient', retryAfterMs(headers));
    // 400, 413, 422: the service refused what was sent, which a smaller batch or another text may fix.
    if (status === 400 || status === 413 || status === 422) return new EmbedError(what, 'input');
    // 404 (no such model or path), 405 and the rest: the spec or base_url is wrong for every text.
    return new EmbedError(`${what} (check base_url and model)`, 'fatal');
  }

  /** One request for a batch of texts, retried while transient. */
  private call(texts: string[]): Promise<(Float32Array | null)[]> {
    return withRetry(
      () =>
        this.slots.run(async () => {
          let res: Response;
          let text: string;
          try {
            res = await fetch(this.url, { method: 'POST', headers: this.headers(), body: this.body(texts), signal: AbortSignal.timeout(this.opts.timeoutMs) });
            text = await res.text();
          } catch (err) {
            const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
            const why = e.name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms (QUIVER_OPENAI_TIMEOUT_MS)` : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
            // No HTTP answer (refused, reset, DNS, timeout): the network, not the text.
            throw new EmbedError(`${this.url}: ${why}`, 'transient');
          }
          if (!res.ok) throw this.failure(res.status, text, res.headers);
          return this.parse(text, texts.length);
        }),
      this.opts.retry,
    );
  }

  /** The vectors of a 2xx answer, in input order; an answer of the wrong shape or size is the service's (or the spec's) fault, for every text. */
  private parse(text: string, count: number): (Float32Array | null)[] {
    const bad = (why: string) => new EmbedError(`${this.url} answered with ${why}; is base_url an OpenAI-compatible embeddings API?`, 'fatal');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw bad('something that is not JSON');
    }
    const data = (body as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length !== count) throw bad(Array.isArray(data) ? `${data.length} embeddings for ${count} texts` : 'no "data" list');
    const out = new Array<Float32Array | null>(count).fill(null);
    const seen = new Set<number>();
    data.forEach((d: unknown, i) => {
      const item = d as { index?: unknown; embedding?: unknown } | null;
      const index = typeof item?.index === 'number' ? item.index : i;
      if (!Number.isInteger(index) || index < 0 || index >= count || seen.has(index)) throw bad(`an embedding index ${String(item?.index)} out of place`);
      seen.add(index);
      const e = item?.embedding;
      let v: Float32Array;
      if (typeof e === 'string') v = fromBase64(e);
      else if (Array.isArray(e) && e.every((x) => typeof x === 'number' && Number.isFinite(x))) v = Float32Array.from(e as number[]);
      else throw bad(`embedding ${index} that is not a list of finite numbers`);
      if (v.length !== this.dimensions) {
        throw new EmbedError(`${this.url} answered with ${v.length}-dimension vectors for model "${this.opts.model}", but the collection expects ${this.dimensions}; set embedder.dimensions to the model's size`, 'fatal');
      }
      // A zero vector has no direction: the text had nothing the model knows (Quiver's own
      // /v1/embeddings answers such texts with zeros), so it is stored without a vector.
      out[index] = isZero(v) ? null : v;
    });
    return out;
  }

  embedSettled(texts: string[]): Promise<(Float32Array | null | EmbedError)[]> {
    // Blank text has nothing to embed (and OpenAI refuses an empty string): null without a call.
    return settleInBatches(texts, this.opts.batchSize, (batch) => this.call(batch));
  }

  async embed(texts: string[]): Promise<(Float32Array | null)[]> {
    return vectorsOrFirstFailure(await this.embedSettled(texts));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
