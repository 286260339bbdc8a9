// Superseded by benchmarks/quality.ts (`npm run bench -- --only quality`: more sets, held-back
// queries, the adaptive default); kept for the figures quoted from it before issue 14.
// How hybrid search's fusion compares with keyword and vector search alone on real text: the
// @sap-ux/fiori-docs-embeddings pages (title → its body, MRR@10) with the built-in model. Takes
// both rankings 100 deep once per query (in-process), then scores fusion settings offline, with a
// paired bootstrap 95% interval of each setting's MRR gain over keyword alone.
//   npx tsx benchmarks/fusion.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { fuse, fuseConvex, search } from '../src/query/index.js';
import { createQuiver } from '../src/server.js';
import { seededRandom } from '../src/util/random.mjs';
import { loadFioriCases } from '../scripts/eval-default-model.js';

interface Ranked {
  label: number;
  score: number;
}
interface Case {
  target: number;
  vector: Ranked[];
  keyword: Ranked[];
}

async function collect(): Promise<Case[]> {
  const cases = await loadFioriCases();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-fusion-'));
  const quiver = createQuiver(loadConfig({ QUIVER_DATA_DIR: dataDir, QUIVER_LOG_LEVEL: 'warn', QUIVER_SYNC: 'normal' }), createLogger('warn'));
  await quiver.lifecycle.start();
  try {
    const col = await quiver.collections.create({ name: 'f', metric: 'cosine', embedder: { provider: 'local' } });
    for (let i = 0; i < cases.length; i += 100) await col.write(cases.slice(i, i + 100).map((c, j) => ({ id: String(i + j), text: c.body })), { onError: 'reject-batch' });
    const out: Case[] = [];
    for (const [i, c] of cases.entries()) {
      const title = c.title;
      if (!title) continue;
      // Document ids are the numbers 0..n-1, so they stand in for labels in the fusion functions.
      const list = async (mode: 'vector' | 'keyword') =>
        (await search(col, { text: title, k: 100, include: [], mode })).hits.map((h) => ({ label: Number(h.documentId), score: h.score }));
      out.push({ target: i, vector: await list('vector'), keyword: await list('keyword') });
    }
    return out;
  } finally {
    await quiver.lifecycle.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Reciprocal rank of the target in the top 10, per query. */
function reciprocalRanks(cases: Case[], rank: (c: Case) => Ranked[]): number[] {
  return cases.map((c) => {
    const r = rank(c)
      .slice(0, 10)
      .findIndex((x) => x.label === c.target);
    return r >= 0 ? 1 / (r + 1) : 0;
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function bootstrapGain(a: number[], b: number[]): [number, number] {
  const rand = seededRandom(7);
  const diff = a.map((x, i) => x - b[i]!);
  const means: number[] = [];
  for (let r = 0; r < 2000; r++) {
    let s = 0;
    for (let i = 0; i < diff.length; i++) s += diff[Math.floor(rand() * diff.length)]!;
    means.push(s / diff.length);
  }
  means.sort((x, y) => x - y);
  return [means[50]!, means[1950]!];
}

const cases = await collect();
const keyword = reciprocalRanks(cases, (c) => c.keyword);
const settings: [string, (c: Case) => Ranked[]][] = [
  ['vector alone', (c) => c.vector],
  ['keyword alone', (c) => c.keyword],
  ...[0.1, 0.15, 0.2, 0.3].map((w): [string, (c: Case) => Ranked[]] => [`convex vector ${w} / keyword ${1 - w}${w === 0.2 ? ' (default before issue 14)' : ''}`, (c) => fuseConvex(c.vector, c.keyword, { vector: w, keyword: 1 - w })]),
  ...[
    [60, 1],
    [60, 0.1],
    [5, 0.1],
  ].map(([k, w]): [string, (c: Case) => Ranked[]] => [`rrf k ${k}, vector weight ${w}`, (c) => fuse(c.vector, c.keyword, k!, { vector: w!, keyword: 1 })]),
];
process.stdout.write(`fiori title → body, ${cases.length} queries, MRR@10; gain over keyword with a paired bootstrap 95% interval\n`);
for (const [name, rank] of settings) {
  const rr = reciprocalRanks(cases, rank);
  const [lo, hi] = bootstrapGain(rr, keyword);
  process.stdout.write(`${mean(rr).toFixed(3)}  ${name.padEnd(34)} gain ${(mean(rr) - mean(keyword)).toFixed(4)} [${lo.toFixed(4)}, ${hi.toFixed(4)}]\n`);
}
