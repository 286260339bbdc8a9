// Hardening through the real server: security headers (helmet), CORS off by default and on for
// configured origins only, the request timeout, and the warning for a public address without keys.
import http from 'node:http';
import net from 'node:net';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_CORS_ORIGINS: 'https://app.example.com', QUIVER_REQUEST_TIMEOUT_MS: '300' } });
});
afterAll(async () => {
  await s.stop();
});

describe('security headers', () => {
  it('sends helmet headers and no x-powered-by on API answers and on errors', async () => {
    for (const p of ['/v1/collections', '/v1/collections/nope', '/healthz']) {
      const r = await fetch(`${s.url}${p}`);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(r.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('sends exactly the headers helmet() sets (app.ts computes them once)', async () => {
    const res = new http.ServerResponse(new http.IncomingMessage(new net.Socket()));
    helmet()(res.req, res, () => undefined);
    const expected = Object.entries(res.getHeaders());
    expect(expected.length).toBeGreaterThan(8);
    for (const p of ['/v1/collections', '/v1/collections/nope']) {
      const r = await fetch(`${s.url}${p}`);
      for (const [name, value] of expected) expect(r.headers.get(name), name).toBe(String(value));
    }
  });
});

describe('CORS', () => {
  it('answers a preflight from a configured origin and exposes x-request-id', async () => {
    const r = await fetch(`${s.url}/v1/collections`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const get = await fetch(`${s.url}/v1/collections`, { headers: { origin: 'https://app.example.com' } });
    expect(get.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('gives no CORS grant to any other origin', async () => {
    const r = await fetch(`${s.url}/v1/collections`, { headers: { origin: 'https://evil.example.net' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is off by default', async () => {
    const d = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none' } });
    try {
      const r = await fetch(`${d.url}/v1/collections`, { headers: { origin: 'https://app.example.com' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await d.stop();
    }
  });
});

describe('request timeout', () => {
  it('answers 408 BODY_TIMEOUT when a body has not arrived in QUIVER_REQUEST_TIMEOUT_MS (nothing written), and keeps serving', async () => {
    // The body never completes, so the handler cannot finish whatever the machine's speed.
    const url = new URL(`${s.url}/v1/collections`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' } }, (res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"name": "slo');
    });
    // Not the 503 REQUEST_TIMEOUT ("a write may still complete"): no handler ever had the request.
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error).toMatchObject({ code: 'BODY_TIMEOUT' });
    expect(JSON.parse(answer.body).error.message).toContain('300 ms');
    expect((await s.request('GET', '/healthz')).status).toBe(200);
  });
});

describe('public address without keys', () => {
  it('warns at start-up when binding a non-loopback host without API keys, and not with keys', async () => {
    const open = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_HOST: '0.0.0.0' } });
    const closed = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none', QUIVER_HOST: '0.0.0.0', QUIVER_API_KEYS: 'k-0123456789abcdef:admin' } });
    try {
      await open.waitForOutput(/"level":40[^\n]*without API keys/);
      expect(closed.output()).not.toMatch(/without API keys/);
      expect(s.output()).not.toMatch(/without API keys/);
    } finally {
      await Promise.all([open.stop(), closed.stop()]);
    }
  });
});
