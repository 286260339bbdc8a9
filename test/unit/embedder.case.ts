// One suite for every Embedder implementation: each must keep the same contract, whatever model
// or provider is behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageData } from '../../src/domain/types.js';
import type { Embedder } from '../../src/embedding/index.js';

export interface EmbedderCase {
  make: () => Promise<Embedder>;
  /** Two texts the model must place closer to each other than to `unrelated`. */
  similar: [string, string];
  unrelated: string;
  /**
   * Text the model cannot embed, when it has such a thing: only words outside a word model's
   * vocabulary; for a subword model, which spells any word in pieces, only characters outside its
   * vocabulary (or none with a letter or digit). Leave it out when every text gets a vector.
   */
  unknown?: string;
  /** Multimodal models: an image, the caption it must be closer to than to `other`'s, and another image. */
  images?: { image: ImageData; caption: string; other: ImageData };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
}

export function runEmbedderSuite(name: string, c: EmbedderCase): void {
  describe(`Embedder contract: ${name}`, () => {
    let e: Embedder;
    beforeAll(async () => {
      e = await c.make();
    });
    afterAll(async () => {
      await e.close();
    });

    it('has an id, a dimension and a batch size', () => {
      expect(e.id).toMatch(/\S/);
      expect(e.dimensions).toBeGreaterThan(0);
      expect(e.maxBatch).toBeGreaterThan(0);
    });

    it('returns one finite vector of the stated dimension per text, in order', async () => {
      const texts = [c.similar[0], c.unrelated, c.similar[1]];
      const out = await e.embed(texts);
      expect(out).toHaveLength(3);
      for (const v of out) {
        expect(v).toBeInstanceOf(Float32Array);
        expect(v!.length).toBe(e.dimensions);
        expect(v!.every(Number.isFinite)).toBe(true);
      }
      // Order kept: embedding one text alone gives the same vector as in the batch.
      const [alone] = await e.embed([c.unrelated]);
      expect(cosine(alone!, out[1]!)).toBeCloseTo(1, 5);
      expect(cosine(out[0]!, out[2]!)).toBeGreaterThan(cosine(out[0]!, out[1]!));
    });

    it('answers an empty batch with an empty list, and blank text with null, never NaN', async () => {
      expect(await e.embed([])).toEqual([]);
      const out = await e.embed(['', '   ', c.similar[0]]);
      expect(out[0]).toBeNull();
      expect(out[1]).toBeNull();
      expect(out[2]).toBeInstanceOf(Float32Array);
    });

    it.runIf(c.unknown !== undefined)('answers text of only unknown words with null', async () => {
      expect(await e.embed([c.unknown!])).toEqual([null]);
    });

    it('keeps every vector in its own text\'s place when texts between them get null', async () => {
      // A model that drops the rows it cannot embed would shift the later vectors onto the wrong texts.
      const texts = ['', c.similar[0], '  ', ...(c.unknown === undefined ? [] : [c.unknown]), c.unrelated, '\n', c.similar[1]];
      const out = await e.embed(texts);
      expect(out).toHaveLength(texts.length);
      for (const [i, t] of texts.entries()) {
        if (t.trim() === '' || t === c.unknown) {
          expect(out[i], `text ${i}`).toBeNull();
        } else {
          const [alone] = await e.embed([t]);
          expect(cosine(out[i]!, alone!), `text ${i}`).toBeCloseTo(1, 5);
        }
      }
    });

    it.runIf(c.images === undefined)('says it embeds text only', () => {
      expect(e.modalities ?? ['text']).toEqual(['text']);
    });

    it.runIf(c.images !== undefined)('embeds images into the space of its texts, one vector per image, in order', async () => {
      const { image, caption, other } = c.images!;
      expect(e.modalities).toContain('image');
      const out = await e.embedImages!([image, other, image]);
      expect(out).toHaveLength(3);
      for (const v of out) {
        expect(v).toBeInstanceOf(Float32Array);
        expect((v as Float32Array).length).toBe(e.dimensions);
      }
      const [a, b, again] = out as Float32Array[];
      expect(cosine(a!, again!)).toBeCloseTo(1, 5);
      const [text] = await e.embed([caption]);
      expect(cosine(a!, text!)).toBeGreaterThan(cosine(b!, text!));
    });

    it('handles a batch larger than maxBatch when split by the caller', async () => {
      const texts = Array.from({ length: e.maxBatch + 3 }, (_, i) => `${c.similar[i % 2]} ${i}`);
      const out: (Float32Array | null)[] = [];
      for (let i = 0; i < texts.length; i += e.maxBatch) out.push(...(await e.embed(texts.slice(i, i + e.maxBatch))));
      expect(out).toHaveLength(texts.length);
      expect(out.every((v) => v instanceof Float32Array)).toBe(true);
    });
  });
}
