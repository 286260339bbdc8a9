// BM25's k1 and b against retrieval quality: MRR@10 of keyword and hybrid search on the judged sets
// (benchmarks/lib/quality-sets.ts), tuning and held-back queries apart, for each (k1, b) of a grid.
// In process, through search(), with the built-in model; each set is written once and every grid
// point re-ranks it (k1 and b are read at query time from src/storage/search.ts `bm25`).
//
//   npx tsx benchmarks/bm25-grid.ts [--sets fiori,docs,antd-zh] [--k1 0.3,0.45,0.6] [--b 0.75,0.9] [--out file.json]
//
// How the shipped values were chosen: the point with the best summed hybrid MRR@10 over the sets'
// tuning queries; the held-back ones are reported, never used to choose.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { search } from '../src/query/index.js';
import { createQuiver } from '../src/server.js';
import { bm25 } from '../src/storage/search.js';
import { loadSets } from './lib/quality-sets.js';
import { ROOT, log, machine } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    sets: { type: 'string', default: 'fiori,docs,antd-zh' },
    k1: { type: 'string', default: '0.3,0.45,0.6,0.75,0.9,1.2,1.6,2' },
    b: { type: 'string', default: '0.3,0.5,0.6,0.75,0.9,1' },
    out: { type: 'string' },
  },
});
const numbers = (s: string) => s.split(',').map(Number);
const shipped = { ...bm25 };

interface Row {
  set: string;
  k1: number;
  b: number;
  /** MRR@10 over [tuning, held-back] queries. */
  keyword: [number, number];
  hybrid: [number, number];
}

const reciprocalRank = (ids: string[], relevant: string) => {
  const i = ids.slice(0, 10).indexOf(relevant);
  return i < 0 ? 0 : 1 / (i + 1);
};

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bm25-'));
const quiver = createQuiver(loadConfig({ QUIVER_DATA_DIR: dataDir, QUIVER_LOG_LEVEL: 'warn', QUIVER_SYNC: 'normal' }), createLogger('warn'));
await quiver.lifecycle.start();
const rows: Row[] = [];
try {
  for (const set of await loadSets(args.sets.split(','))) {
    const col = await quiver.collections.create({ name: set.name, metric: 'cosine', embedder: { provider: 'local' } });
    for (let i = 0; i < set.documents.length; i += 100) await col.write(set.documents.slice(i, i + 100), { onError: 'reject-batch' });
    for (const k1 of numbers(args.k1)) {
      for (const b of numbers(args.b)) {
        Object.assign(bm25, { k1, b });
        const sum = { keyword: [0, 0], hybrid: [0, 0] };
        const count = [0, 0];
        for (const q of set.queries) {
          const part = q.heldBack ? 1 : 0;
          count[part]! += 1;
          for (const mode of ['keyword', 'hybrid'] as const) {
            const { hits } = await search(col, { text: q.text, k: 10, include: [], mode });
            sum[mode][part]! += reciprocalRank(hits.map((h) => h.documentId), q.relevant);
          }
        }
        const mrr = (s: number[]): [number, number] => [+(s[0]! / count[0]!).toFixed(4), +(s[1]! / count[1]!).toFixed(4)];
        const row: Row = { set: set.name, k1, b, keyword: mrr(sum.keyword), hybrid: mrr(sum.hybrid) };
        rows.push(row);
        log(`${set.name} k1=${k1} b=${b}: keyword ${row.keyword.join(' / ')}, hybrid ${row.hybrid.join(' / ')}`);
      }
    }
  }
} finally {
  Object.assign(bm25, shipped);
  await quiver.lifecycle.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// The summed tuning MRR@10 of hybrid per point, best first: what the shipped values were chosen by.
const points = new Map<string, { k1: number; b: number; hybrid: number; sets: number }>();
for (const r of rows) {
  const key = `${r.k1}/${r.b}`;
  const p = points.get(key) ?? { k1: r.k1, b: r.b, hybrid: 0, sets: 0 };
  p.hybrid += r.hybrid[0];
  p.sets += 1;
  points.set(key, p);
}
const ranked = [...points.values()].sort((x, y) => y.hybrid - x.hybrid);
for (const p of ranked.slice(0, 5)) log(`summed tuning hybrid MRR@10 ${p.hybrid.toFixed(3)} over ${p.sets} sets: k1=${p.k1} b=${p.b}`);
const out = args.out ?? path.join(ROOT, 'benchmarks', 'results', `${new Date().toISOString().slice(0, 10)}-bm25-grid.json`);
fs.writeFileSync(out, JSON.stringify({ machine: machine(), date: new Date().toISOString(), shipped, rows, ranked }, null, 2));
log(`wrote ${out}`);
