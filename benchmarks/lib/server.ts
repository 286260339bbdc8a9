// Starts the real Quiver server (`node --import tsx src/main.ts`) on a data folder and measures
// open time as the wall time from spawn to the first 200 from /readyz.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { ROOT, peakRssOf, rssOf, sleep } from './util.js';

export interface RunningServer {
  url: string;
  pid: number;
  /** Spawn → /readyz 200, in milliseconds. */
  openMs: number;
  peakRss: () => number | undefined;
  /** Current resident set (VmRSS). */
  rss: () => number | undefined;
  stop: () => Promise<void>;
}

/**
 * nodeArgs go before the script, e.g. ['--cpu-prof', '--cpu-prof-dir=…'] (not allowed in NODE_OPTIONS).
 * root: the checkout whose src/main.ts runs (another worktree, to measure an older commit).
 */
export async function startServer(dataDir: string, env: Record<string, string> = {}, nodeArgs: string[] = [], root = ROOT): Promise<RunningServer> {
  const started = performance.now();
  const proc: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      QUIVER_PORT: '0',
      QUIVER_DATA_DIR: dataDir,
      QUIVER_EMBEDDER: 'none',
      QUIVER_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exited = false;
  proc.stderr!.on('data', (b: Buffer) => {
    process.stderr.write(b);
    err = (err + b.toString()).slice(-2000);
  });
  const exit = new Promise<void>((resolve) => proc.once('exit', () => ((exited = true), resolve())));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (b: Buffer) => {
      if (out.length < 1_000_000) out += b.toString();
      const m = /"port":(\d+)[^\n]*"msg":"listening/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exit.then(() => reject(new Error(`server exited before listening: ${err.trim().split('\n').slice(0, 6).join(' | ')}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited) throw new Error(`server exited before ready: ${err.trim().split('\n').slice(0, 6).join(' | ')}`);
    const r = await fetch(`${url}/readyz`).catch(() => undefined);
    if (r) await r.arrayBuffer();
    if (r?.status === 200) break;
    await sleep(20);
  }
  const openMs = performance.now() - started;
  const pid = proc.pid!;
  return {
    url,
    pid,
    openMs,
    peakRss: () => peakRssOf(pid),
    rss: () => rssOf(pid),
    stop: async () => {
      if (!exited) proc.kill('SIGTERM');
      await exit;
    },
  };
}
