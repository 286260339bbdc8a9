// Owns the on-disk format of a "static embedding" model: an embedding table served through the
// transformers.js feature-extraction pipeline. It writes config.json, tokenizer.json,
// tokenizer_config.json and onnx/model.onnx (optionally onnx/model_fp16.onnx), and knows which
// words the tokenizer can ever produce. The pipeline's mean pooling + normalize turn the
// per-token rows into a (weighted) bag-of-words sentence vector, so any weighting (e.g. SIF) must
// already be baked into the rows.
import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { seededRandom } from '../src/util/random.mjs';

export { seededRandom };

const { onnx } = onnxProto;

/**
 * Tokens that carry no meaning. Their rows are zero so they add nothing to the pooled sum; they do
 * count in the pooling denominator, which only scales the mean and is undone by normalize.
 */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;

/**
 * A static model has no position embeddings, so any length is valid; the cap only bounds the
 * work and memory of one call (batch × length × dim floats).
 */
export const STATIC_MODEL_MAX_LENGTH = 8192;

// Opset 17 / IR 8: every op used has had a stable definition since opset 13/14, and IR 8 is the
// newest that onnx-proto (ONNX 1.10) encodes and that onnxruntime-node 1.24+ reads.
const OPSET_VERSION = 17;
const IR_VERSION = 8;

// Same character classes as the BertPreTokenizer of @huggingface/tokenizers: a word containing
// one of these is split before WordPiece sees it, so it can never be looked up whole.
const PUNCTUATION = /[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/u;
const CONTROL_OR_SPACE = /[\s\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;

function isCjkCodePoint(cp: number): boolean {
  // The ranges BERT's handle_chinese_chars surrounds with spaces.
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** What the BERT normalizer (lowercase + strip accents) does to a word. */
export function bertNormalize(word: string): string {
  return word.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
}

/**
 * True when the tokenizer written here can emit `word` as one token: already normalized, no
 * punctuation or whitespace, and CJK only as a single character (CJK text is split per char).
 * A vocabulary entry that fails this is dead weight: no input text can ever reach its row.
 */
export function isReachableWord(word: string): boolean {
  if (word.length === 0 || word.length > 100) return false;
  if (bertNormalize(word) !== word) return false;
  if (PUNCTUATION.test(word) || CONTROL_OR_SPACE.test(word)) return false;
  const chars = [...word];
  if (chars.length > 1 && chars.some((c) => isCjkCodePoint(c.codePointAt(0)!))) return false;
  return true;
}

export interface StaticModelSpec {
  /** The model's own folder (`<modelsDir>/<modelId>`); created if missing. */
  dir: string;
  /** Words only, without special tokens; row i of `vectors` belongs to vocab[i]. */
  vocab: readonly string[];
  /** vocab.length × dim, row-major. */
  vectors: Float32Array;
  dim: number;
  /** Recorded in config.json; defaults to the folder name. */
  modelId?: string;
  /** Also write onnx/model_fp16.onnx (loaded with `dtype: 'fp16'`); half the size. */
  fp16?: boolean;
  /** Extra provenance stored under config.json's "quiver" key. */
  provenance?: Record<string, unknown>;
}

export interface WrittenStaticModel {
  dir: string;
  /** Absolute paths of the files written, keyed by their path inside the folder. */
  files: Record<string, string>;
  /** Vocabulary size including special tokens. */
  vocabSize: number;
}

/** Writes a transformers.js-loadable static embedding model folder. */
export async function writeStaticModel(spec: StaticModelSpec): Promise<WrittenStaticModel> {
  const { dir, vocab, vectors, dim } = spec;
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`dim must be a positive integer, got ${dim}`);
  if (vectors.length !== vocab.length * dim) {
    throw new Error(`vectors has ${vectors.length} floats, expected vocab.length × dim = ${vocab.length * dim}`);
  }
  const seen = new Set<string>(SPECIAL_TOKENS);
  for (const w of vocab) {
    if (seen.has(w)) throw new Error(`duplicate or reserved vocabulary entry: ${JSON.stringify(w)}`);
    if (!isReachableWord(w)) throw new Error(`the tokenizer can never produce ${JSON.stringify(w)} (not normalized, or contains punctuation/space)`);
    seen.add(w);
  }
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i]!)) throw new Error(`vectors[${i}] is not finite`);
  }

  const fullVocab = [...SPECIAL_TOKENS, ...vocab];
  const table = new Float32Array(fullVocab.length * dim);
  table.set(vectors, SPECIAL_TOKENS.length * dim); // special rows stay zero
  const modelId = spec.modelId ?? path.basename(dir);

  const files: Record<string, string> = {};
  const put = async (name: string, data: string | Uint8Array): Promise<void> => {
    const p = path.join(dir, name);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, data);
    files[name] = p;
  };

  await put('config.json', json(modelConfig(modelId, fullVocab.length, dim, spec.provenance)));
  await put('tokenizer.json', json(tokenizerJson(fullVocab)));
  await put('tokenizer_config.json', json(tokenizerConfig()));
  await put('onnx/model.onnx', encodeStaticGraph(table, fullVocab.length, dim, 'fp32'));
  if (spec.fp16) await put('onnx/model_fp16.onnx', encodeStaticGraph(table, fullVocab.length, dim, 'fp16'));
  return { dir, files, vocabSize: fullVocab.length };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function modelConfig(modelId: string, vocabSize: number, dim: number, provenance?: Record<string, unknown>): Record<string, unknown> {
  // "bert" makes AutoModel pick an encoder-only class that feeds input_ids, attention_mask and
  // token_type_ids and returns last_hidden_state; the layer counts say honestly that there are none.
  return {
    _name_or_path: modelId,
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: dim,
    vocab_size: vocabSize,
    num_hidden_layers: 0,
    num_attention_heads: 1,
    intermediate_size: dim,
    max_position_embeddings: STATIC_MODEL_MAX_LENGTH,
    type_vocab_size: 2,
    pad_token_id: 0,
    ...(provenance ? { quiver: { kind: 'static-embedding', ...provenance } } : { quiver: { kind: 'static-embedding' } }),
  };
}

