// Starts the real server as a child process (node --import tsx src/main.ts), exactly as
// `npm start` runs it, so tests can restart it and kill -9 it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function tempDir(prefix = 'quiver-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface ServerOptions {
  dataDir?: string;
  env?: Record<string, string>;
  /** Wait for /readyz (default) or only for the port. */
  waitReady?: boolean;
}

/**
 * Response bodies in tests are read field by field with expect(); typing every response shape
 * here would restate the API without checking it, so they stay untyped.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export class TestServer {
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly dataDir: string,
    readonly output: () => string,
  ) {}

  static async start(opts: ServerOptions = {}): Promise<TestServer> {
    const dataDir = opts.dataDir ?? tempDir();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, QUIVER_PORT: '0', QUIVER_HOST: '127.0.0.1', QUIVER_DATA_DIR: dataDir, QUIVER_LOG_LEVEL: 'info', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not listen in time:\n${out}`)), 60_000);
      const check = () => {
        const m = /"port":(\d+)[^\n]*"msg":"listening/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      proc.stdout.on('data', check);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before listening:\n${out}`));
      });
    });
    const server = new TestServer(proc, `http://127.0.0.1:${port}`, dataDir, () => out);
    if (opts.waitReady !== false) await server.waitReady();
    return server;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.url}/readyz`);
        if (r.status === 200) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server not ready in time:\n${this.output()}`);
  }

  /** Sends a signal and waits for the process to end; returns its exit code or signal. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    if (this.proc.signalCode !== null) return this.proc.signalCode;
    return new Promise((resolve) => {
      this.proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1));
      this.proc.kill(signal);
    });
  }

  async request(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const r = await fetch(`${this.url}${pathname}`, init);
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // leave as text
    }
    return { status: r.status, body: parsed as Json };
  }
}
