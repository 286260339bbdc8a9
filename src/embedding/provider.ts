// The plug-in contract of an embedding provider. Each provider is one file in providers/ that
// exports one EmbeddingProvider; providers/index.ts lists them (one line each) and everything
// else — the API's `embedder` schema, collection creation, the loaded-model cache — is built
// from that list, so adding a provider touches its own file plus one registration line.
import type { z } from 'zod';
import type { Config } from '../config/index.js';
import type { EmbedderSpec, Modality } from '../domain/types.js';
import type { Embedder } from './embedder.js';

export interface ProviderContext {
  readonly config: Config;
  /** The (cached) embedder of a stored spec: a provider whose size is its model's may load it. */
  load(spec: EmbedderSpec): Promise<Embedder | undefined>;
}

export interface EmbeddingProvider {
  /** The value of `embedder.provider`. */
  readonly name: string;
  /** true when the provider has a model (text can be written and searched); false when clients supply every vector. */
  readonly hasModel: boolean;
  /** What a client may send as `embedder` for this provider: a strict object with `provider: name`. */
  readonly schema: z.ZodType<EmbedderSpec>;
  /** The spec as stored with a collection: defaults filled in, nothing a later change of defaults could alter. */
  normalize(spec: EmbedderSpec, ctx: ProviderContext): EmbedderSpec;
  /**
   * The vector size of a stored spec, known at creation with no call to a remote service;
   * undefined for a provider whose vectors the client supplies (the collection then needs `dimension`).
   */
  dimensions(spec: EmbedderSpec, ctx: ProviderContext): Promise<number | undefined>;
  /** Makes the embedder of a stored spec; undefined for a provider without a model. */
  create(spec: EmbedderSpec, ctx: ProviderContext): Promise<Embedder | undefined>;
  /**
   * What the spec's model embeds, known without loading it, so a request with an image is refused
   * (4xx) before anything is queued. Absent: text only.
   */
  modalities?(spec: EmbedderSpec, ctx: ProviderContext): readonly Modality[];
  /** Specs with the same key share one embedder (one loaded model, one client). */
  key(spec: EmbedderSpec): string;
}
