// A small closed-loop HTTP load generator on undici: `concurrency` requests in flight, each
// client sending its next request as soon as the previous answer is read.
import { Pool } from 'undici';

export interface LoadResult {
  count: number;
  seconds: number;
  latenciesMs: number[];
  bodies: unknown[];
}

export class HttpLoad {
  private readonly pool: Pool;

  constructor(readonly origin: string, connections = 8) {
    this.pool = new Pool(origin, { connections, pipelining: 1 });
  }

  async post(path: string, body: string): Promise<unknown> {
    const r = await this.pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await r.body.json());
    if (r.statusCode >= 300) throw new HttpError(r.statusCode, json);
    return json;
  }

  async request(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const r = await this.pool.request({
      path,
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.body.text();
    return { status: r.statusCode, json: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /**
   * Sends bodies[i] round-robin, `concurrency` at a time, until every body was sent once and
   * at least minSeconds passed. Keeps the answers of the first round (for recall).
   */
  async run(path: string, bodies: string[], concurrency: number, minSeconds: number): Promise<LoadResult> {
    let next = 0;
    const latenciesMs: number[] = [];
    const answers: unknown[] = new Array<unknown>(bodies.length);
    const started = performance.now();
    const deadline = started + minSeconds * 1000;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= bodies.length && performance.now() >= deadline) return;
        const t0 = performance.now();
        const json = await this.post(path, bodies[i % bodies.length]!);
        latenciesMs.push(performance.now() - t0);
        if (i < bodies.length) answers[i] = json;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { count: latenciesMs.length, seconds: (performance.now() - started) / 1000, latenciesMs, bodies: answers };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
}
