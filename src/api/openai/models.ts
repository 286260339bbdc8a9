// Owns which model ids the OpenAI surface answers to and what each means to Quiver: the local
// models found on disk (and the packaged ones) become {provider: "local"}, Titan ids become
// {provider: "bedrock"} when Bedrock is configured. Anything else is a 404 naming the model.
import type { Config } from '../../config/index.js';
import type { EmbedderSpec } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import { listLocalModels, TITAN_MODELS, TITAN_V2_DIMENSIONS, titanDimensions } from '../../embedding/index.js';
import type { TitanModel } from '../../embedding/index.js';

export interface ModelEntry {
  id: string;
  /** Unix seconds: when the model's files were written (0 for models with none on disk). */
  created: number;
  owned_by: string;
}

/** The local models on disk and in packages (src/embedding: the same listing `quiver models list` shows). */
function localModels(config: Config): ModelEntry[] {
  return listLocalModels(config.modelsDir).map((m) => ({ id: m.id, created: m.created, owned_by: 'quiver' }));
}

/** Bedrock is offered when it is configured explicitly, as the Bedrock provider's own settings say. */
export function bedrockConfigured(config: Config): boolean {
  return config.bedrock.region !== undefined || config.bedrock.endpoint !== undefined;
}

/** Every model this server can embed with, for GET /v1/models. Scanned per call: a model copied into the folder shows up without a restart. */
export function listModels(config: Config): ModelEntry[] {
  const titan = bedrockConfigured(config) ? TITAN_MODELS.map((id) => ({ id, created: 0, owned_by: 'amazon-bedrock' })) : [];
  return [...localModels(config), ...titan];
}

export function findModel(config: Config, id: string): ModelEntry {
  const m = listModels(config).find((e) => e.id === id);
  if (m === undefined) throw createError('MODEL_UNAVAILABLE', { model: id, reason: unavailableReason(config, id) });
  return m;
}

function unavailableReason(config: Config, id: string): string {
  if ((TITAN_MODELS as readonly string[]).includes(id)) return 'Bedrock is not configured (set QUIVER_BEDROCK_REGION or QUIVER_BEDROCK_ENDPOINT)';
  return `no such model in ${config.modelsDir}; GET /v1/models lists the models this server has`;
}

/**
 * The embedder spec for a request's model and dimensions. `dimensions` is honoured where the model
 * offers sizes (Titan v2: 256, 512, 1024); elsewhere it must equal the model's own size, checked
 * by the caller once the model is loaded (see `checkDimensions`).
 */
export function specFor(config: Config, model: string, dimensions: number | undefined): EmbedderSpec {
  findModel(config, model);
  if ((TITAN_MODELS as readonly string[]).includes(model)) {
    const titan = model as TitanModel;
    if (titan === 'amazon.titan-embed-text-v2:0') {
      if (dimensions !== undefined && !(TITAN_V2_DIMENSIONS as readonly number[]).includes(dimensions)) {
        throw createError('VALIDATION_FAILED', { issues: [{ field: 'dimensions', message: `model "${model}" makes 256, 512 or 1024 dimensions, not ${dimensions}` }] });
      }
      return { provider: 'bedrock', model: titan, dimensions: titanDimensions(titan, dimensions), normalize: true };
    }
    return { provider: 'bedrock', model: titan };
  }
  return { provider: 'local', model };
}

/** A `dimensions` the model cannot honour is refused rather than ignored: the client would store vectors of a size it did not ask for. */
export function checkDimensions(model: string, made: number, asked: number | undefined): void {
  if (asked === undefined || asked === made) return;
  throw createError('VALIDATION_FAILED', {
    issues: [{ field: 'dimensions', message: `model "${model}" makes ${made}-dimension vectors and cannot shorten them; omit dimensions or send ${made}` }],
  });
}
