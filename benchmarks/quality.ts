// Retrieval quality of every search mode on judged sets (benchmarks/lib/quality-sets.ts), with the
// built-in model, in process through `search()` (the code path of POST /query below HTTP).
// `npm run bench -- --only quality`, or directly:
//   npx tsx benchmarks/quality.ts [--variant name=<checkout>]... [--out file.json] [--experiments] [--independent]
// --independent scores the independent check instead (package READMEs, and clusters of the Brown
// corpus): sets the issue keeps aside, never used to choose a setting.
// Each variant (a checkout: `.` is this tree, another path an older commit with its own src/) runs
// in its own process and records, per query, the vector and keyword rankings 100 deep and the
// default mode's top 10. Then, per set and variant: MRR@10, recall@10 and nDCG@10 (one relevant
// document per query, so nDCG@10 = 1/log2(1 + rank)) for the tuning part and the held-back part
// separately, each with a paired bootstrap 95 % interval of its difference to keyword alone (and
// to the first variant's same mode); and fusion settings scored offline from the first variant's
// two rankings, so new settings can be tried without re-running the model.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '../src/util/random.mjs';
import { INDEPENDENT_SETS, clusterCorpora, loadSets } from './lib/quality-sets.js';
import type { QualityCell } from './lib/util.js';
import { ROOT, log, machine } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true },
    out: { type: 'string' },
    worker: { type: 'string' },
    root: { type: 'string' },
    sets: { type: 'string' },
    /** Keep each variant's rankings in this folder / reuse them from there (to try fusion settings without the model). */
    'keep-runs': { type: 'string' },
    /** Also record a grid of `feedback` settings (keyword hits × weight) in vector and hybrid mode. */
    experiments: { type: 'boolean' },
    'from-runs': { type: 'string' },
    /** The independent check instead (package READMEs; clusters of the Brown corpus): never tuned on. */
    independent: { type: 'boolean' },
  },
});

/** The judged sets this run scores: --sets, or the independent ones, or the default (tuned) ones. */
const setNames = args.independent ? INDEPENDENT_SETS : args.sets?.split(',');

interface Ranked {
  id: string;
  score: number;
}
interface QueryRun {
  vector: Ranked[];
  keyword: Ranked[];
  hybrid: Ranked[];
  /** The query option `feedback: {}` (defaults): vector ranking 100 deep, hybrid top 10. */
  vectorFeedback?: Ranked[];
  hybridFeedback?: Ranked[];
  /** Experimental rankings (--experiments): name → top 100. */
  extra?: Record<string, Ranked[]>;
}
/** Per labelled corpus: how each way of choosing k clustered it. */
type ClusterOut = Record<string, { documents: number; topics: number; rows: { how: string; k: number; purity: number; nmi: number }[] }>;
type WorkerOut = Record<string, QueryRun[]> & { clusters?: ClusterOut };

// ---- worker: one checkout, every set ----

interface SearchFn {
  (c: unknown, q: { text: string; k: number; include: never[]; mode?: string; feedback?: { keywordHits?: number; weight?: number } }): Promise<{ hits: { documentId: string; score: number }[] }>;
}

