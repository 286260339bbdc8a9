// A Quiver server for tests, in one of two forms with the same face:
// - in-process (the default): createQuiver (src/server.ts) on a loopback port inside the test
//   process, its log lines captured; fast, and what every test that only speaks HTTP uses;
// - a child process (`process: true`): `node --import tsx src/main.ts`, exactly as `npm start`
//   runs it, for what needs a real process: kill -9, signals, exit codes, start-up refusals.
// Waits are on conditions with generous ceilings (PATIENCE_MS), never on fixed sleeps: CI is a
// shared 2-core machine and a start can take many seconds while both cores are busy.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { createQuiver, listen } from '../../src/server.js';
import type { Quiver } from '../../src/server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The longest a test waits for a server to listen, be ready or stop, however busy the machine. */
export const PATIENCE_MS = 180_000;

export function tempDir(prefix = 'quiver-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface ServerOptions {
  dataDir?: string;
  env?: Record<string, string>;
  /** Wait for /readyz (default) or only for the port. */
  waitReady?: boolean;
  /** Run as a child process (kill -9, signals, exit codes, start-up output); default in-process. */
  process?: boolean;
}

/**
 * Response bodies in tests are read field by field with expect(); typing every response shape
 * here would restate the API without checking it, so they stay untyped.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(250, delay * 2);
  }
}

export abstract class TestServer {
  constructor(
    readonly url: string,
    readonly dataDir: string,
  ) {}

  /** Everything the server logged so far (JSON lines). */
  abstract output(): string;

  /**
   * Waits until the log holds `text`. A child process's lines reach the pipe on their own
   * schedule: one logged before /readyz answered may still be on its way when a test reads it
   * (seen on Node 24 under load).
   */
  async waitForOutput(text: string | RegExp): Promise<void> {
    const found = () => (typeof text === 'string' ? this.output().includes(text) : text.test(this.output()));
    await waitFor(`the server to log ${String(text)}`, () => (found() ? true : undefined));
  }
  /**
   * Stops the server: SIGTERM/SIGINT shut down cleanly (0), SIGKILL ends a process at once.
   * Returns the exit code or signal.
   */
  abstract stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** The child process (process servers only). */
  abstract get proc(): ChildProcess;

  static start(opts: ServerOptions = {}): Promise<TestServer> {
    return opts.process ? ProcessServer.launch(opts) : InProcessServer.launch(opts);
  }

  async waitReady(timeoutMs = PATIENCE_MS): Promise<void> {
    await waitFor(
      `${this.url}/readyz`,
      async () => {
        try {
          return (await fetch(`${this.url}/readyz`)).status === 200 ? true : undefined;
        } catch {
          return undefined; // not up yet
        }
      },
      timeoutMs,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; server output:\n${this.output()}`);
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

/** The server as `npm start` runs it, in a child process. */
class ProcessServer extends TestServer {
  private constructor(
    readonly child: ChildProcess,
    url: string,
    dataDir: string,
    readonly output: () => string,
  ) {
    super(url, dataDir);
  }

  get proc(): ChildProcess {
    return this.child;
  }

  static async launch(opts: ServerOptions): Promise<TestServer> {
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
      const timer = setTimeout(() => reject(new Error(`server did not listen within ${PATIENCE_MS} ms:\n${out}`)), PATIENCE_MS);
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
    const server = new ProcessServer(proc, `http://127.0.0.1:${port}`, dataDir, () => out);
    if (opts.waitReady !== false) {
      await server.waitReady();
      // pino writes asynchronously, so /readyz can answer before the start-up lines reach this pipe
      // (seen on Node 24 under load: only "listening" there). main.ts logs "ready" after all of
      // them, in order on one stream, so once it is here a test may read the start-up output.
      const level = opts.env?.QUIVER_LOG_LEVEL ?? 'info';
      if (['trace', 'debug', 'info'].includes(level)) await waitFor('the "ready" log line', () => (/"msg":"ready"/.test(out) ? true : undefined));
    }
    return server;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    const proc = this.child;
    if (proc.exitCode !== null) return proc.exitCode;
    if (proc.signalCode !== null) return proc.signalCode;
    return new Promise((resolve) => {
      proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1));
      proc.kill(signal);
    });
  }
}

/** The same server built by createQuiver inside this process, on a loopback port. */
class InProcessServer extends TestServer {
  private stopped: Promise<number> | undefined;

  private constructor(
    private readonly quiver: Quiver,
    private readonly http: Server,
    url: string,
    dataDir: string,
    private readonly lines: string[],
  ) {
    super(url, dataDir);
  }

  get proc(): ChildProcess {
    throw new Error('an in-process test server has no child process: start it with {process: true}');
  }

  output(): string {
    return this.lines.join('');
  }

  static async launch(opts: ServerOptions): Promise<TestServer> {
    const dataDir = opts.dataDir ?? tempDir();
    const env: Record<string, string | undefined> = { ...process.env, QUIVER_PORT: '0', QUIVER_HOST: '127.0.0.1', QUIVER_DATA_DIR: dataDir, QUIVER_LOG_LEVEL: 'info', ...opts.env };
    const config = loadConfig(env);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger(config.logLevel, sink);
    const quiver = createQuiver(config, log);
    const { server: http, port } = await listen(quiver);
    // The test's fetch client closes idle connections after 4 s; a server that closed them first
    // (Node's default 5 s) could do so just as the client reuses one when timers run late on a
    // busy machine, and the request would fail with ECONNRESET. Here the client always closes first.
    http.keepAliveTimeout = PATIENCE_MS;
    const server = new InProcessServer(quiver, http, `http://127.0.0.1:${port}`, dataDir, lines);
    const starting = quiver.lifecycle.start().then(
      () => log.info('ready'),
      (err: unknown) => log.error({ err }, 'failed to start'),
    );
    if (opts.waitReady !== false) {
      await starting;
      await server.waitReady();
    }
    return server;
  }

  /** A clean stop whatever the signal: an in-process server cannot be killed; use {process: true} for that. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (signal === 'SIGKILL') throw new Error('kill -9 needs a real process: start the server with {process: true}');
    this.stopped ??= (async () => {
      this.quiver.lifecycle.drain();
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
      await this.quiver.lifecycle.close();
      return 0;
    })();
    return this.stopped;
  }
}