function tokenizerJson(fullVocab: readonly string[]): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  fullVocab.forEach((w, i) => {
    vocab[w] = i;
  });
  const special = (content: string, id: number) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, i) => special(t, i)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    // [CLS]/[SEP] keep BERT's shape and, more usefully, make an empty text a length-2 sequence
    // instead of a zero-length tensor the runtime rejects. Their rows are zero.
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

function tokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    strip_accents: null,
    tokenize_chinese_chars: true,
    clean_up_tokenization_spaces: true,
    model_max_length: STATIC_MODEL_MAX_LENGTH,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
  };
}

/** Float32 → IEEE half bits, round to nearest even; the table never holds NaN (checked above). */
function toHalfBits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → ±Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry into the exponent is still correct
  return sign | half;
}

function tableBytes(table: Float32Array, dtype: 'fp32' | 'fp16'): Uint8Array {
  if (dtype === 'fp16') {
    const out = new Uint8Array(table.length * 2);
    const view = new DataView(out.buffer);
    for (let i = 0; i < table.length; i++) view.setUint16(i * 2, toHalfBits(table[i]!), true);
    return out;
  }
  // ONNX raw_data is little-endian; copy through a DataView only on the rare big-endian host.
  if (endianness() === 'LE') return new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
  const out = new Uint8Array(table.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < table.length; i++) view.setFloat32(i * 4, table[i]!, true);
  return out;
}

/**
 * last_hidden_state = Gather(table, input_ids) * float(attention_mask)[..., None].
 * The mask multiply makes padded positions exactly zero even for callers that pool themselves.
 * token_type_ids is declared (the pipeline feeds it to BERT-typed models) but unused.
 */
export function encodeStaticGraph(table: Float32Array, vocabSize: number, dim: number, dtype: 'fp32' | 'fp16' = 'fp32'): Uint8Array {
  const { TensorProto } = onnx;
  const seqInput = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: TensorProto.DataType.INT64,
        shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }] },
      },
    },
  });
  const nodes = [
    { opType: 'Gather', input: ['embeddings', 'input_ids'], output: [dtype === 'fp16' ? 'gathered_fp16' : 'gathered'], name: 'gather', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
    ...(dtype === 'fp16'
      ? [{ opType: 'Cast', input: ['gathered_fp16'], output: ['gathered'], name: 'upcast', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: TensorProto.DataType.FLOAT }] }]
      : []),
    { opType: 'Cast', input: ['attention_mask'], output: ['mask_float'], name: 'mask_cast', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: TensorProto.DataType.FLOAT }] },
    { opType: 'Unsqueeze', input: ['mask_float', 'unsqueeze_axes'], output: ['mask_expanded'], name: 'mask_unsqueeze' },
    { opType: 'Mul', input: ['gathered', 'mask_expanded'], output: ['last_hidden_state'], name: 'mask_mul' },
  ];
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'quiver-static-model',
    producerVersion: '1',
    graph: {
      name: 'static_embedding',
      node: nodes,
      initializer: [
        {
          name: 'embeddings',
          dims: [vocabSize, dim],
          dataType: dtype === 'fp16' ? TensorProto.DataType.FLOAT16 : TensorProto.DataType.FLOAT,
          rawData: tableBytes(table, dtype),
        },
        { name: 'unsqueeze_axes', dims: [1], dataType: TensorProto.DataType.INT64, int64Data: [2] },
      ],
      input: [seqInput('input_ids'), seqInput('attention_mask'), seqInput('token_type_ids')],
      output: [
        {
          name: 'last_hidden_state',
          type: {
            tensorType: {
              elemType: TensorProto.DataType.FLOAT,
              shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }, { dimValue: dim }] },
            },
          },
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface TinyModelOptions {
  dim?: number;
  /** Lowercase, punctuation-free words; defaults to a small fixed list. */
  words?: readonly string[];
  seed?: number;
  modelId?: string;
  fp16?: boolean;
}

export interface TinyModel extends WrittenStaticModel {
  vocab: readonly string[];
  vectors: Float32Array;
  dim: number;
}

const DEFAULT_TINY_WORDS = ['apple', 'banana', 'cherry', 'database', 'vector', 'search', 'index', 'query', 'server', 'model'];

/**
 * Writes a small deterministic model into `dir` (the model's own folder) for tests: each word gets
 * a seeded pseudo-random vector in [-1, 1). Returns the table so tests can compute expectations.
 */
export async function writeTinyModel(dir: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const dim = options.dim ?? 8;
  const vocab = options.words ?? DEFAULT_TINY_WORDS;
  const rand = seededRandom(options.seed ?? 42);
  const vectors = new Float32Array(vocab.length * dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = rand() * 2 - 1;
  const written = await writeStaticModel({
    dir,
    vocab,
    vectors,
    dim,
    modelId: options.modelId ?? path.basename(dir),
    fp16: options.fp16 ?? false,
    provenance: { recipe: 'tiny-test-model', seed: options.seed ?? 42 },
  });
  return { ...written, vocab, vectors, dim };
}