async function worker(root: string, out: string): Promise<void> {
  const imp = (p: string) => import(pathToFileURL(path.join(root, p)).href) as Promise<Record<string, unknown>>;
  const { loadConfig } = (await imp('src/config/index.ts')) as { loadConfig: (env: Record<string, string>) => unknown };
  const { createLogger } = (await imp('src/log.ts')) as { createLogger: (l: string) => unknown };
  const { search } = (await imp('src/query/index.ts')) as { search: SearchFn };
  const { createQuiver } = (await imp('src/server.ts')) as {
    createQuiver: (cfg: unknown, log: unknown) => {
      lifecycle: { start: () => Promise<void>; close: () => Promise<void> };
      collections: { create: (o: object) => Promise<{ write: (docs: { id: string; text: string }[], o: object) => Promise<unknown> }> };
    };
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-quality-'));
  const quiver = createQuiver(loadConfig({ QUIVER_DATA_DIR: dataDir, QUIVER_LOG_LEVEL: 'warn', QUIVER_SYNC: 'normal' }), createLogger('warn'));
  await quiver.lifecycle.start();
  const result: WorkerOut = {};
  try {
    for (const set of await loadSets(setNames)) {
      const col = await quiver.collections.create({ name: set.name, metric: 'cosine', embedder: { provider: 'local' } });
      for (let i = 0; i < set.documents.length; i += 100) await col.write(set.documents.slice(i, i + 100), { onError: 'reject-batch' });
      const runs: QueryRun[] = [];
      type Feedback = { keywordHits?: number; weight?: number };
      const list = async (text: string, k: number, mode?: string, feedback?: Feedback) =>
        (await search(col, { text, k, include: [], ...(mode ? { mode } : {}), ...(feedback ? { feedback } : {}) })).hits.map((h) => ({ id: h.documentId, score: h.score }));
      for (const q of set.queries) {
        const run: QueryRun = {
          vector: await list(q.text, 100, 'vector'),
          keyword: await list(q.text, 100, 'keyword'),
          hybrid: await list(q.text, 10),
          vectorFeedback: await list(q.text, 100, 'vector', {}),
          hybridFeedback: await list(q.text, 10, undefined, {}),
        };
        if (args.experiments) {
          run.extra = {};
          // Pseudo-relevance feedback settings (query/feedback.ts): how many keyword hits, how far.
          // The default (m1 w1) is recorded above; hybrid with other settings is the fusion+feedback rows' business.
          for (const [m, w] of [[1, 0.5], [1, 2], [2, 1], [3, 1], [5, 2]] as const) run.extra[`vector feedback m${m} w${w}`] = await list(q.text, 100, 'vector', { keywordHits: m, weight: w });
        }
        runs.push(run);
      }
      result[set.name] = runs;
    }
    if (!args.sets) result.clusters = await clusterQuality(imp, quiver.collections, args.independent ?? false);
  } finally {
    await quiver.lifecycle.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  fs.writeFileSync(out, JSON.stringify(result));
}

/** Purity (each cluster counted as its commonest topic) and normalised mutual information (arithmetic mean). */
function purityNmi(clusters: number[], topics: string[]): { purity: number; nmi: number } {
  const n = clusters.length;
  const joint = new Map<string, number>();
  const cs = new Map<number, number>();
  const ts = new Map<string, number>();
  clusters.forEach((c, i) => {
    joint.set(`${c}\u0000${topics[i]}`, (joint.get(`${c}\u0000${topics[i]}`) ?? 0) + 1);
    cs.set(c, (cs.get(c) ?? 0) + 1);
    ts.set(topics[i]!, (ts.get(topics[i]!) ?? 0) + 1);
  });
  const best = new Map<number, number>();
  let mi = 0;
  for (const [key, m] of joint) {
    const [c, t] = key.split('\u0000') as [string, string];
    best.set(+c, Math.max(best.get(+c) ?? 0, m));
    mi += (m / n) * Math.log((m * n) / (cs.get(+c)! * ts.get(t)!));
  }
  const h = (counts: Iterable<number>) => -[...counts].reduce((a, m) => a + (m / n) * Math.log(m / n), 0);
  const denom = (h(cs.values()) + h(ts.values())) / 2;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { purity: round([...best.values()].reduce((a, b) => a + b, 0) / n), nmi: round(denom > 0 ? mi / denom : 0) };
}

/** k-means on each labelled corpus's document vectors: k fixed at the number of topics, and "auto" by each criterion kmeans.mjs offers. */
async function clusterQuality(
  imp: (p: string) => Promise<Record<string, unknown>>,
  collections: { create: (o: object) => Promise<{ write: (docs: { id: string; text: string }[], o: object) => Promise<unknown> }> },
  independent: boolean,
): Promise<ClusterOut> {
  const km = (await imp('src/query/kmeans.mjs')) as { kmeansBest: (d: number[][], k: number | 'auto', seed: number, criterion?: string) => { k: number; labels: number[] }; CRITERIA?: string[] };
  const { sampleDocuments } = (await imp('src/query/cluster.ts')) as { sampleDocuments: (c: unknown, f: undefined, limit: number, seed: number, maxText: number) => { docs: { id: string; vector: Float32Array }[] } };
  const out: ClusterOut = {};
  for (const corpus of clusterCorpora(independent)) {
    const col = await collections.create({ name: `clusters-${corpus.name}`, metric: 'cosine', embedder: { provider: 'local' } });
    for (let i = 0; i < corpus.documents.length; i += 100) await col.write(corpus.documents.slice(i, i + 100).map(({ id, text }) => ({ id, text })), { onError: 'reject-batch' });
    const { docs } = sampleDocuments(col, undefined, 5000, 1, 0);
    const topicOf = new Map(corpus.documents.map((d) => [d.id, d.label]));
    const topics = docs.map((d) => topicOf.get(d.id)!);
    const data = docs.map((d) => Array.from(unit(d.vector)));
    const count = new Set(topics).size;
    const rows: ClusterOut[string]['rows'] = [];
    for (const [how, k, criterion] of [[`k = ${count} (the topics)`, count, undefined], ...(km.CRITERIA ?? ['silhouette']).map((c) => [`auto by ${c}`, 'auto', c] as const)] as const) {
      const r = km.kmeansBest(data, k, 1, criterion);
      rows.push({ how, k: r.k, ...purityNmi(r.labels, topics) });
    }
    out[corpus.name] = { documents: docs.length, topics: count, rows };
  }
  return out;
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}

function runWorker(root: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'benchmarks', 'quality.ts'), '--worker', out, '--root', root, ...(args.sets ? ['--sets', args.sets] : []), ...(args.experiments ? ['--experiments'] : []), ...(args.independent ? ['--independent'] : [])], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`quality worker for ${root} exited ${code}`))));
  });
}

