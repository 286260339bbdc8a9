// Offline experiments on the built-in static model's sentence vectors (issue 14, "better vectors
// with the weights we have"): rebuilds the model's table from the GloVe source in process and
// scores vector-only title → body retrieval (MRR@10, tuning / held back) on the judged sets of
// benchmarks/lib/quality-sets.ts with exact cosine over whole documents (the server chunks long
// documents, so absolute figures differ a little from benchmarks/quality.ts; the comparisons hold).
//   npx tsx benchmarks/vectors-offline.ts [--sets fiori,docs,antd-zh] [--sizes 50000,100000]
// Variants, per vocabulary size: the shipped recipe; per-collection SIF weights a / (a + p_c(w))
// (p_c from the collection's own token counts) on the query side only, or on both sides (which
// would tie every document's vector to the collection's statistics at the time it was embedded);
// the collection's common component removed; and a sub-word fall-back for words the vocabulary
// lacks (fastText-like: the mean unit row of the known words sharing each character 3–5-gram).
// Results and what was adopted: BENCHMARKS.md, "Offline vector experiments".
import { parseArgs } from 'node:util';
import { DEFAULT_RECIPE, buildTable, harmonicNumber, loadWinkVectors, topUncentredComponent, zipfProbability } from '../scripts/build-default-model.js';
import { bertNormalize } from '../scripts/static-model.js';
import { loadSets } from './lib/quality-sets.js';

const { values: args } = parseArgs({ options: { sets: { type: 'string' }, sizes: { type: 'string' } } });

const CJK = /\p{Script=Han}/u;

/** The BERT pre-tokenizer, near enough: normalised, split at anything that is not a letter or digit, Han characters one by one. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const m of bertNormalize(text).matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    if (CJK.test(w)) for (const part of w.split(/(\p{Script=Han})/u)) { if (part) out.push(part); }
    else out.push(w);
  }
  return out;
}

const source = await loadWinkVectors();
const n = source.words.length;
const h = harmonicNumber(n);
const rankOf = new Map<string, number>();
source.words.forEach((w, r) => {
  if (!rankOf.has(w)) rankOf.set(w, r);
});
const NGRAM = [3, 4, 5];
function grams(w: string): string[] {
  const s = `<${w}>`;
  const out: string[] = [];
  for (const g of NGRAM) for (let i = 0; i + g <= s.length; i++) out.push(s.slice(i, i + g));
  return out;
}

/** The model's table at a vocabulary size, with what the variants need: general SIF weights, n-gram rows, the median row length. */
function model(vocabSize: number) {
  const table = buildTable(source, { ...DEFAULT_RECIPE, vocabSize });
  const dim = table.dim;
  const index = new Map(table.vocab.map((w, i) => [w, i]));
  const row = (i: number) => table.vectors.subarray(i * dim, (i + 1) * dim);
  const generalWeight = new Float64Array(table.vocab.length);
  table.vocab.forEach((w, i) => {
    const p = zipfProbability(rankOf.get(w)! + 1, n, h);
    generalWeight[i] = DEFAULT_RECIPE.sifA / (DEFAULT_RECIPE.sifA + p);
  });
  const gramSum = new Map<string, { v: Float64Array; count: number }>();
  const norms: number[] = [];
  table.vocab.forEach((w, i) => {
    const r = row(i);
    let norm = 0;
    for (const x of r) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    norms.push(norm);
    if (!/^[a-z0-9]+$/.test(w)) return;
    for (const g of new Set(grams(w))) {
      let e = gramSum.get(g);
      if (!e) gramSum.set(g, (e = { v: new Float64Array(dim), count: 0 }));
      for (let j = 0; j < dim; j++) e.v[j]! += r[j]! / norm;
      e.count++;
    }
  });
  norms.sort((a, b) => a - b);
  return { vocabSize, dim, index, row, generalWeight, gramSum, typicalNorm: norms[Math.floor(norms.length / 2)]! };
}
type Model = ReturnType<typeof model>;

/** OOV word → the mean of its n-grams' mean unit rows, scaled to `scale` times a typical row's length. */
function subword(m: Model, w: string, scale: number, minCount: number): Float64Array | null {
  const v = new Float64Array(m.dim);
  let used = 0;
  for (const g of grams(w)) {
    const e = m.gramSum.get(g);
    if (!e || e.count < minCount) continue;
    for (let j = 0; j < m.dim; j++) v[j]! += e.v[j]! / e.count;
    used++;
  }
  if (used === 0) return null;
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  for (let j = 0; j < m.dim; j++) v[j] = (v[j]! / norm) * scale * m.typicalNorm;
  return v;
}

interface Variant {
  name: string;
  vocabSize: number;
  /** Per-token weight multiplier on the document side and on the query side. */
  docWeight?: Weight;
  queryWeight?: Weight;
  /** Sub-word fall-back for OOV words: row length relative to the median row, minimum words per n-gram. */
  subword?: { scale: number; minCount: number };
  removeCollectionPc?: 'both' | 'query';
}
type Weight = (m: Model, i: number, stats: Stats) => number;

interface Stats {
  /** Token counts in the collection (vocabulary index → count) and the total. */
  tf: Map<number, number>;
  total: number;
  df: Map<number, number>;
  docs: number;
}

