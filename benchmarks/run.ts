// `npm run bench` (full, ≤ 30 min on 2 cores) and `npm run bench -- --quick` (smoke, ≤ 3 min).
// Runs every worker in its own process (so peak memory is per engine and a crash or time-out
// of one peer does not lose the rest), collects their figures into
// benchmarks/results/<date>-<host>[-quick].json with the machine's description, then writes
// the report: BENCHMARKS.md and the SVG charts (a quick run writes its report beside its JSON
// and leaves BENCHMARKS.md alone unless --md is given).
// Opt-in jobs, not part of the default run: `--only scale` (1M × 384, `--scale-n N` for a
// smaller trial), `--only cluster` (3 nats-server and 4-6 Quiver processes, benchmarks/cluster.ts). The `writers` job runs benchmarks/writers.ts when that file exists.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, ROOT, log, machine } from './lib/util.js';
import { loadDataset } from './lib/datasets.js';
import { writeReport } from './report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    md: { type: 'boolean', default: false },
    only: { type: 'string' },
    'scale-n': { type: 'string' },
    /** A checkout of older code: the quality job measures it beside this tree, in the same run. */
    'quality-base': { type: 'string' },
  },
});

interface Job {
  key: string;
  script: string;
  argv: string[];
  timeoutS: number;
  /** Runs only when --only names it. */
  optIn?: boolean;
}

const quick = args.quick;
const plan: {
  datasets: Record<string, { n?: number; nq?: number }>;
  hnsw: string[];
  /** Data sets whose hnsw job also sweeps concurrency 1–16 at the default ef. */
  sweep: string[];
  peer: string[];
  server: string[];
  ingest: string[];
  writers: string[];
  scale: string[];
  quality: string[];
  studio: string[];
  reduce: string[];
  cluster: string[];
} = quick
  ? {
      datasets: { fiori: {}, glove: { n: 20_000, nq: 200 }, clustered: { n: 10_000, nq: 200 } },
      hnsw: ['--reps', '2', '--min-seconds', '0.1', '--open-reps', '1', '--sweep-reps', '1'],
      sweep: ['clustered'],
      peer: ['--reps', '1', '--min-seconds', '0.1', '--exact-queries', '50'],
      server: ['--filter-n', '5000', '--nq', '100', '--docs', '500', '--min-seconds', '0.2'],
      ingest: ['--quick'],
      writers: [],
      scale: ['--n', args['scale-n'] ?? '20000', '--nq', '100', '--reps', '1', '--min-seconds', '0.3', '--open-reps', '1'],
      quality: ['--sets', 'labelled,fiori'],
      studio: ['--quick'],
      reduce: ['--glove-n', '5000', '--titan-n', '3000', '--nq', '100', '--min-seconds', '0.3'],
      cluster: ['--quick'],
    }
  : {
      datasets: { fiori: {}, clustered: { n: 100_000, nq: 1000 }, glove: { nq: 1000 } },
      hnsw: ['--reps', '3', '--min-seconds', '0.3', '--open-reps', '3'],
      sweep: ['clustered', 'fiori'],
      peer: ['--reps', '3', '--min-seconds', '0.3', '--exact-queries', '100'],
      server: ['--filter-n', '50000', '--nq', '200', '--docs', '4000', '--min-seconds', '0.5'],
      ingest: ['--docs', '1000', '--reps', '7', '--big', '20000', '--big-reps', '3'],
      writers: [],
      scale: ['--n', args['scale-n'] ?? '1000000', '--nq', '300', '--reps', '3', '--min-seconds', '1', '--open-reps', '2'],
      quality: [],
      studio: ['--n', '20000', '--reps', '5'],
      reduce: ['--glove-n', '20000', '--titan-n', '10000', '--nq', '200', '--min-seconds', '1'],
      cluster: [],
    };

/**
 * Whether `--only` names this job: the whole key or whole ":"-separated parts of it (`hnsw`,
 * `glove`, `peer:usearch`), so `cluster` does not also pick `hnsw:clustered`.
 */
function named(key: string, only: string): boolean {
  return `:${key}:`.includes(`:${only}:`);
}