// ---- metrics ----

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function perQuery(list: Ranked[], relevant: string): { rr: number; recall: number; ndcg: number } {
  const r = list.slice(0, 10).findIndex((x) => x.id === relevant);
  return r < 0 ? { rr: 0, recall: 0, ndcg: 0 } : { rr: 1 / (r + 1), recall: 1, ndcg: 1 / Math.log2(r + 2) };
}

/** Paired bootstrap 95 % interval of mean(a − b), 2,000 resamples, seeded. */
function bootstrap(a: number[], b: number[]): [number, number] {
  if (a.length === 0) return [NaN, NaN];
  const rand = seededRandom(7);
  const d = a.map((x, i) => x - b[i]!);
  const means: number[] = [];
  for (let r = 0; r < 2000; r++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[Math.floor(rand() * d.length)]!;
    means.push(s / d.length);
  }
  means.sort((x, y) => x - y);
  return [means[50]!, means[1949]!];
}

/** Fusion settings scored offline from the two rankings (the formulas of src/query/fusion.ts and candidates). */
export type Fuser = (v: Ranked[], k: Ranked[], query: string) => Ranked[];

function normalised(list: Ranked[]): Map<string, number> {
  const m = new Map<string, number>();
  if (list.length === 0) return m;
  const max = list[0]!.score;
  const min = list[list.length - 1]!.score;
  list.forEach((x) => m.set(x.id, max > min ? (x.score - min) / (max - min) : 1));
  return m;
}

function convex(wv: number): Fuser {
  return (v, k) => {
    const nv = normalised(v);
    const nk = normalised(k);
    const ids = new Set([...nv.keys(), ...nk.keys()]);
    return [...ids].map((id) => ({ id, score: wv * (nv.get(id) ?? 0) + (1 - wv) * (nk.get(id) ?? 0) })).sort((a, b) => b.score - a.score);
  };
}

function rrf(kc: number, wv: number): Fuser {
  return (v, k) => {
    const s = new Map<string, number>();
    v.forEach((x, i) => s.set(x.id, (s.get(x.id) ?? 0) + wv / (kc + i + 1)));
    k.forEach((x, i) => s.set(x.id, (s.get(x.id) ?? 0) + 1 / (kc + i + 1)));
    return [...s].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
  };
}

