// Publishes one message per call to an embedding model on a diagnostics channel, so metrics
// (api/metrics.ts) can observe embedding latency and batch size without the embedding or engine
// code importing anything from the API layer. Publishing costs nothing while nobody subscribes.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Embedder } from '../embedding/index.js';

export const EMBED_CHANNEL = 'quiver:embed';

/** Message shape on EMBED_CHANNEL. */
export interface EmbedEvent {
  model: string;
  texts: number;
  ms: number;
}

const channel = diagnosticsChannel.channel(EMBED_CHANNEL);
const wrapped = new WeakMap<Embedder, Embedder>();

/** The same embedder, timing each embed() call onto EMBED_CHANNEL. */
export function instrumentEmbedder(e: Embedder): Embedder {
  let w = wrapped.get(e);
  if (!w) {
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
      async embed(texts: string[]) {
        const started = performance.now();
        const out = await e.embed(texts);
        if (channel.hasSubscribers) channel.publish({ model: e.id, texts: texts.length, ms: performance.now() - started } satisfies EmbedEvent);
        return out;
      },
      close: () => e.close(),
    };
    wrapped.set(e, w);
  }
  return w;
}
