import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExactIndex, HnswIndex } from '../../src/index/index.js';
import { randomVectors } from '../fixtures/vectors.js';
import { runVectorIndexSuite } from './vector-index.case.js';

const params = { m: 16, efConstruction: 200 };
runVectorIndexSuite('HnswIndex', (d, m) => HnswIndex.create(d, m, params));
runVectorIndexSuite('ExactIndex', (d, m) => new ExactIndex(d, m));

describe('HnswIndex slots after deletes', () => {
  it('adds into fresh slots until deleted nodes equal live ones, then reuses deleted slots; every live label stays findable', () => {
    const idx = HnswIndex.create(8, 'cosine', params, 1024);
    const vs = randomVectors(6000, 8, 11).map((v) => Float32Array.from(v));
    for (let i = 0; i < 1000; i++) idx.add(i, vs[i]!);
    expect(idx.capacity).toBe(1024);
    // Updates: delete one, add one. Fresh slots first: the graph grows past its capacity.
    let next = 1000;
    for (let i = 0; i < 500; i++) {
      idx.remove(i);
      idx.add(next, vs[next]!);
      next++;
    }
    expect(idx.capacity).toBe(2048);
    // Then deleted slots are reused: capacity stops doubling although labels keep changing.
    for (let i = 500; i < 4000; i++) {
      idx.remove(i);
      idx.add(next, vs[next]!);
      next++;
    }
    expect(idx.size).toBe(1000);
    expect(idx.capacity).toBe(2048);
    for (const label of [4000, 4500, 4999]) expect(idx.search(vs[label]!, 1, { ef: 64 })[0]).toMatchObject({ label });
  });

  it('takes back a label it deleted', () => {
    const idx = HnswIndex.create(4, 'cosine', params);
    idx.add(1, Float32Array.from([1, 0, 0, 0]));
    idx.add(2, Float32Array.from([0, 1, 0, 0]));
    idx.add(3, Float32Array.from([0, 0, 0, 1]));
    idx.remove(1);
    // One deleted node against two live: a fresh slot would be taken, but not under label 1.
    idx.add(1, Float32Array.from([0, 0, 1, 0]));
    expect(idx.size).toBe(3);
    expect(idx.search(Float32Array.from([0, 0, 1, 0]), 1)[0]).toMatchObject({ label: 1 });
  });
});

describe('HnswIndex snapshots', () => {
  it('saves and loads the same live set and answers', async () => {
    const base = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hnsw-')), 'c1');
    const idx = HnswIndex.create(8, 'cosine', params);
    randomVectors(300, 8, 5).forEach((v, i) => idx.add(i + 1, Float32Array.from(v)));
    idx.remove(10);
    const manifest = await idx.save(base, 42);
    expect(manifest).toMatchObject({ seq: 42, live: 299, dimension: 8, metric: 'cosine' });
    const loaded = await HnswIndex.load(base, { dimension: 8, metric: 'cosine', params });
    if (!('index' in loaded)) throw new Error(loaded.reason);
    expect(loaded.seq).toBe(42);
    expect(loaded.index.size).toBe(299);
    expect(loaded.index.has(10)).toBe(false);
    const q = Float32Array.from(randomVectors(1, 8, 6)[0]!);
    expect(loaded.index.search(q, 5)).toEqual(idx.search(q, 5));
  });

  it('refuses a snapshot whose files do not match their manifest, or whose shape differs', async () => {
    const base = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hnsw-')), 'c1');
    expect(await HnswIndex.load(base, { dimension: 8, metric: 'cosine', params })).toEqual({ reason: 'no snapshot' });
    const idx = HnswIndex.create(8, 'cosine', params);
    idx.add(1, Float32Array.from(randomVectors(1, 8, 1)[0]!));
    await idx.save(base, 1);
    expect(await HnswIndex.load(base, { dimension: 9, metric: 'cosine', params })).toMatchObject({ reason: expect.stringContaining('8') });
    fs.appendFileSync(`${base}.labels`, Buffer.alloc(8));
    expect(await HnswIndex.load(base, { dimension: 8, metric: 'cosine', params })).toMatchObject({ reason: expect.stringContaining('checksum') });
  });
});
