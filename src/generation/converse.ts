// Owns the one conversation Quiver has with a generation model: Amazon Bedrock's Converse and
// ConverseStream, a system prompt and one user turn, answered whole or as text deltas. Region,
// endpoint and credentials are found as the bedrock embedding provider finds them
// (QUIVER_BEDROCK_REGION, QUIVER_BEDROCK_ENDPOINT, then the standard AWS chain), so one AWS set-up
// serves both. Errors leave as catalogued QuiverErrors: not configured (503), or the model failed (502).
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import type { ContentBlock, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { QuiverError, createError } from '../errors/index.js';
import { awsHttpOptions } from '../util/aws-http.js';

/** A part of the user's turn: plain text, or a document the model reads as material (never as instructions). */
export type UserPart = { text: string } | { document: { name: string; text: string } };

export interface GenerationRequest {
  model: string;
  system: string;
  content: UserPart[];
  maxTokens: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface Generation {
  text: string;
  stopReason: string;
  usage: Usage;
}

export type GenerationEvent = { type: 'delta'; text: string } | { type: 'end'; stopReason: string; usage: Usage };

export interface Generator {
  /** Resolves when Bedrock has a region and credentials; else throws ANSWER_NOT_CONFIGURED naming what is missing. */
  check(): Promise<void>;
  generate(req: GenerationRequest, signal?: AbortSignal): Promise<Generation>;
  /** Resolves once the model accepted the request (errors before that are thrown here), with its events. */
  stream(req: GenerationRequest, signal?: AbortSignal): Promise<AsyncIterable<GenerationEvent>>;
  close(): void;
}

export interface ConverseOptions {
  region?: string;
  endpoint?: string;
  /** How long a call may wait for its response to begin (default 120 s: a long answer that is not streamed comes whole). */
  timeoutMs?: number;
}

const REQUEST_TIMEOUT_MS = 120_000;

const NO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };

/** The reason no call can be signed, or undefined when the error is something else. */
function notConfigured(err: unknown): string | undefined {
  const e = err as { name?: string; message?: string };
  if (e.message === 'Region is missing') return 'no AWS region: set QUIVER_BEDROCK_REGION or AWS_REGION';
  if (e.name === 'CredentialsProviderError') return `no AWS credentials (${e.message ?? 'none found'}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an IAM role`;
  return undefined;
}

/** The error a failed call becomes; an abort (the caller went away) is passed on as it is. */
export function generationError(model: string, err: unknown): unknown {
  if (err instanceof QuiverError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === 'AbortError') return err;
  const missing = notConfigured(err);
  if (missing !== undefined) return createError('ANSWER_NOT_CONFIGURED', { reason: missing });
  const name = e.name ?? 'Error';
  return createError('GENERATION_FAILED', { model, reason: `${name}: ${e.message ?? String(err)}`, bedrock_error: name, bedrock_status: e.$metadata?.httpStatusCode ?? null });
}

function toContent(parts: UserPart[]): ContentBlock[] {
  const encoder = new TextEncoder();
  return parts.map((p) => ('text' in p ? { text: p.text } : { document: { format: 'txt', name: p.document.name, source: { bytes: encoder.encode(p.document.text) } } }));
}

function usageOf(u: { inputTokens?: number; outputTokens?: number; totalTokens?: number } | undefined): Usage {
  if (!u) return NO_USAGE;
  const inputTokens = u.inputTokens ?? 0;
  const outputTokens = u.outputTokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: u.totalTokens ?? inputTokens + outputTokens };
}

export class ConverseGenerator implements Generator {
  private readonly client: BedrockRuntimeClient;

  constructor(opts: ConverseOptions) {
    this.client = new BedrockRuntimeClient({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      // A model that never starts answering would hold the request (and a Bedrock socket) for good.
      requestHandler: new NodeHttpHandler(awsHttpOptions({ timeoutMs: opts.timeoutMs ?? REQUEST_TIMEOUT_MS })),
    });
  }

  async check(): Promise<void> {
    try {
      await this.client.config.region();
      await this.client.config.credentials();
    } catch (err) {
      const missing = notConfigured(err);
      throw missing === undefined ? err : createError('ANSWER_NOT_CONFIGURED', { reason: missing });
    }
  }

  private input(req: GenerationRequest) {
    return {
      modelId: req.model,
      system: [{ text: req.system }],
      messages: [{ role: 'user' as const, content: toContent(req.content) }],
      // Low temperature: an answer from the passages, not a creative one.
      inferenceConfig: { maxTokens: req.maxTokens, temperature: 0 },
    };
  }

  async generate(req: GenerationRequest, signal?: AbortSignal): Promise<Generation> {
    try {
      const out = await this.client.send(new ConverseCommand(this.input(req)), { abortSignal: signal });
      const text = (out.output?.message?.content ?? []).map((b) => b.text ?? '').join('');
      return { text, stopReason: out.stopReason ?? 'end_turn', usage: usageOf(out.usage) };
    } catch (err) {
      throw generationError(req.model, err);
    }
  }

  async stream(req: GenerationRequest, signal?: AbortSignal): Promise<AsyncIterable<GenerationEvent>> {
    let events: AsyncIterable<ConverseStreamOutput>;
    try {
      const out = await this.client.send(new ConverseStreamCommand(this.input(req)), { abortSignal: signal });
      if (!out.stream) throw new Error('ConverseStream answered without a stream');
      events = out.stream;
    } catch (err) {
      throw generationError(req.model, err);
    }
    return translate(req.model, events);
  }

  close(): void {
    this.client.destroy();
  }
}

/** Bedrock's stream events as Quiver's: text deltas, then one end with the stop reason and usage. */
async function* translate(model: string, events: AsyncIterable<ConverseStreamOutput>): AsyncGenerator<GenerationEvent> {
  let stopReason = 'end_turn';
  let usage = NO_USAGE;
  try {
    for await (const ev of events) {
      if (ev.contentBlockDelta?.delta?.text) yield { type: 'delta', text: ev.contentBlockDelta.delta.text };
      else if (ev.messageStop) stopReason = ev.messageStop.stopReason ?? stopReason;
      else if (ev.metadata) usage = usageOf(ev.metadata.usage);
      else {
        // An exception sent as an event (the SDK usually throws these itself).
        const failure = ev.modelStreamErrorException ?? ev.throttlingException ?? ev.validationException ?? ev.internalServerException ?? ev.serviceUnavailableException;
        if (failure) throw Object.assign(new Error(failure.message ?? 'the stream failed'), { name: Object.keys(ev)[0] ?? 'StreamError' });
      }
    }
  } catch (err) {
    throw generationError(model, err);
  }
  yield { type: 'end', stopReason, usage };
}
