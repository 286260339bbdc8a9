// POST /v1/embeddings and GET /v1/models in OpenAI's shapes. The model id picks a provider spec
// (models.ts) and the shared Embedders service embeds, as for a collection. The embedding cache is
// not used here: it lives in the SQLite store, so it would turn a read-role request into a disk
// write (failing with 507 on a full disk) and fill the cache of document texts with clients' texts.
import type { Router } from 'express';
import { withRetry, embedInBatches } from '../../embedding/index.js';
import { countTokens } from '../../text/chunking.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import { checkDimensions, findModel, listModels, specFor } from './models.js';
import type { ModelEntry } from './models.js';
import { embeddingsBody } from './schemas.js';

/** Little-endian float32, whatever the host's byte order: what OpenAI's base64 encoding is. */
export function toBase64(v: Float32Array): string {
  const b = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i]!, i * 4);
  return b.toString('base64');
}

const modelView = (m: ModelEntry) => ({ id: m.id, object: 'model' as const, created: m.created, owned_by: m.owned_by });

export function embeddingRoutes(router: Router, { config, embedders, json, requireJson }: RouteContext): void {
  const retry = { retries: config.ingest.retries, baseMs: config.ingest.retryBaseMs };

  router.post('/embeddings', requireJson, json, async (req, res) => {
    const body = parse(embeddingsBody, req.body);
    const spec = specFor(config, body.model, body.dimensions);
    // Every model listed has one (models.ts): "local" and "bedrock" are providers with models.
    const embedder = (await embedders.forSpec(spec))!;
    checkDimensions(body.model, embedder.dimensions, body.dimensions);
    const vectors = await withRetry(() => embedInBatches(embedder, body.input), retry);
    let tokens = 0;
    const data = body.input.map((text, index) => {
      tokens += countTokens(text);
      // null: nothing in the text the model knows. OpenAI's shape has no "no vector", so it is the
      // zero vector (what an average of no word vectors is); Quiver's openai provider reads a zero
      // vector back as "not embedded", as a local-model collection would store it.
      const v = vectors[index] ?? new Float32Array(embedder.dimensions);
      return { object: 'embedding' as const, index, embedding: body.encoding_format === 'base64' ? toBase64(v) : Array.from(v) };
    });
    res.json({ object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  });

  router.get('/models', (_req, res) => {
    res.json({ object: 'list', data: listModels(config).map(modelView) });
  });
  router.get('/models/:model', (req, res) => {
    res.json(modelView(findModel(config, String(req.params.model))));
  });
}
