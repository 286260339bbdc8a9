// Graceful shutdown through the real server: on SIGTERM/SIGINT it stops accepting connections,
// answers /readyz 503, finishes the request in flight, saves indexes, closes the database and
// exits 0; a request that never finishes is cut at QUIVER_SHUTDOWN_TIMEOUT_MS. "In flight" is made
// certain, not timed: the request's body is held back until the server has started shutting down.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TestServer, tempDir, PATIENCE_MS } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});
async function start(dataDir: string, env: Record<string, string> = {}): Promise<TestServer> {
  const s = await TestServer.start({ process: true, dataDir, env: { QUIVER_EMBEDDER: 'none', QUIVER_LOG_LEVEL: 'debug', ...env } });
  servers.push(s);
  return s;
}

async function waitForLog(s: TestServer, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!pattern.test(s.output())) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern}:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exited = (s: TestServer) =>
  new Promise<number | string>((resolve) => {
    if (s.proc.exitCode !== null) resolve(s.proc.exitCode);
    else s.proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1));
  });

/** A raw connection, so a request can be sent in parts and another pipelined behind it. */
function connect(s: TestServer): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let data = '';
    socket.on('data', (b: Buffer) => (data += b.toString()));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

describe('graceful shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: finishes the request in flight, turns unready, saves the index and exits 0`, async () => {
      const dir = tempDir();
      let s = await start(dir);
      expect((await s.request('POST', '/v1/collections', { name: 'c', embedder: { provider: 'none' }, dimension: 2 })).status).toBe(201);

      const body = JSON.stringify({ documents: [{ id: 'in-flight', vector: [0.6, 0.8] }] });
      const conn = await connect(s);
      const head = `PUT /v1/collections/c/documents HTTP/1.1\r\nHost: x\r\nx-request-id: held-1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
      conn.socket.write(head + body.slice(0, 10));
      await waitForLog(s, /"reqId":"held-1"[^\n]*"msg":"request received"/);

      const exit = exited(s);
      s.proc.kill(signal);
      await waitForLog(s, /"msg":"shutting down"/);
      // No new connections ...
      await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
      // ... the held request completes, and a request pipelined behind it sees the server unready.
      conn.socket.write(body.slice(10) + 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
      await conn.closed;
      const answers = conn.received().split(/(?=HTTP\/1\.1 )/);
      expect(answers[0]).toMatch(/^HTTP\/1\.1 200/);
      expect(answers[0]).toContain('"created":1');
      expect(answers[1]).toMatch(/^HTTP\/1\.1 503/);
      expect(answers[1]).toContain('"status":"draining"');
      expect(await exit).toBe(0);
      expect(s.output()).toMatch(/"msg":"stopped"/);

      // The index was saved at shutdown: the next start loads it with nothing to replay.
      s = await start(dir);
      expect(s.output()).toMatch(/"collection":"c","source":"snapshot","replayedAdds":0,"replayedDeletes":0,"size":1/);
      expect((await s.request('GET', '/v1/collections/c/documents/in-flight')).status).toBe(200);
    });
  }

  it('cuts a request that does not finish within QUIVER_SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    const s = await start(tempDir(), { QUIVER_SHUTDOWN_TIMEOUT_MS: '500' });
    const conn = await connect(s);
    conn.socket.write('PUT /v1/collections/c/documents HTTP/1.1\r\nHost: x\r\nx-request-id: stuck-1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{');
    await waitForLog(s, /"reqId":"stuck-1"[^\n]*"msg":"request received"/);
    const exit = exited(s);
    s.proc.kill('SIGTERM');
    expect(await exit).toBe(0);
    await conn.closed;
    expect(s.output()).toMatch(/"level":40[^\n]*QUIVER_SHUTDOWN_TIMEOUT_MS/);
  });
});