/** Absolute scores: keyword's (a share of the query's term weight, in [0, 1)) and the cosine; a chunk absent from the vector list gets its last score. */
function absolute(a: number): Fuser {
  return (v, k) => {
    const sv = new Map(v.map((x) => [x.id, x.score]));
    const sk = new Map(k.map((x) => [x.id, x.score]));
    const vmin = v.at(-1)?.score ?? 0;
    const ids = new Set([...sv.keys(), ...sk.keys()]);
    return [...ids].map((id) => ({ id, score: a * (sk.get(id) ?? 0) + (1 - a) * (sv.get(id) ?? vmin) })).sort((x, y) => y.score - x.score);
  };
}

/** As absolute(), with the keyword weight rising with the best keyword score (how much of the query the keyword side covers at all). */
function absoluteAdaptive(a0: number, slope: number, max = 0.9): Fuser {
  return (v, k, q) => absolute(Math.min(max, a0 + slope * (k[0]?.score ?? 0)))(v, k, q);
}

/** As absoluteAdaptive, with the cosine taken above the vector list's median (how far a hit stands out of the background), scaled to the list's best. */
function aboveMedian(a0: number, slope: number): Fuser {
  return (v, k) => {
    const a = k.length ? Math.min(0.9, a0 + slope * k[0]!.score) : 0;
    const med = v[Math.floor(v.length / 2)]?.score ?? 0;
    const top = v[0]?.score ?? 1;
    const sv = new Map(v.map((x) => [x.id, Math.max(0, (x.score - med) / (top - med || 1))]));
    const sk = new Map(k.map((x) => [x.id, x.score / (k[0]?.score || 1)]));
    const ids = new Set([...sv.keys(), ...sk.keys()]);
    return [...ids].map((id) => ({ id, score: a * (sk.get(id) ?? 0) + (1 - a) * (sv.get(id) ?? 0) })).sort((x, y) => y.score - x.score);
  };
}

function zscores(list: Ranked[]): { z: Map<string, number>; floor: number } {
  const xs = list.map((x) => x.score);
  const m = mean(xs);
  const sd = Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) || 1;
  return { z: new Map(list.map((x) => [x.id, (x.score - m) / sd])), floor: xs.length ? (xs.at(-1)! - m) / sd : 0 };
}

/** Each list's scores as z-scores within the list (how far a hit stands out of its own ranking), summed with a vector weight. */
function zsum(wv: number): Fuser {
  return (v, k) => {
    const a = zscores(v);
    const b = zscores(k);
    const ids = new Set([...a.z.keys(), ...b.z.keys()]);
    return [...ids].map((id) => ({ id, score: wv * (a.z.get(id) ?? a.floor) + (b.z.get(id) ?? b.floor) })).sort((x, y) => y.score - x.score);
  };
}

/** Query-adaptive: the keyword weight is the best keyword score (its coverage of the query) to a power; the rest goes to the min-max cosine. */
function adaptive(gamma: number, cap: number): Fuser {
  return (v, k) => {
    const c = Math.min(1, (k[0]?.score ?? 0) * cap) ** gamma;
    const nv = normalised(v);
    const sk = new Map(k.map((x) => [x.id, x.score / (k[0]?.score || 1)]));
    const ids = new Set([...nv.keys(), ...sk.keys()]);
    return [...ids].map((id) => ({ id, score: c * (sk.get(id) ?? 0) + (1 - c) * (nv.get(id) ?? 0) })).sort((x, y) => y.score - x.score);
  };
}

/**
 * As absoluteAdaptive, with the keyword weight lowered when the vector ranking is sure of itself:
 * its best cosine stands `margin` above its tenth (a gap the keyword side may not see).
 */
function vectorConfident(a0: number, slope: number, gapScale: number): Fuser {
  return (v, k, q) => {
    const gap = v.length > 9 ? v[0]!.score - v[9]!.score : 0;
    const a = k.length ? Math.max(0.3, Math.min(0.9, a0 + slope * k[0]!.score - gapScale * gap)) : 0;
    return absolute(a)(v, k, q);
  };
}

