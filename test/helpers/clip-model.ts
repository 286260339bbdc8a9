// Writes a tiny CLIP-shaped model in the layout transformers.js loads (config.json with model_type
// "clip", preprocessor_config.json, tokenizer files, onnx/text_model.onnx and onnx/vision_model.onnx)
// so the local provider's image path is tested offline. Its one space is colour: the vision graph
// averages each channel over the picture (pixel_values → image_embeds), the text graph sums a row
// per word (input_ids → text_embeds), and the words "red", "green" and "blue" own the matching
// axes — so a red picture lands on "red". Not a model of anything else.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { TensorProto } = onnx;
const OPSET = 17;
const IR_VERSION = 8;
/** Axis 3 is for every other word, so a caption without a colour still gets a vector. */
const DIM = 4;
const WORDS = ['[PAD]', '[UNK]', 'red', 'green', 'blue', 'a', 'photo', 'of', 'sky', 'apple', 'grass'];
/** Colour words own their channel's axis; "sky", "apple" and "grass" lean to theirs too. */
const ROWS: Record<string, number[]> = {
  red: [1, 0, 0, 0],
  green: [0, 1, 0, 0],
  blue: [0, 0, 1, 0],
  sky: [0, 0, 0.5, 0.5],
  apple: [0.5, 0, 0, 0.5],
  grass: [0, 0.5, 0, 0.5],
  a: [0, 0, 0, 0.1],
  photo: [0, 0, 0, 0.1],
  of: [0, 0, 0, 0.1],
};

const floats = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

function output(name: string) {
  return { name, type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch_size' }, { dimValue: DIM }] } } } };
}

function encode(name: string, graph: Record<string, unknown>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'quiver-tiny-clip',
    producerVersion: '1',
    graph: { name, ...graph },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** text_embeds = Σ_t table[input_ids[b, t]] ([PAD] and [UNK] rows are zero). */
function textGraph(): Uint8Array {
  const table = WORDS.flatMap((w) => ROWS[w] ?? [0, 0, 0, 0]);
  return encode('tiny_clip_text', {
    node: [
      { opType: 'Gather', input: ['table', 'input_ids'], output: ['rows'], name: 'gather', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      { opType: 'ReduceSum', input: ['rows', 'seq_axis'], output: ['text_embeds'], name: 'sum', attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
    ],
    initializer: [
      { name: 'table', dims: [WORDS.length, DIM], dataType: TensorProto.DataType.FLOAT, rawData: floats(table) },
      { name: 'seq_axis', dims: [1], dataType: TensorProto.DataType.INT64, int64Data: [1] },
    ],
    input: [
      { name: 'input_ids', type: { tensorType: { elemType: TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }] } } } },
      { name: 'attention_mask', type: { tensorType: { elemType: TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }] } } } },
    ],
    output: [output('text_embeds')],
  });
}

/** image_embeds = mean over pixels of (r, g, b) · W, W mapping each channel to its axis plus a little of axis 3. */
function visionGraph(): Uint8Array {
  const w = [1, 0, 0, 0.05, 0, 1, 0, 0.05, 0, 0, 1, 0.05];
  return encode('tiny_clip_vision', {
    node: [
      { opType: 'ReduceMean', input: ['pixel_values'], output: ['channels'], name: 'mean', attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [2, 3] }, { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      { opType: 'MatMul', input: ['channels', 'projection'], output: ['image_embeds'], name: 'project' },
    ],
    initializer: [{ name: 'projection', dims: [3, DIM], dataType: TensorProto.DataType.FLOAT, rawData: floats(w) }],
    input: [{ name: 'pixel_values', type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch_size' }, { dimValue: 3 }, { dimValue: 8 }, { dimValue: 8 }] } } } }],
    output: [output('image_embeds')],
  });
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Writes the model into `dir` (its own folder below the models folder); returns its vector size. */
export async function writeTinyClipModel(dir: string): Promise<{ dim: number }> {
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  const vocab = Object.fromEntries(WORDS.map((w, i) => [w, i]));
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  await Promise.all([
    writeFile(path.join(dir, 'config.json'), json({ model_type: 'clip', architectures: ['CLIPModel'], projection_dim: DIM, text_config: { hidden_size: DIM }, vision_config: { hidden_size: DIM, image_size: 8 } })),
    writeFile(
      path.join(dir, 'preprocessor_config.json'),
      // Rescaled to [0, 1] and not normalised, so the mean of a channel is its share of the colour.
      json({ image_processor_type: 'CLIPImageProcessor', do_resize: true, size: { height: 8, width: 8 }, resample: 2, do_center_crop: false, do_rescale: true, rescale_factor: 1 / 255, do_normalize: false, do_convert_rgb: true }),
    ),
    writeFile(
      path.join(dir, 'tokenizer.json'),
      json({
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [special('[PAD]', 0), special('[UNK]', 1)],
        normalizer: { type: 'Lowercase' },
        pre_tokenizer: { type: 'Whitespace' },
        post_processor: null,
        decoder: null,
        model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
      }),
    ),
    writeFile(path.join(dir, 'tokenizer_config.json'), json({ tokenizer_class: 'PreTrainedTokenizer', model_max_length: 77, pad_token: '[PAD]', unk_token: '[UNK]' })),
    writeFile(path.join(dir, 'onnx', 'text_model.onnx'), textGraph()),
    writeFile(path.join(dir, 'onnx', 'vision_model.onnx'), visionGraph()),
  ]);
  return { dim: DIM };
}
