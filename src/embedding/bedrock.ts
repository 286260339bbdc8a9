// The "bedrock" provider: Amazon Titan text embeddings (v1, v2) and Titan Multimodal Embeddings
// G1 (texts and images into one space) through the Bedrock runtime's InvokeModel, one input per
// call, with bounded concurrency and retries of transient errors.
// Credentials come from the standard AWS chain; region and endpoint may be overridden.
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ImageData, Modality } from '../domain/types.js';
import type { Embedder, RetryOptions } from './embedder.js';
import { EmbedError, vectorsOrFirstFailure, withRetry } from './embedder.js';
import { awsHttpOptions } from '../util/aws-http.js';
import { Semaphore } from '../util/semaphore.js';

export const TITAN_IMAGE_MODEL = 'amazon.titan-embed-image-v1';
export const TITAN_MODELS = ['amazon.titan-embed-text-v2:0', 'amazon.titan-embed-text-v1', TITAN_IMAGE_MODEL] as const;
export type TitanModel = (typeof TITAN_MODELS)[number];
export const TITAN_V2_DIMENSIONS = [256, 512, 1024] as const;
/** Titan Multimodal Embeddings G1's output lengths (embeddingConfig.outputEmbeddingLength). */
export const TITAN_IMAGE_DIMENSIONS = [256, 384, 1024] as const;

/** What a Titan model embeds: the multimodal one takes images as well as text. */
export function titanModalities(model: TitanModel): readonly Modality[] {
  return model === TITAN_IMAGE_MODEL ? ['text', 'image'] : ['text'];
}

export interface BedrockOptions {
  model: TitanModel;
  /** v2 and the image model; default 1024. */
  dimensions?: number;
  /** v2 only; default true. */
  normalize?: boolean;
  region?: string;
  endpoint?: string;
  concurrency: number;
  retry: RetryOptions;
  /** Longest a call may go unanswered before it fails as a (retried) timeout; default 90 s. */
  timeoutMs?: number;
}

/** The vector size a spec produces, known without calling Bedrock. */
export function titanDimensions(model: TitanModel, dimensions?: number): number {
  // v2 and the multimodal model: 1024 unless asked otherwise.
  return model === 'amazon.titan-embed-text-v1' ? 1536 : (dimensions ?? 1024);
}

// Titan's documented limit is 8,192 tokens; at worst about one token per character, so texts
// are refused above this without a call (chunking keeps documents far below it).
const MAX_INPUT_CHARS = 50_000;

const TRANSIENT = new Set([
  'ThrottlingException',
  'ModelNotReadyException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelTimeoutException',
  'TooManyRequestsException',
  'RequestTimeout',
  'TimeoutError',
]);
const FATAL = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'ResourceNotFoundException', 'CredentialsProviderError', 'ExpiredTokenException']);

/** Maps an SDK (or network) error to what the pipeline should do about it. */
export function classifyBedrockError(err: unknown): EmbedError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const message = `${name}: ${e.message ?? String(err)}`;
  // No region anywhere (QUIVER_BEDROCK_REGION, AWS_REGION, the profile): no call can succeed.
  if (e.message === 'Region is missing') return new EmbedError(`${message}; set QUIVER_BEDROCK_REGION or AWS_REGION`, 'fatal');
  if (FATAL.has(name) || status === 401 || status === 403) return new EmbedError(`Bedrock refused access (${message}); check the AWS credentials, region and model access`, 'fatal');
  if (TRANSIENT.has(name) || (status !== undefined && (status >= 500 || status === 429))) return new EmbedError(message, 'transient');
  // No HTTP answer at all (connection refused or reset, DNS): the network, not the text.
  if (status === undefined && name !== 'ValidationException') return new EmbedError(message, 'transient');
  return new EmbedError(message, 'input');
}

/** Longest a Titan call may go unanswered (a Titan embedding takes well under a second). */
const REQUEST_TIMEOUT_MS = 90_000;

