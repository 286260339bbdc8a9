// Runs the `quiver` command line as a user would (`node bin/quiver.js ...`), without QUIVER_URL
// or QUIVER_API_KEY from the developer's shell unless given.
import { spawn } from 'node:child_process';
import { PATIENCE_MS, ROOT } from './server.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function quiver(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.QUIVER_URL;
  delete base.QUIVER_API_KEY;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bin/quiver.js', ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), PATIENCE_MS);
    p.once('error', reject);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
