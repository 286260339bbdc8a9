// The HTTP request path alone: queries/s and server CPU per request for one or more server
// builds (source trees, or one tree under different settings), loaded in turn within the same
// minutes so a noisy shared machine affects each alike. Each server runs in its own process on
// random vectors (no model); the load generator (undici, closed loop) runs here.
//   npx tsx benchmarks/http-lean.ts [--variant name=dir[:K=V,K=V]]... [--reps 3] [--seconds 5] [--c 8]
//     [--n 5000] [--dim 100] [--include text,metadata] [--ef 16] [--profile DIR] [--together]
// With no --variant: this tree as it is. A copy of an earlier commit to compare with:
//   mkdir /tmp/q-base && git archive <commit> | tar -x -C /tmp/q-base && ln -s "$PWD/node_modules" "$PWD/models" /tmp/q-base/
// CPU per request is the server process's user+system time (/proc/<pid>/stat) over the run,
// divided by the requests answered: steadier than queries/s when the load generator and other
// people's work compete for the same two cores.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HttpLoad } from './lib/http.js';
import { ROOT, median, rng, sleep } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    reps: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    c: { type: 'string', default: '8' },
    n: { type: 'string', default: '5000' },
    dim: { type: 'string', default: '100' },
    include: { type: 'string', default: '' },
    k: { type: 'string', default: '10' },
    ef: { type: 'string' },
    profile: { type: 'string' },
    together: { type: 'boolean', default: false },
  },
});

interface Variant {
  name: string;
  dir: string;
  env: Record<string, string>;
}

function parseVariant(spec: string): Variant {
  const m = /^([^=]+)=([^:]+)(?::(.*))?$/.exec(spec);
  if (!m) throw new Error(`--variant ${spec}: expected name=dir[:K=V,K=V]`);
  const env: Record<string, string> = {};
  for (const kv of (m[3] ?? '').split(',').filter((s) => s !== '')) {
    const [key, ...rest] = kv.split('=');
    env[key!] = rest.join('=');
  }
  return { name: m[1]!, dir: path.resolve(m[2]!), env };
}

/** Servers started, stopped if this process is interrupted. */
const running = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const p of running) p.kill('SIGKILL');
    process.exit(130);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const CLK_TCK = 100;
/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

interface Server {
  variant: Variant;
  url: string;
  pid: number;
  proc: ChildProcess;
  dataDir: string;
}

async function start(variant: Variant): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-lean-'));
  // The port is chosen here: the server's "listening" line is not printed below QUIVER_LOG_LEVEL=info.
  const port = await freePort();
  // --profile DIR: a V8 CPU profile of each server (read it with benchmarks/lib/cpuprofile.ts).
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile, variant.name)}`];
  const proc = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts'], {
    cwd: variant.dir,
    env: { ...process.env, QUIVER_PORT: String(port), QUIVER_DATA_DIR: dataDir, QUIVER_EMBEDDER: 'none', ...variant.env },
    // What the server logs is read and dropped (a real pipe, as in production).
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  proc.stdout.resume();
  let exited = false;
  proc.once('exit', () => (exited = true));
  running.add(proc);
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited) throw new Error(`${variant.name}: server exited before ready`);
    const r = await fetch(`${url}/readyz`).catch(() => undefined);
    if (r) await r.arrayBuffer();
    if (r?.status === 200) break;
    await sleep(20);
  }
  return { variant, url, pid: proc.pid!, proc, dataDir };
}

async function main(): Promise<void> {
  const variants = args.variant.length > 0 ? args.variant.map(parseVariant) : [{ name: 'this tree', dir: ROOT, env: {} }];
  const dim = Number(args.dim);
  const n = Number(args.n);
  const k = Number(args.k);
  const include = args.include === '' ? [] : args.include.split(',');
  const rand = rng(7);
  const vec = () => Array.from({ length: dim }, () => Math.round((rand() * 2 - 1) * 1e6) / 1e6);
  const docs = Array.from({ length: n }, (_, i) => ({ id: `d${i}`, vector: vec(), text: `document ${i}`, metadata: { n: i, kind: i % 2 ? 'odd' : 'even' } }));
  const bodies = Array.from({ length: 500 }, () => JSON.stringify({ vector: vec(), k, include, ...(args.ef === undefined ? {} : { ef: Number(args.ef) }) }));

  const servers: Server[] = [];
  try {
    for (const v of variants) {
      const s = await start(v);
      servers.push(s);
      const http = new HttpLoad(s.url, 1);
      const created = await http.request('POST', '/v1/collections', { name: 'lean', embedder: { provider: 'none' }, dimension: dim });
      if (created.status !== 201) throw new Error(`${v.name}: create answered ${created.status}`);
      for (let i = 0; i < n; i += 500) {
        const r = await http.request('PUT', '/v1/collections/lean/documents', { documents: docs.slice(i, i + 500) });
        if (r.status !== 200) throw new Error(`${v.name}: upsert answered ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
      }
      await http.close();
    }
    const concurrency = Number(args.c);
    const results = new Map<string, { qps: number[]; cpuUs: number[] }>(variants.map((v) => [v.name, { qps: [], cpuUs: [] }]));
    const measure = async (s: Server): Promise<void> => {
      const http = new HttpLoad(s.url, concurrency);
      await http.run('/v1/collections/lean/query', bodies, concurrency, 1); // warm up (JIT, connections)
      const cpu0 = cpuSeconds(s.pid);
      const r = await http.run('/v1/collections/lean/query', bodies, concurrency, Number(args.seconds));
      const cpu = cpuSeconds(s.pid) - cpu0;
      await http.close();
      const row = results.get(s.variant.name)!;
      row.qps.push(r.count / r.seconds);
      row.cpuUs.push((cpu / r.count) * 1e6);
      process.stderr.write(`${s.variant.name}: ${(r.count / r.seconds).toFixed(0)} q/s, ${((cpu / r.count) * 1e6).toFixed(0)} µs CPU/request, p50 ${median(r.latenciesMs).toFixed(2)} ms\n`);
    };
    for (let rep = 0; rep < Number(args.reps); rep++) {
      process.stderr.write(`rep ${rep + 1}\n`);
      // --together: every server under load at once, so each sees the same contention at the same
      // moments (on a shared machine the fairest comparison; the servers compete with each other).
      if (args.together) await Promise.all(servers.map(measure));
      // Else one after the other, alternating the order each repetition.
      else for (const s of rep % 2 === 0 ? servers : [...servers].reverse()) await measure(s);
    }
    process.stdout.write(`HTTP query, ${n} × ${dim}-d, k=${k}, include=[${include.join(',')}], ef=${args.ef ?? 'default'}, c=${concurrency}, ${args.seconds} s × ${args.reps} (median):\n`);
    const first = results.get(variants[0]!.name)!;
    for (const v of variants) {
      const r = results.get(v.name)!;
      const ratio = median(r.qps) / median(first.qps);
      process.stdout.write(
        `${median(r.qps).toFixed(0).padStart(7)} q/s  ${median(r.cpuUs).toFixed(0).padStart(5)} µs CPU/request  ${ratio.toFixed(2)}×  ${v.name}  (q/s ${r.qps.map((x) => x.toFixed(0)).join(' ')}; µs ${r.cpuUs.map((x) => x.toFixed(0)).join(' ')})\n`,
      );
    }
  } finally {
    for (const s of servers) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) {
        const exited = new Promise((r) => s.proc.once('exit', r));
        s.proc.kill('SIGTERM');
        await exited;
      }
      running.delete(s.proc);
      fs.rmSync(s.dataDir, { recursive: true, force: true });
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