function runJob(job: Job, out: string): Promise<{ ok: boolean; error?: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, job.script), ...job.argv, '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (b: Buffer) => {
      const s = b.toString();
      // lancedb's Rust side logs deprecation warnings per query; keep the console readable.
      const kept = s
        .split('\n')
        .filter((l) => !/lance::.*WARN|WARN\s+lance/.test(l))
        .join('\n');
      if (kept.trim()) process.stderr.write(kept.endsWith('\n') ? kept : `${kept}\n`);
      err = (err + s).slice(-4000);
    });
    const timer = setTimeout(() => {
      log(`${job.key}: over its ${job.timeoutS} s budget, stopping it`);
      proc.kill('SIGKILL');
    }, job.timeoutS * 1000);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      if (code === 0 && fs.existsSync(out)) resolve({ ok: true, seconds });
      else resolve({ ok: false, seconds, error: signal === 'SIGKILL' ? `timed out after ${job.timeoutS} s` : `exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const date = new Date().toISOString().slice(0, 10);
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
  const resultsDir = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const suffix = quick ? '-quick' : '';
  let file = path.join(resultsDir, `${date}-${host}${suffix}.json`);
  const results: Record<string, unknown> = {
    mode: quick ? 'quick' : 'full',
    started_at: new Date(started).toISOString(),
    machine: machine(),
    plan,
    hnsw: {},
    peers: {},
    server: null,
    ingest: null,
    writers: null,
    scale: null,
    quality: null,
    studio: null,
    reduce: null,
    cluster: null,
    // QUIVER_* variables this run was started with (the servers and in-process Quivers inherit them).
    quiver_env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('QUIVER_'))),
    failures: [] as { job: string; error: string }[],
    job_seconds: {},
  };
  // --only re-runs some jobs into the newest results file of this host and mode (the day's, or
  // else the last one: a re-run the next day must not drop the full run's other sections), and
  // says so in the file.
  if (args.only && !fs.existsSync(file)) {
    const same = new RegExp(`^\\d{4}-\\d{2}-\\d{2}-${host.replace(/[.]/g, '\\.')}${suffix}\\.json$`);
    const newest = fs.readdirSync(resultsDir).filter((f) => same.test(f)).sort().pop();
    if (newest) file = path.join(resultsDir, newest);
  }
  if (args.only && fs.existsSync(file)) {
    const previous = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const reruns = [...((previous.reruns as unknown[] | undefined) ?? []), { only: args.only, at: new Date(started).toISOString(), machine: results.machine, quiver_env: results.quiver_env }];
    Object.assign(results, previous, { reruns, plan: { ...(previous.plan as object) } });
    results.failures = (previous.failures as { job: string; error: string }[]).filter((f) => !named(f.job, args.only!));
  }
  const save = () => fs.writeFileSync(file, JSON.stringify(results, null, 2));

  const jobs: Job[] = [];
  for (const [name, opts] of Object.entries(plan.datasets)) {
    const dsArgs = ['--dataset', name, ...(opts.n ? ['--n', String(opts.n)] : []), ...(opts.nq ? ['--nq', String(opts.nq)] : [])];
    const sweep = plan.sweep.includes(name) ? ['--sweep'] : [];
    jobs.push({ key: `hnsw:${name}`, script: 'worker-hnsw.ts', argv: [...dsArgs, ...plan.hnsw, ...sweep], timeoutS: (quick ? 120 : name === 'glove' ? 900 : 540) });
    for (const engine of ['usearch', 'sqlite-vec', 'lancedb']) {
      jobs.push({ key: `peer:${engine}:${name}`, script: 'worker-peer.ts', argv: [...dsArgs, '--engine', engine, ...plan.peer], timeoutS: (quick ? 60 : 300) });
    }
  }
  jobs.push({ key: 'server', script: 'worker-server.ts', argv: plan.server, timeoutS: quick ? 90 : 420 });
  // Retrieval quality of every mode on judged sets (~1 min per checkout): benchmarks/quality.ts.
  const qualityBase = args['quality-base'] ? ['--variant', `before=${path.resolve(args['quality-base'])}`, '--variant', 'current=.'] : [];
  // The full quality run scores every set in six rankings (feedback ones included): 7 min idle, ~20 min at load 18.
  jobs.push({ key: 'quality', script: 'quality.ts', argv: [...plan.quality, ...qualityBase], timeoutS: quick ? 120 : 2400 });
  jobs.push({ key: 'ingest', script: 'ingest.ts', argv: plan.ingest, timeoutS: quick ? 90 : 420 });
  // benchmarks/writers.ts: 50 concurrent writers of 10-document batches (written separately; skipped when absent).
  // A quick run passes --quick to it only if it declares that option (its interface is its own).
  const writersScript = path.join(BENCH_DIR, 'writers.ts');
  const writersQuick = quick && fs.existsSync(writersScript) && /\bquick\s*:/.test(fs.readFileSync(writersScript, 'utf8'));
  // Quiver Studio: time to first map for 20,000 points, through Chromium (benchmarks/studio.ts).
  jobs.push({ key: 'studio', script: 'studio.ts', argv: plan.studio, timeoutS: quick ? 240 : 600 });
  jobs.push({ key: 'writers', script: 'writers.ts', argv: [...plan.writers, ...(writersQuick ? ['--quick'] : [])], timeoutS: quick ? 120 : 420 });
  // 1M × 384: build ≈ 10–30 min on 2 cores (longer when the machine is shared), ground truth
  // ≈ 5 min the first time (cached); opt-in.
  jobs.push({ key: 'scale', script: 'scale.ts', argv: plan.scale, timeoutS: quick ? 180 : 5400, optIn: true });
  // Reduced collections: recall@10, index bytes and QPS at 384 → 192 → 96 → 48 and more (benchmarks/reduce.ts); opt-in.
  jobs.push({ key: 'reduce', script: 'reduce.ts', argv: plan.reduce, timeoutS: quick ? 240 : 900, optIn: true });
  // Cluster mode against standalone, all processes on this machine (benchmarks/cluster.ts, ≈ 2–5 min); opt-in,
  // needs nats-server. Its own watchdog (--budget-s) stops its processes before this time-out would.
  jobs.push({ key: 'cluster', script: 'cluster.ts', argv: plan.cluster, timeoutS: quick ? 300 : 600, optIn: true });
  // A re-run records the plan of what it re-ran; the rest of the plan stays that of the sections kept.
  if (args.only) {
    for (const job of jobs) {
      const kind = job.key.split(':')[0] as keyof typeof plan;
      if (named(job.key, args.only) && kind in plan) (results.plan as Record<string, unknown>)[kind] = plan[kind];
      if (named(job.key, args.only) && kind === 'hnsw') (results.plan as Record<string, unknown>).sweep = plan.sweep;
    }
  }

  // Datasets and ground truth first (cached under benchmarks/.cache), so workers only read them;
  // only those of the jobs that will run (`--only ingest` needs none).
  const runs = (key: string) => (args.only ? named(key, args.only) : !jobs.find((j) => j.key === key)?.optIn);
  for (const [name, opts] of Object.entries(plan.datasets)) {
    if (jobs.some((j) => runs(j.key) && /^(hnsw|peer):/.test(j.key) && j.key.endsWith(`:${name}`))) loadDataset(name as 'glove', opts);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-run-'));
  for (const job of jobs) {
    if (!runs(job.key)) continue;
    log(`== ${job.key}`);
    const out = path.join(tmp, `${job.key.replace(/[^a-z0-9-]/gi, '_')}.json`);
    if (!fs.existsSync(path.join(BENCH_DIR, job.script))) {
      const reason = `skipped: benchmarks/${job.script} is not in this tree`;
      log(`${job.key}: ${reason}`);
      if (job.key === 'writers') results.writers = { measured: false, reason };
      save();
      continue;
    }
    const r = await runJob(job, out);
    (results.job_seconds as Record<string, number>)[job.key] = Math.round(r.seconds);
    if (!r.ok) {
      log(`${job.key} FAILED: ${r.error}`);
      (results.failures as { job: string; error: string }[]).push({ job: job.key, error: r.error ?? 'unknown' });
    } else {
      const data = JSON.parse(fs.readFileSync(out, 'utf8')) as unknown;
      const [kind, a, b] = job.key.split(':');
      if (kind === 'hnsw') (results.hnsw as Record<string, unknown>)[a!] = data;
      else if (kind === 'peer') (results.peers as Record<string, unknown>)[`${a}:${b}`] = data;
      else if (kind === 'ingest') results.ingest = data;
      else if (kind === 'writers') results.writers = data;
      else if (kind === 'scale') results.scale = data;
      else if (kind === 'quality') results.quality = data;
      else if (kind === 'studio') results.studio = data;
      else if (kind === 'reduce') results.reduce = data;
      else if (kind === 'cluster') results.cluster = data;
      else results.server = data;
    }
    save();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  if (!args.only) {
    results.finished_at = new Date().toISOString();
    results.total_seconds = Math.round((Date.now() - started) / 1000);
  }
  save();
  log(`results: ${path.relative(ROOT, file)} (${Math.round((Date.now() - started) / 1000)} s)`);
  const verdicts = await writeReport(file, { markdown: !quick || args.md ? path.join(ROOT, 'BENCHMARKS.md') : file.replace(/\.json$/, '.md') });
  for (const v of verdicts) process.stdout.write(`${v}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
