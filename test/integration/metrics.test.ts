// Observability through the real server: Prometheus metrics present and moving, request ids on
// every log line of a request and in x-request-id, QUIVER_LOG_LEVEL, /readyz.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, PATIENCE_MS } from '../helpers/server.js';
import { randomVectors } from '../fixtures/vectors.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none' } });
});
afterAll(async () => {
  await s.stop();
});

/** Parses the Prometheus text format into "name{labels}" → value. */
async function scrape(): Promise<Map<string, number>> {
  const r = await fetch(`${s.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toContain('text/plain');
  const out = new Map<string, number>();
  for (const line of (await r.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
const value = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

/** Log lines arrive through a pipe after the response: wait for the one expected (bounded). */
async function waitForLog(server: TestServer, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!pattern.test(server.output())) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern}:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GET /metrics', () => {
  it('has every documented metric name', async () => {
    const m = await scrape();
    const names = new Set([...m.keys()].map((k) => k.replace(/\{.*$/, '')));
    for (const name of [
      'quiver_http_requests_total',
      'quiver_http_request_duration_seconds_bucket',
      'quiver_http_request_duration_seconds_count',
      'quiver_sqlite_bytes',
      'quiver_ready',
      'quiver_process_resident_memory_bytes',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(value(m, 'quiver_ready')).toBe(1);
    expect(value(m, 'quiver_sqlite_bytes{file="db"}')).toBeGreaterThan(0);
  });

  it('counts requests by route pattern and status, and the gauges follow the data', async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'm', embedder: { provider: 'none' }, dimension: 8 })).status).toBe(201);
    const before = await scrape();
    const documents = randomVectors(25, 8, 7).map((vector, i) => ({ id: `d${i}`, vector }));
    expect((await s.request('PUT', '/v1/collections/m/documents', { documents })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await s.request('GET', `/v1/collections/m/documents/d${i}`)).status).toBe(200);
    expect((await s.request('GET', '/v1/collections/m/documents/nope')).status).toBe(404);
    expect((await s.request('GET', '/v1/no/such/route')).status).toBe(404);
    const after = await scrape();

    const doc = 'method="GET",route="/v1/collections/:name/documents/:id"';
    expect(value(after, `quiver_http_requests_total{${doc},status="200"}`) - value(before, `quiver_http_requests_total{${doc},status="200"}`)).toBe(3);
    expect(value(after, `quiver_http_requests_total{${doc},status="404"}`) - value(before, `quiver_http_requests_total{${doc},status="404"}`)).toBe(1);
    expect(value(after, `quiver_http_request_duration_seconds_count{${doc},status="200"}`)).toBeGreaterThanOrEqual(3);
    // Unknown paths share one label: a scanner cannot blow up the series count.
    expect(value(after, 'quiver_http_requests_total{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
    expect([...after.keys()].some((k) => k.includes('/v1/no/such/route'))).toBe(false);

    expect(value(before, 'quiver_collection_documents{collection="m"}')).toBe(0);
    expect(value(after, 'quiver_collection_documents{collection="m"}')).toBe(25);
    expect(value(after, 'quiver_collection_vectors{collection="m"}')).toBe(25);
    expect(value(after, 'quiver_index_memory_bytes{collection="m"}')).toBeGreaterThan(25 * 8 * 4);

    expect((await s.request('DELETE', '/v1/collections/m')).status).toBe(204);
    const gone = await scrape();
    expect(gone.has('quiver_collection_documents{collection="m"}')).toBe(false);
  });
});

describe('embedding metrics', () => {
  it('observe each call to the model: latency and batch size, and nothing for cache hits', async () => {
    expect((await s.request('POST', '/v1/collections', { name: 'texts', embedder: { provider: 'local' } })).status).toBe(201);
    const sum = (m: Map<string, number>, prefix: string) => [...m].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
    const before = await scrape();
    const documents = ['the cat sat on the mat', 'boil the pasta', 'rain in the mountains'].map((text, i) => ({ id: `t${i}`, text }));
    expect((await s.request('PUT', '/v1/collections/texts/documents', { documents })).status).toBe(200);
    const after = await scrape();
    expect(sum(after, 'quiver_embed_batch_size_sum') - sum(before, 'quiver_embed_batch_size_sum')).toBe(3);
    expect(sum(after, 'quiver_embed_duration_seconds_count') - sum(before, 'quiver_embed_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect([...after.keys()].some((k) => k.startsWith('quiver_embed_duration_seconds_bucket{') && k.includes('model="local:'))).toBe(true);
    // The same texts under other ids come from the embedding cache: no model call.
    const again = documents.map((d) => ({ ...d, id: `${d.id}-copy` }));
    expect((await s.request('PUT', '/v1/collections/texts/documents', { documents: again })).status).toBe(200);
    expect(sum(await scrape(), 'quiver_embed_batch_size_sum')).toBe(sum(after, 'quiver_embed_batch_size_sum'));
  });
});

describe('request logging', () => {
  /** The log lines of one request id, parsed. */
  const linesOf = (server: TestServer, reqId: string) =>
    server
      .output()
      .split('\n')
      .filter((l) => l.includes(`"reqId":"${reqId}"`))
      .map((l) => JSON.parse(l) as { reqId: string; msg: string; level: number; status?: number });

  it('puts the request id on every log line of the request and in x-request-id', async () => {
    const r = await fetch(`${s.url}/v1/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc.123' },
      body: JSON.stringify({ name: 'logged', embedder: { provider: 'none' }, dimension: 2 }),
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-request-id')).toBe('trace-abc.123');
    // The engine's own line, logged far from the HTTP layer, carries the id too.
    await waitForLog(s, /"reqId":"trace-abc.123"[^\n]*"msg":"collection created"/);
    expect(linesOf(s, 'trace-abc.123').every((l) => l.reqId === 'trace-abc.123')).toBe(true);

    const fresh = await fetch(`${s.url}/v1/collections`, { headers: { 'x-request-id': 'has spaces and {json}' } });
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs "request completed" at debug by default, so not at the default level info', async () => {
    expect((await fetch(`${s.url}/v1/collections`, { headers: { 'x-request-id': 'quiet-1' } })).status).toBe(200);
    expect((await s.request('POST', '/v1/collections', { name: 'x' }, { 'x-request-id': 'quiet-2' })).status).toBe(400);
    // A later request's own line: lines are written in order, so by then quiet-1's and quiet-2's would be there.
    expect((await s.request('POST', '/v1/collections', { name: 'quiet', embedder: { provider: 'none' }, dimension: 2 }, { 'x-request-id': 'quiet-3' })).status).toBe(201);
    await waitForLog(s, /"reqId":"quiet-3"[^\n]*"msg":"collection created"/);
    expect(linesOf(s, 'quiet-1')).toEqual([]);
    expect(linesOf(s, 'quiet-2')).toEqual([]);
  });

  it('QUIVER_ACCESS_LOG=true logs every request at info with method, url, status, time and key; probes stay at debug', async () => {
    const logged = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_ACCESS_LOG: 'true' } });
    try {
      await fetch(`${logged.url}/v1/collections`, { headers: { 'x-request-id': 'acc-1' } });
      await logged.request('POST', '/v1/collections', { name: 'x' }, { 'x-request-id': 'acc-2' });
      await fetch(`${logged.url}/healthz`, { headers: { 'x-request-id': 'acc-probe' } });
      await waitForLog(logged, /"reqId":"acc-2"[^\n]*"msg":"request completed"/);
      const [ok] = linesOf(logged, 'acc-1');
      expect(ok).toMatchObject({ level: 30, msg: 'request completed', method: 'GET', url: '/v1/collections', status: 200, key: 'anonymous' });
      expect(typeof (ok as { ms?: unknown }).ms).toBe('number');
      expect(linesOf(logged, 'acc-2')).toMatchObject([{ level: 30, msg: 'request completed', status: 400 }]);
      // The probe answered before acc-2 was sent, and its line would have come first.
      expect(linesOf(logged, 'acc-probe')).toEqual([]);
    } finally {
      await logged.stop();
    }
  });

  it('QUIVER_LOG_LEVEL sets the level: debug adds a line as each request arrives and one as it completes, info does not', async () => {
    const debug = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'debug' } });
    try {
      await fetch(`${debug.url}/v1/collections`, { headers: { 'x-request-id': 'lvl-1' } });
      await waitForLog(debug, /"reqId":"lvl-1"[^\n]*"msg":"request completed"/);
      await debug.waitForOutput(/"reqId":"lvl-1"[^\n]*"msg":"request received"/);
      expect(s.output()).not.toMatch(/"msg":"request received"/);
    } finally {
      await debug.stop();
    }
  });
});
