// Small shared helpers of the benchmark: seeded random numbers, exact top-k, recall, timing
// statistics, interpolation, sizes on disk and the description of the machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../src/util/random.mjs';

/** The project's seeded PRNG (mulberry32). */
export const rng = seededRandom;

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DIR = path.join(ROOT, 'benchmarks');
export const CACHE_DIR = path.join(BENCH_DIR, '.cache');

/** Standard normal samples from a uniform source (Box-Muller). */
export function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export function normalizeRows(data: Float32Array, dim: number): void {
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += data[o + i]! * data[o + i]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < dim; i++) data[o + i]! *= inv;
  }
}

/**
 * Exact top-k by inner product (the vectors are unit length, so this is cosine), for each query.
 * Returns ids as an Int32Array of queries × k. Used for ground truth and the sqlite-vec check.
 */
export function exactTopK(base: Float32Array, queries: Float32Array, dim: number, k: number, allowed?: (id: number) => boolean): Int32Array {
  const n = base.length / dim;
  const nq = queries.length / dim;
  const out = new Int32Array(nq * k).fill(-1);
  const bestS = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let q = 0; q < nq; q++) {
    const qo = q * dim;
    bestS.fill(-Infinity);
    bestI.fill(-1);
    let worst = -Infinity;
    for (let j = 0; j < n; j++) {
      if (allowed && !allowed(j)) continue;
      const bo = j * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) s += base[bo + i]! * queries[qo + i]!;
      if (s <= worst) continue;
      // insert into the sorted (descending) list
      let p = k - 1;
      while (p > 0 && bestS[p - 1]! < s) {
        bestS[p] = bestS[p - 1]!;
        bestI[p] = bestI[p - 1]!;
        p--;
      }
      bestS[p] = s;
      bestI[p] = j;
      worst = bestS[k - 1]!;
    }
    out.set(bestI, q * k);
  }
  return out;
}

/** recall@k of one query: the share of the true k nearest found among the answered ids. */
export function recallOf(truth: Int32Array, q: number, k: number, found: ArrayLike<number>): number {
  const want = new Set<number>();
  for (let i = 0; i < k; i++) {
    const t = truth[q * k + i]!;
    if (t >= 0) want.add(t);
  }
  if (want.size === 0) return 1;
  let hit = 0;
  for (let i = 0; i < Math.min(found.length, k); i++) if (want.has(Number(found[i]))) hit++;
  return hit / want.size;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** One engine at one concurrency of the HTTP sweep, as worker-hnsw.ts writes it and report.ts reads it. */
export interface SweepRow {
  engine: string;
  c: number;
  qps: number;
  qps_runs: number[];
  p50_ms: number;
  p99_ms: number;
}

/** One mode of one set in the quality run, on the tuning or the held-back queries: quality.ts writes it, report.ts reads it. */
export interface QualityCell {
  n: number;
  mrr: number;
  recall: number;
  ndcg: number;
  /** Interval of MRR@10 minus keyword's on the same queries. */
  vsKeyword: [number, number];
  /** Interval of MRR@10 minus the first variant's same mode (absent for the first variant). */
  vsBase?: [number, number];
}

export interface CurvePoint {
  ef: number;
  recall: number;
  qps: number;
}

/**
 * QPS at a target recall, interpolated linearly in recall between the two points of the curve
 * that bracket it (the Pareto points, sorted by recall). Undefined when no point reaches it.
 */
export function qpsAtRecall(curve: CurvePoint[], target: number): number | undefined {
  const pts = [...curve].sort((a, b) => a.recall - b.recall || b.qps - a.qps);
  // Pareto frontier: for increasing recall, keep the best qps seen from the right.
  const frontier: CurvePoint[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    if (frontier.length === 0 || p.qps > frontier[frontier.length - 1]!.qps) frontier.push(p);
  }
  frontier.reverse();
  if (frontier.length === 0 || frontier[frontier.length - 1]!.recall < target) return undefined;
  for (let i = 0; i < frontier.length; i++) {
    const p = frontier[i]!;
    if (p.recall >= target) {
      if (i === 0) return p.qps;
      const a = frontier[i - 1]!;
      const t = (target - a.recall) / (p.recall - a.recall);
      return a.qps + t * (p.qps - a.qps);
    }
  }
  return undefined;
}

export function dirBytes(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of fs.readdirSync(p)) total += dirBytes(path.join(p, e));
  return total;
}

/** Peak resident set of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Peak resident set of another process (Linux), in bytes, or undefined. */
export function peakRssOf(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Current resident set of another process (Linux), in bytes, or undefined. */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The QUIVER_* variables of this process's environment (e.g. QUIVER_INDEX_WORKERS=0), so an
 * in-process Quiver is configured like the server a worker spawns (which inherits them).
 */
export function quiverEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('QUIVER_') && e[1] !== undefined));
}

export function packageVersion(name: string): string | undefined {
  try {
    const pj = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pj.version;
  } catch {
    return undefined;
  }
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gb: +(os.totalmem() / 1024 ** 3).toFixed(1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    load_average_at_start: os.loadavg().map((x) => +x.toFixed(2)),
    packages: Object.fromEntries(
      ['hnswlib-node', 'better-sqlite3', 'usearch', 'sqlite-vec', '@lancedb/lancedb', 'apache-arrow', 'undici', 'vega', 'vega-lite', '@huggingface/transformers', 'tsx'].map((n) => [
        n,
        packageVersion(n) ?? 'not installed',
      ]),
    ),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