export class BedrockEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly maxBatch: number;
  readonly modalities: readonly Modality[];
  private readonly client: BedrockRuntimeClient;
  private readonly slots: Semaphore;

  constructor(private readonly opts: BedrockOptions) {
    this.slots = new Semaphore(opts.concurrency);
    this.dimensions = titanDimensions(opts.model, opts.dimensions);
    const normalize = opts.normalize ?? true;
    this.modalities = titanModalities(opts.model);
    if (opts.model === 'amazon.titan-embed-text-v1') this.id = `bedrock:${opts.model}`;
    else if (opts.model === TITAN_IMAGE_MODEL) this.id = `bedrock:${opts.model}:${this.dimensions}`;
    else this.id = `bedrock:${opts.model}:${this.dimensions}:${normalize ? 'n' : 'u'}`;
    this.maxBatch = Math.max(8, opts.concurrency * 4);
    this.client = new BedrockRuntimeClient({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      // Retries are ours (with the classification above), so the SDK makes one attempt.
      maxAttempts: 1,
      // A call that hangs would hold a job forever: after the timeout it fails as a TimeoutError, which is retried.
      requestHandler: new NodeHttpHandler(awsHttpOptions({ concurrency: opts.concurrency, timeoutMs: opts.timeoutMs ?? REQUEST_TIMEOUT_MS })),
    });
  }

  private body(input: { text: string } | { image: ImageData }): string {
    if (this.opts.model === TITAN_IMAGE_MODEL) {
      // One input per call: a document's text and image are two chunks, never averaged (README, "Image embeddings").
      const content = 'text' in input ? { inputText: input.text } : { inputImage: input.image.bytes.toString('base64') };
      return JSON.stringify({ ...content, embeddingConfig: { outputEmbeddingLength: this.dimensions } });
    }
    if (!('text' in input)) throw new EmbedError(`model ${this.opts.model} embeds text only`, 'fatal');
    if (this.opts.model === 'amazon.titan-embed-text-v1') return JSON.stringify({ inputText: input.text });
    return JSON.stringify({ inputText: input.text, dimensions: this.dimensions, normalize: this.opts.normalize ?? true, embeddingTypes: ['float'] });
  }

  private async embedOne(input: { text: string } | { image: ImageData }): Promise<Float32Array | null> {
    if ('text' in input) {
      const { text } = input;
      if (text.trim() === '') return null;
      if (text.length > MAX_INPUT_CHARS) throw new EmbedError(`text of ${text.length} characters is over Titan's input limit of 8,192 tokens; chunk it`, 'input');
    }
    const body = this.body(input);
    return withRetry(
      () =>
        this.slots.run(async () => {
          let raw: Uint8Array;
          try {
            const out = await this.client.send(
              new InvokeModelCommand({ modelId: this.opts.model, contentType: 'application/json', accept: 'application/json', body }),
            );
            raw = out.body;
          } catch (err) {
            throw classifyBedrockError(err);
          }
          const parsed = JSON.parse(Buffer.from(raw).toString('utf8')) as { embedding?: number[]; embeddingsByType?: { float?: number[] } };
          const v = parsed.embeddingsByType?.float ?? parsed.embedding;
          if (!Array.isArray(v) || v.length !== this.dimensions) {
            throw new EmbedError(`Bedrock answered with ${Array.isArray(v) ? `${v.length} dimensions` : 'no embedding'}, expected ${this.dimensions}`, 'fatal');
          }
          return Float32Array.from(v);
        }),
      this.opts.retry,
    );
  }

  async embedSettled(texts: string[]): Promise<(Float32Array | null | EmbedError)[]> {
    return Promise.all(texts.map((text) => this.embedOne({ text }).catch((err: unknown) => (err instanceof EmbedError ? err : classifyBedrockError(err)))));
  }

  async embedImages(images: ImageData[]): Promise<(Float32Array | null | EmbedError)[]> {
    return Promise.all(images.map((image) => this.embedOne({ image }).catch((err: unknown) => (err instanceof EmbedError ? err : classifyBedrockError(err)))));
  }

  async embed(texts: string[]): Promise<(Float32Array | null)[]> {
    return vectorsOrFirstFailure(await this.embedSettled(texts));
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
