// A Bedrock endpoint that accepts a Converse call and never answers must not hold the answer
// route (and a socket) forever: the generator fails with GENERATION_FAILED naming the timeout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { QuiverError } from '../../src/errors/index.js';
import { ConverseGenerator } from '../../src/generation/index.js';

let server: http.Server;
let url = '';
let received = 0;

beforeAll(async () => {
  // Reads the request, then keeps the socket open with no answer.
  server = http.createServer((req) => {
    received++;
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

it('a Converse call whose answer never begins fails as GENERATION_FAILED after the timeout', async () => {
  const g = new ConverseGenerator({ region: 'us-east-1', endpoint: url, timeoutMs: 1500 });
  const err = await g.generate({ model: 'amazon.nova-micro-v1:0', system: 'be brief', content: [{ text: 'Question: anyone there?' }], maxTokens: 16 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QuiverError);
  expect((err as QuiverError).code).toBe('GENERATION_FAILED');
  expect((err as QuiverError).message).toMatch(/TimeoutError/);
  expect(received).toBeGreaterThanOrEqual(1);
}, 120_000);