/** The collection's own SIF weight a / (a + p_c(w)) in place of the general one, to a power (1: replace, 0.5: halfway in log). */
const collectionSif =
  (a: number, power = 1): Weight =>
  (m, i, s) =>
    (a / (a + (s.tf.get(i) ?? 0) / s.total) / m.generalWeight[i]!) ** power;

const SIZES = (args.sizes ?? '50000,100000,200000,400000').split(',').map(Number);
const VARIANTS: Variant[] = SIZES.flatMap((v) => {
  const k = `${Math.round(v / 1000)}k`;
  return [
    { name: `${k} words`, vocabSize: v },
    { name: `${k} query: collection SIF 1e-3`, vocabSize: v, queryWeight: collectionSif(1e-3) },
    { name: `${k} query: collection SIF 1e-3 ^0.5`, vocabSize: v, queryWeight: collectionSif(1e-3, 0.5) },
    { name: `${k} query: collection SIF 1e-2`, vocabSize: v, queryWeight: collectionSif(1e-2) },
    { name: `${k} both: collection SIF 1e-3 ^0.5`, vocabSize: v, queryWeight: collectionSif(1e-3, 0.5), docWeight: collectionSif(1e-3, 0.5) },
    { name: `${k} collection PC removed, both`, vocabSize: v, removeCollectionPc: 'both' as const },
    { name: `${k} subword ×1 min3`, vocabSize: v, subword: { scale: 1, minCount: 3 } },
    { name: `${k} subword ×2 min3`, vocabSize: v, subword: { scale: 2, minCount: 3 } },
  ];
});

function embed(m: Model, tokens: string[], weight: ((i: number) => number) | undefined, sub: Variant['subword']): Float64Array {
  const v = new Float64Array(m.dim);
  for (const t of tokens) {
    const i = m.index.get(t);
    if (i !== undefined) {
      const w = weight ? weight(i) : 1;
      const r = m.row(i);
      for (let j = 0; j < m.dim; j++) v[j]! += w * r[j]!;
    } else if (sub && !CJK.test(t)) {
      const s = subword(m, t, sub.scale, sub.minCount);
      if (s) for (let j = 0; j < m.dim; j++) v[j]! += s[j]!;
    }
  }
  return v;
}

function unit(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  s = Math.sqrt(s);
  if (s > 0) for (let j = 0; j < v.length; j++) v[j] = v[j]! / s;
  return v;
}

function removePc(vs: Float64Array[], u: Float64Array): void {
  for (const v of vs) {
    let d = 0;
    for (let j = 0; j < u.length; j++) d += v[j]! * u[j]!;
    for (let j = 0; j < u.length; j++) v[j]! -= d * u[j]!;
  }
}

const sets = await loadSets((args.sets ?? 'fiori,docs,antd-zh').split(','));
const tokenized = sets.map((set) => ({ set, docTokens: set.documents.map((d) => words(d.text)), queryTokens: set.queries.map((q) => words(q.text)) }));
let current: Model | undefined;
for (const variant of VARIANTS) {
  if (current?.vocabSize !== variant.vocabSize) current = model(variant.vocabSize);
  const m = current;
  for (const { set, docTokens, queryTokens } of tokenized) {
    const stats: Stats = { tf: new Map(), total: 0, df: new Map(), docs: set.documents.length };
    for (const toks of docTokens) {
      const seen = new Set<number>();
      for (const t of toks) {
        const i = m.index.get(t);
        if (i === undefined) continue;
        stats.tf.set(i, (stats.tf.get(i) ?? 0) + 1);
        stats.total++;
        seen.add(i);
      }
      for (const i of seen) stats.df.set(i, (stats.df.get(i) ?? 0) + 1);
    }
    const dw = variant.docWeight ? (i: number) => variant.docWeight!(m, i, stats) : undefined;
    const qw = variant.queryWeight ? (i: number) => variant.queryWeight!(m, i, stats) : undefined;
    const docs = docTokens.map((t) => unit(embed(m, t, dw, variant.subword)));
    const queries = queryTokens.map((t) => unit(embed(m, t, qw, variant.subword)));
    if (variant.removeCollectionPc) {
      const flat = new Float64Array(docs.length * m.dim);
      docs.forEach((d, i) => flat.set(d, i * m.dim));
      const u = topUncentredComponent(flat, docs.length, m.dim);
      if (variant.removeCollectionPc === 'both') removePc(docs, u);
      removePc(queries, u);
      docs.forEach((d) => unit(d));
      queries.forEach((q) => unit(q));
    }
    const docIndex = new Map(set.documents.map((d, i) => [d.id, i]));
    const rr = { tuning: [] as number[], held: [] as number[] };
    set.queries.forEach((q, qi) => {
      const qv = queries[qi]!;
      const target = docIndex.get(q.relevant)!;
      const dot = (d: Float64Array) => {
        let s = 0;
        for (let j = 0; j < m.dim; j++) s += d[j]! * qv[j]!;
        return s;
      };
      const st = dot(docs[target]!);
      let better = 0;
      for (let di = 0; di < docs.length && better < 10; di++) if (di !== target && dot(docs[di]!) > st) better++;
      const zero = qv.every((x) => x === 0);
      (q.heldBack ? rr.held : rr.tuning).push(zero || better >= 10 ? 0 : 1 / (better + 1));
    });
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3);
    const line = `${set.name.padEnd(8)} ${variant.name.padEnd(40)} ${mean(rr.tuning)} / ${mean(rr.held)}`;
    console.log(line);
  }
}
