// Filtered vector search: recall@10 against exact search and latency, per selectivity, for the
// planner's choice and for HNSW-with-filter forced at every selectivity (threshold 0), through
// the server over HTTP.
//   npx tsx benchmarks/filtered-recall.ts [--n 20000] [--dim 16] [--queries 50]
import { parseArgs } from 'node:util';
import { TestServer } from '../test/helpers/server.js';
import { randomVectors } from '../test/fixtures/vectors.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' }, dim: { type: 'string', default: '16' }, queries: { type: 'string', default: '50' } } });
const N = Number(values.n);
const DIM = Number(values.dim);
const vectors = randomVectors(N, DIM, 11);
const queries = randomVectors(Number(values.queries), DIM, 12);
const SELECTIVITY: [string, number][] = [
  ['0.1%', 1],
  ['1%', 10],
  ['10%', 100],
  ['50%', 500],
  ['100%', 1000],
];

function exactTop(q: number[], below: number, k: number): string[] {
  const qn = Math.hypot(...q);
  const scored: [number, number][] = [];
  vectors.forEach((v, i) => {
    if (i % 1000 >= below) return;
    let dot = 0;
    for (let j = 0; j < DIM; j++) dot += v[j]! * q[j]!;
    scored.push([i, dot / (qn * Math.hypot(...v))]);
  });
  return scored
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([i]) => `d${i}`);
}

for (const threshold of ['5000', '0']) {
  const s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'normal', QUIVER_EXACT_SEARCH_THRESHOLD: threshold, QUIVER_LOG_LEVEL: 'info' } });
  try {
    await s.request('POST', '/v1/collections', { name: 'big', embedder: { provider: 'none' }, dimension: DIM });
    for (let i = 0; i < N; i += 1000) {
      const documents = vectors.slice(i, i + 1000).map((vector, j) => ({ id: `d${i + j}`, vector, metadata: { bucket: (i + j) % 1000 } }));
      await s.request('PUT', '/v1/collections/big/documents', { documents });
    }
    for (const [label, below] of SELECTIVITY) {
      let found = 0;
      const took: number[] = [];
      let plan = '';
      for (const q of queries) {
        const filter = below === 1000 ? undefined : { bucket: { $lt: below } };
        const r = await s.request('POST', '/v1/collections/big/query', { vector: q, k: 10, include: [], filter });
        const body = r.body as { plan: { vector: string }; took_ms: number; hits: { id: string }[] };
        plan = body.plan.vector;
        took.push(body.took_ms);
        const got = new Set(body.hits.map((h) => h.id));
        found += exactTop(q, below, 10).filter((id) => got.has(id)).length;
      }
      took.sort((a, b) => a - b);
      console.log(
        JSON.stringify({ threshold: Number(threshold), selectivity: label, plan, recall_at_10: +(found / (10 * queries.length)).toFixed(3), took_ms_p50: took[Math.floor(took.length / 2)] }),
      );
    }
  } finally {
    await s.stop();
  }
}