/** As absoluteAdaptive, keyword's own confidence added: its best score's lead over its second. */
function keywordLead(a0: number, slope: number, leadScale: number): Fuser {
  return (v, k, q) => {
    const lead = k.length > 1 ? k[0]!.score - k[1]!.score : 0;
    return absolute(k.length ? Math.min(0.95, a0 + slope * k[0]!.score + leadScale * lead) : 0)(v, k, q);
  };
}

export const FUSERS: Record<string, Fuser> = {
  'vec-confident 0.6+1-1': vectorConfident(0.6, 1, 1),
  'vec-confident 0.6+1-2': vectorConfident(0.6, 1, 2),
  'vec-confident 0.7+1-2': vectorConfident(0.7, 1, 2),
  'kw-lead 0.6+1+1': keywordLead(0.6, 1, 1),
  'kw-lead 0.6+1+2': keywordLead(0.6, 1, 2),
  'abs-adaptive 0.6+1 max0.95': absoluteAdaptive(0.6, 1, 0.95),
  'abs-adaptive 0.7+1': absoluteAdaptive(0.7, 1),
  'abs-adaptive 0.65+0.5': absoluteAdaptive(0.65, 0.5),
  'abs 0.5': absolute(0.5),
  'abs 0.7': absolute(0.7),
  'abs 0.8': absolute(0.8),
  'abs-adaptive 0.5+1': absoluteAdaptive(0.5, 1),
  'abs-adaptive 0.6+1 (new default: adaptive)': absoluteAdaptive(0.6, 1),
  'above-median 0.6+1': aboveMedian(0.6, 1),
  'z v0.2': zsum(0.2),
  'z v0.5': zsum(0.5),
  'keyword-coverage weight g0.5 c2': adaptive(0.5, 2),
  'convex 0.1': convex(0.1),
  'convex 0.2 (old default)': convex(0.2),
  'convex 0.5': convex(0.5),
  'rrf k60 v1': rrf(60, 1),
  'rrf k10 v0.3': rrf(10, 0.3),
};

type Cell = QualityCell;

function cell(rr: number[], rec: number[], nd: number[], kwRr: number[], baseRr?: number[]): Cell {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const iv = (x: [number, number]): [number, number] => [round(x[0]), round(x[1])];
  return {
    n: rr.length,
    mrr: round(mean(rr)),
    recall: round(mean(rec)),
    ndcg: round(mean(nd)),
    vsKeyword: iv(bootstrap(rr, kwRr)),
    ...(baseRr ? { vsBase: iv(bootstrap(rr, baseRr)) } : {}),
  };
}

