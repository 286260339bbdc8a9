// Reads a V8 .cpuprofile (node --cpu-prof) and says where one thread's time went: self time by
// function and by file, inclusive time of the named functions, and how long the thread ran
// without a pause (consecutive non-idle samples): on the server's main thread such a stretch is
// how long an HTTP request that arrives meanwhile must wait.
//   npx tsx benchmarks/lib/cpuprofile.ts <file.cpuprofile> [--last S] [--skip-end S] [--top N] [--match regex]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  window_s: number;
  busy_share: number;
  self: { name: string; ms: number; share: number }[];
  files: { name: string; ms: number; share: number }[];
  inclusive: { name: string; ms: number; share: number }[];
  /** Lengths of uninterrupted non-idle stretches (ms), as percentiles, and their count. */
  stretches: { count: number; p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number; over_20ms: number; over_50ms: number };
  /** The stretches of 10 ms or more (short ones are mostly single requests): count, median, and the share of the window they fill. */
  long_stretches: { count: number; p50_ms: number; p90_ms: number; max_ms: number; share_of_window: number };
}

const IDLE = new Set(['(idle)']);
const short = (url: string) => url.replace(/.*node_modules\//, 'nm/').replace(/^file:\/\//, '').replace(/.*\/(src|benchmarks)\//, '$1/');
const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
const fileOf = (n: ProfileNode) => {
  const u = n.callFrame.url;
  if (!u) return n.callFrame.functionName;
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(u);
  return pkg ? `nm:${pkg[1]}` : short(u);
};

/**
 * Summarises the samples of [endTime - last - skipEnd, endTime - skipEnd] (seconds; all of it
 * when last is 0). `match` picks the functions whose inclusive time is listed.
 */
export function summarize(file: string, opts: { last?: number; skipEnd?: number; top?: number; match?: RegExp } = {}): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hi = p.endTime - (opts.skipEnd ?? 0) * 1e6;
  const lo = opts.last ? hi - opts.last * 1e6 : p.startTime;
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const incl = new Map<string, number>();
  const stretches: number[] = [];
  let t = p.startTime;
  let total = 0;
  let busy = 0;
  let run = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (t < lo || t > hi) return;
    const dt = p.timeDeltas[i + 1] ?? 0;
    const n = byId.get(id)!;
    total += dt;
    const idle = IDLE.has(n.callFrame.functionName);
    if (idle) {
      if (run > 0) stretches.push(run / 1000);
      run = 0;
    } else {
      busy += dt;
      run += dt;
    }
    self.set(label(n), (self.get(label(n)) ?? 0) + dt);
    files.set(fileOf(n), (files.get(fileOf(n)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const k = label(byId.get(x)!);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  });
  if (run > 0) stretches.push(run / 1000);
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: +(us / total).toFixed(3) }));
  const s = [...stretches].sort((a, b) => a - b);
  const q = (f: number) => +(s[Math.min(s.length - 1, Math.floor(f * s.length))] ?? 0).toFixed(1);
  const long = s.filter((x) => x >= 10);
  const lq = (f: number) => +(long[Math.min(long.length - 1, Math.floor(f * long.length))] ?? 0).toFixed(1);
  const k = opts.top ?? 25;
  return {
    window_s: +(total / 1e6).toFixed(2),
    busy_share: +(busy / Math.max(1, total)).toFixed(3),
    self: top(self, k),
    files: top(files, k),
    inclusive: top(new Map([...incl].filter(([name]) => (opts.match ?? /./).test(name))), k),
    stretches: { count: s.length, p50_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: +(s[s.length - 1] ?? 0).toFixed(1), over_20ms: s.filter((x) => x > 20).length, over_50ms: s.filter((x) => x > 50).length },
    long_stretches: { count: long.length, p50_ms: lq(0.5), p90_ms: lq(0.9), max_ms: +(long[long.length - 1] ?? 0).toFixed(1), share_of_window: +(long.reduce((a, b) => a + b, 0) / Math.max(1e-9, total / 1000)).toFixed(3) },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { last: { type: 'string' }, 'skip-end': { type: 'string' }, top: { type: 'string' }, match: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) throw new Error('usage: tsx benchmarks/lib/cpuprofile.ts <file.cpuprofile> [--last S] [--skip-end S] [--top N] [--match regex]');
  const r = summarize(file, { last: Number(values.last ?? 0), skipEnd: Number(values['skip-end'] ?? 0), top: Number(values.top ?? 25), match: values.match ? new RegExp(values.match) : undefined });
  const rows = (xs: { name: string; ms: number; share: number }[]) => xs.map((x) => `${String(x.ms).padStart(7)} ms ${(x.share * 100).toFixed(1).padStart(5)}%  ${x.name}`).join('\n');
  process.stdout.write(`window ${r.window_s} s, busy ${(r.busy_share * 100).toFixed(0)}%\n`);
  process.stdout.write(`busy stretches: ${JSON.stringify(r.stretches)}\nof 10 ms or more: ${JSON.stringify(r.long_stretches)}\n`);
  process.stdout.write(`--- self time by function\n${rows(r.self)}\n--- self time by file or package\n${rows(r.files)}\n--- inclusive time\n${rows(r.inclusive)}\n`);
}
