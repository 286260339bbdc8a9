// Measures the default model's quality and speed *through the server*: starts `src/main.ts` on a
// temporary data folder, then over HTTP
//  - paraphrase vs unrelated cosine (scores of text queries against stored anchors),
//  - title → body search on the @sap-ux/fiori-docs-embeddings texts (recall@1, @10, MRR@10) per search mode,
//  - upsert throughput (documents/s, batches of 100) and query latency (p50/p99).
//   npx tsx benchmarks/server-quality.ts [--json out.json] [--mode vector|keyword|hybrid]   (default: all three)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PARAPHRASE_TRIPLES, loadFioriCases } from '../scripts/eval-default-model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-quality-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, QUIVER_PORT: '0', QUIVER_DATA_DIR: dataDir, QUIVER_SYNC: 'full' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /"port":(\d+)[^\n]*"msg":"listening/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const r = await fetch(`${url}/readyz`).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, stop: () => proc.kill('SIGTERM') };
}

async function call<T>(url: string, method: string, body?: unknown): Promise<T> {
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await r.json()) as T;
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'string' }, mode: { type: 'string' } } });
  const server = await startServer();
  const api = (p: string) => `${server.url}/v1${p}`;
  try {
    // Paraphrase vs unrelated: store each anchor, ask with the paraphrase and the unrelated text.
    await call(api('/collections'), 'POST', { name: 'para' });
    let para = 0;
    let unrel = 0;
    for (const [i, [anchor, paraphrase, unrelated]] of PARAPHRASE_TRIPLES.entries()) {
      await call(api('/collections/para/documents'), 'PUT', { documents: [{ id: `a${i}`, text: anchor }] });
      const score = async (text: string) =>
        (await call<{ hits: { id: string; score: number }[] }>(api('/collections/para/query'), 'POST', { text, k: 100, include: [], mode: 'vector' })).hits.find(
          (h) => h.id === `a${i}`,
        )?.score ?? 0;
      para += await score(paraphrase);
      unrel += await score(unrelated);
    }
    para /= PARAPHRASE_TRIPLES.length;
    unrel /= PARAPHRASE_TRIPLES.length;

    // Title → body on real documentation text nobody here wrote.
    const cases = await loadFioriCases();
    await call(api('/collections'), 'POST', { name: 'fiori' });
    const started = performance.now();
    for (let i = 0; i < cases.length; i += 100) {
      await call(api('/collections/fiori/documents'), 'PUT', {
        documents: cases.slice(i, i + 100).map((c, j) => ({ id: `d${i + j}`, text: c.body })),
      });
    }
    const ingestSeconds = (performance.now() - started) / 1000;
    // Each search mode over the same queries: vector alone, keyword (BM25) alone, and their fusion.
    const evalMode = async (mode: string) => {
      let r1 = 0;
      let r10 = 0;
      let mrr = 0;
      let queries = 0;
      const latencies: number[] = [];
      for (const [i, c] of cases.entries()) {
        if (!c.title) continue;
        queries++;
        const t0 = performance.now();
        const res = await call<{ hits: { id: string }[] }>(api('/collections/fiori/query'), 'POST', { text: c.title, k: 10, include: [], mode });
        latencies.push(performance.now() - t0);
        const rank = res.hits.findIndex((h) => h.id === `d${i}`);
        if (rank === 0) r1++;
        if (rank >= 0) {
          r10++;
          mrr += 1 / (rank + 1);
        }
      }
      latencies.sort((a, b) => a - b);
      return { queries, recall_at_1: +(r1 / queries).toFixed(3), recall_at_10: +(r10 / queries).toFixed(3), mrr_at_10: +(mrr / queries).toFixed(3), query_ms: { p50: +percentile(latencies, 50).toFixed(2), p99: +percentile(latencies, 99).toFixed(2) } };
    };
    const modes = values.mode ? [values.mode] : ['vector', 'keyword', 'hybrid'];
    const fiori: Record<string, Awaited<ReturnType<typeof evalMode>>> = {};
    for (const mode of modes) fiori[mode] = await evalMode(mode);
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      paraphrase_cosine: +para.toFixed(3),
      unrelated_cosine: +unrel.toFixed(3),
      fiori: { documents: cases.length, ...fiori },
      ingest_documents_per_second: +(cases.length / ingestSeconds).toFixed(1),
    };
    console.log(JSON.stringify(result, null, 2));
    if (values.json) fs.writeFileSync(values.json, JSON.stringify(result, null, 2));
  } finally {
    server.stop();
  }
}

await main();