async function main(): Promise<void> {
  const variants = (args.variant ?? ['current=.']).map((v) => {
    const [name, dir] = v.split('=');
    return { name: name!, root: path.resolve(dir ?? '.') };
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-quality-run-'));
  const data: Record<string, WorkerOut> = {};
  for (const v of variants) {
    log(`quality: ${v.name} (${v.root})`);
    const out = path.join(tmp, `${v.name}.json`);
    const saved = args['from-runs'] ? path.join(args['from-runs'], `${v.name}.json`) : undefined;
    if (saved && fs.existsSync(saved)) fs.copyFileSync(saved, out);
    else await runWorker(v.root, out);
    if (args['keep-runs']) {
      fs.mkdirSync(args['keep-runs'], { recursive: true });
      fs.copyFileSync(out, path.join(args['keep-runs'], `${v.name}.json`));
    }
    data[v.name] = JSON.parse(fs.readFileSync(out, 'utf8')) as WorkerOut;
  }
  const sets = await loadSets(setNames);
  const table: Record<string, Record<string, Record<string, Record<'tuning' | 'heldBack', Cell>>>> = {};
  const lines: string[] = [];
  const base = variants[0]!.name;
  for (const set of sets) {
    table[set.name] = {};
    for (const [vi, v] of variants.entries()) {
      const runs = data[v.name]![set.name]!;
      const rows: Record<string, (r: QueryRun, q: string) => Ranked[]> = {
        vector: (r) => r.vector,
        keyword: (r) => r.keyword,
        hybrid: (r) => r.hybrid,
        'vector + feedback': (r) => r.vectorFeedback ?? r.vector,
        'hybrid + feedback': (r) => r.hybridFeedback ?? r.hybrid,
      };
      for (const name of Object.keys(runs.find((r) => r.extra && Object.keys(r.extra).length > 0)?.extra ?? {})) rows[`x: ${name}`] = (r) => r.extra?.[name] ?? (name.startsWith('hybrid') ? r.keyword : []);
      // Offline fusion settings on the last variant's rankings (the code under change).
      if (vi === variants.length - 1)
        for (const [name, f] of Object.entries(FUSERS)) {
          rows[`fusion: ${name}`] = (r, q) => f(r.vector, r.keyword, q);
          rows[`fusion+feedback: ${name}`] = (r, q) => f(r.vectorFeedback ?? r.vector, r.keyword, q);
        }
      table[set.name]![v.name] = {};
      for (const [mode, pick] of Object.entries(rows)) {
        const out = {} as Record<'tuning' | 'heldBack', Cell>;
        for (const part of ['tuning', 'heldBack'] as const) {
          const idx = set.queries.flatMap((q, i) => ((part === 'heldBack') === q.heldBack ? [i] : []));
          const m = idx.map((i) => perQuery(pick(runs[i]!, set.queries[i]!.text), set.queries[i]!.relevant));
          const kw = idx.map((i) => perQuery(runs[i]!.keyword, set.queries[i]!.relevant).rr);
          const baseRuns = data[base]![set.name]!;
          const baseRr = vi > 0 && mode in { vector: 1, keyword: 1, hybrid: 1 } ? idx.map((i) => perQuery((rows[mode] as (r: QueryRun) => Ranked[])(baseRuns[i]!), set.queries[i]!.relevant).rr) : undefined;
          out[part] = cell(
            m.map((x) => x.rr),
            m.map((x) => x.recall),
            m.map((x) => x.ndcg),
            kw,
            baseRr,
          );
        }
        table[set.name]![v.name]![mode] = out;
        const f = (c: Cell) => `${c.mrr.toFixed(3)} r${c.recall.toFixed(3)} n${c.ndcg.toFixed(3)} Δkw[${c.vsKeyword[0].toFixed(3)},${c.vsKeyword[1].toFixed(3)}]${c.vsBase ? ` Δbase[${c.vsBase[0].toFixed(3)},${c.vsBase[1].toFixed(3)}]` : ''}`;
        lines.push(`${set.name.padEnd(9)} ${v.name.padEnd(8)} ${mode.padEnd(34)} tune(${out.tuning.n}) ${f(out.tuning)} | held(${out.heldBack.n}) ${f(out.heldBack)}`);
      }
    }
  }
  const clusters = Object.fromEntries(variants.flatMap((v) => (data[v.name]!.clusters ? [[v.name, data[v.name]!.clusters!]] : [])));
  for (const [v, corpora] of Object.entries(clusters))
    for (const [corpus, c] of Object.entries(corpora))
      for (const r of c.rows) lines.push(`clusters  ${v.padEnd(8)} ${corpus.padEnd(14)} (${c.documents} docs, ${c.topics} topics) ${r.how.padEnd(28)} k=${r.k} purity ${r.purity.toFixed(3)} NMI ${r.nmi.toFixed(3)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    variants,
    sets: sets.map((s) => ({ name: s.name, judged: s.judged, documents: s.documents.length, queries: s.queries.length, heldBack: s.queries.filter((q) => q.heldBack).length })),
    metrics: 'MRR@10, recall@10, nDCG@10; intervals: paired bootstrap 95 % of the MRR@10 difference',
    table,
    clusters,
  };
  fs.rmSync(tmp, { recursive: true, force: true });
  const out = args.out ?? path.join(ROOT, 'benchmarks', 'results', `${new Date().toISOString().slice(0, 10)}-quality${args.independent ? '-independent' : ''}.json`);
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  log(`quality: ${path.relative(ROOT, out)}`);
}

if (args.worker) await worker(path.resolve(args.root ?? '.'), args.worker);
else await main();
