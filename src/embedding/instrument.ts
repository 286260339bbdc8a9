// Publishes one message per call to an embedding model on a diagnostics channel, so metrics
// (api/metrics.ts) can observe embedding latency and batch size without the embedding or collection
// code importing anything from the API layer. Publishing costs nothing while nobody subscribes.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ImageData } from '../domain/types.js';
import type { Embedder } from './embedder.js';

export const EMBED_CHANNEL = 'quiver:embed';

/** Message shape on EMBED_CHANNEL. */
export interface EmbedEvent {
  model: string;
  texts: number;
  ms: number;
}

const channel = diagnosticsChannel.channel(EMBED_CHANNEL);
const wrapped = new WeakMap<Embedder, Embedder>();

/** Runs one call to the model, publishing its duration and size when anyone listens. */
async function timed<T>(e: Embedder, texts: readonly unknown[], call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const out = await call();
  if (channel.hasSubscribers) channel.publish({ model: e.id, texts: texts.length, ms: performance.now() - started } satisfies EmbedEvent);
  return out;
}

/**
 * The same embedder, timing each embed() (and embedSettled(), when the embedder has it) call onto
 * EMBED_CHANNEL. embedSettled must be passed through: without it the ingest pipeline isolates a
 * bad text by embedding every text of the batch again, one by one.
 */
export function instrumentEmbedder(e: Embedder): Embedder {
  let w = wrapped.get(e);
  if (!w) {
    const settled = e.embedSettled?.bind(e);
    const images = e.embedImages?.bind(e);
    w = {
      get id() {
        return e.id;
      },
      get dimensions() {
        return e.dimensions;
      },
      get maxBatch() {
        return e.maxBatch;
      },
      embed: (texts: string[]) => timed(e, texts, () => e.embed(texts)),
      ...(settled ? { embedSettled: (texts: string[]) => timed(e, texts, () => settled(texts)) } : {}),
      ...(e.modalities ? { modalities: e.modalities } : {}),
      // An image counts as one input of the call, as a text does.
      ...(images ? { embedImages: (imgs: ImageData[]) => timed(e, imgs, () => images(imgs)) } : {}),
      close: () => e.close(),
    };
    wrapped.set(e, w);
  }
  return w;
}
