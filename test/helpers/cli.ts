// Runs the `quiver` command line as a user would (`node bin/quiver.js ...`), without QUIVER_URL
// or QUIVER_API_KEY from the developer's shell unless given.
import { spawn } from 'node:child_process';
import { PATIENCE_MS, ROOT } from './server.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function quiver(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.QUIVER_URL;
  delete base.QUIVER_API_KEY;
  const r = await runNode(['bin/quiver.js', ...args], { env: { ...base, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs node with `args` and waits for it without blocking this process (spawnSync would freeze an
 * in-process server meanwhile: its keep-alive timers then fire late and reset the next request).
 */
export function runNode(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), PATIENCE_MS);
    p.once('error', reject);
    p.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
