// Owns the embedding models in use: the provider registry (providers/index.ts) turned into one
// service — stored specs checked and completed at collection creation, one embedder per
// provider key made on first use and shared by every collection that uses it (instrumented for
// the metrics), and all of them closed at shutdown.
import type { Config } from '../config/index.js';
import type { EmbedderSpec, Modality } from '../domain/types.js';
import { createError } from '../errors/index.js';
import type { Embedder } from './embedder.js';
import { instrumentEmbedder } from './instrument.js';
import type { EmbeddingProvider, ProviderContext } from './provider.js';
import { PROVIDERS } from './providers/index.js';

export class Embedders {
  private readonly loaded = new Map<string, Promise<Embedder | undefined>>();
  private readonly byName: Map<string, EmbeddingProvider>;
  private readonly ctx: ProviderContext;

  constructor(
    config: Config,
    readonly providers: readonly EmbeddingProvider[] = PROVIDERS,
  ) {
    this.byName = new Map(providers.map((p) => [p.name, p]));
    this.ctx = { config, load: (spec) => this.forSpec(spec) };
  }

  private provider(name: string): EmbeddingProvider {
    const p = this.byName.get(name);
    if (!p) {
      throw createError('VALIDATION_FAILED', {
        issues: [{ field: 'embedder.provider', message: `unknown provider "${name}" (expected one of ${[...this.byName.keys()].join(', ')})` }],
      });
    }
    return p;
  }

  /**
   * Completes a spec for storing with a new collection and finds its vector size; `dimension`,
   * when given, must agree with the model's. Throws VALIDATION_FAILED naming the field.
   */
  async resolve(spec: EmbedderSpec, dimension: number | undefined): Promise<{ spec: EmbedderSpec; dimension: number }> {
    const p = this.provider(spec.provider);
    const stored = p.normalize(spec, this.ctx);
    const made = await p.dimensions(stored, this.ctx);
    if (made === undefined) {
      if (dimension === undefined) {
        throw createError('VALIDATION_FAILED', { issues: [{ field: 'dimension', message: `required when embedder.provider is "${p.name}"` }] });
      }
      return { spec: stored, dimension };
    }
    if (dimension !== undefined && dimension !== made) {
      const what = stored.model === undefined ? `provider "${p.name}"` : `model "${stored.model}"`;
      throw createError('VALIDATION_FAILED', { issues: [{ field: 'dimension', message: `${what} makes ${made}-dimension vectors, not ${dimension}; omit dimension` }] });
    }
    return { spec: stored, dimension: made };
  }

  /** Whether the spec's provider has a model (false: clients supply every vector). */
  hasModel(spec: EmbedderSpec): boolean {
    return this.provider(spec.provider).hasModel;
  }

  /** What the spec's model embeds (text only unless its provider says more). */
  modalities(spec: EmbedderSpec): readonly Modality[] {
    return this.provider(spec.provider).modalities?.(spec, this.ctx) ?? ['text'];
  }

  /** The embedder of a stored spec (made on first use), or undefined for a provider without a model. */
  forSpec(spec: EmbedderSpec): Promise<Embedder | undefined> {
    const p = this.provider(spec.provider);
    const key = p.key(spec);
    let e = this.loaded.get(key);
    if (!e) {
      // Instrumented: each model call is published for the metrics (instrument.ts).
      e = p.create(spec, this.ctx).then((made) => made && instrumentEmbedder(made));
      this.loaded.set(key, e);
      // A failed load is not remembered: the user may put the model in place and try again.
      e.catch(() => this.loaded.delete(key));
    }
    return e;
  }

  async closeAll(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.allSettled(all.map(async (p) => (await p)?.close()));
  }
}
