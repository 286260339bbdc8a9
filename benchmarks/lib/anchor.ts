// Starts a bare JSON endpoint (benchmarks/anchor-server.ts) in its own process, the way
// lib/server.ts starts Quiver: `node --import tsx`, port 0, the port read from its first line.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { BENCH_DIR, ROOT, peakRssOf, rssOf } from './util.js';

export type AnchorKind = 'node' | 'express';

/** Display names of the anchors, as the results and the report use them. */
export const ANCHOR_NAMES: Record<AnchorKind, string> = { node: 'bare node:http', express: 'bare express' };

export interface RunningAnchor {
  kind: AnchorKind;
  url: string;
  pid: number;
  rss: () => number | undefined;
  peakRss: () => number | undefined;
  stop: () => Promise<void>;
}

export async function startAnchor(kind: AnchorKind): Promise<RunningAnchor> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'anchor-server.ts'), '--kind', kind], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let exited = false;
  proc.stderr.on('data', (b: Buffer) => {
    process.stderr.write(b);
    err = (err + b.toString()).slice(-2000);
  });
  const exit = new Promise<void>((resolve) => proc.once('exit', () => ((exited = true), resolve())));
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on('data', (b: Buffer) => {
      if (out.length < 10_000) out += b.toString();
      const m = /"port":(\d+)[^\n]*"msg":"listening/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exit.then(() => reject(new Error(`anchor ${kind} exited before listening: ${err.trim().split('\n').slice(0, 6).join(' | ')}`)));
  });
  const pid = proc.pid!;
  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    pid,
    rss: () => rssOf(pid),
    peakRss: () => peakRssOf(pid),
    stop: async () => {
      if (!exited) proc.kill('SIGTERM');
      await exit;
    },
  };
}
