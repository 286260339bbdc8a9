// A bare JSON endpoint, the anchor Quiver's HTTP figures are read against (issue 12): what the
// same machine, the same load generator and the same request bodies give when the server does
// nothing but parse the query and answer 10 hits. Runs in its own process, as the Quiver server
// does, so the load generator's process is not the server's.
//   node --import tsx benchmarks/anchor-server.ts --kind node|express
// Prints {"port":N,"msg":"listening"} on stdout once it listens on 127.0.0.1 (port 0: any).
// Any POST path answers; a body that is not {"vector": [numbers…], "k"?: 1..100} gets a 400.
//  - node:   node:http, the body collected and JSON.parse'd by hand, JSON.stringify'd answer;
//  - express: express 5 with its defaults, `express.json()` and `res.json()`.
import http from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';

const { values: args } = parseArgs({ options: { kind: { type: 'string', default: 'node' }, limit: { type: 'string', default: '4mb' } } });

interface Answer {
  hits: { id: string; document_id: string; chunk_index: number; score: number; metadata: { b: number } }[];
  mode: 'vector';
  plan: { vector: 'hnsw' };
  took_ms: number;
}

/**
 * The work both anchors do on a parsed body: check it is a query (a vector of finite numbers and
 * an optional k), read every component once, and build a Quiver-shaped answer of k hits (id,
 * score, a small metadata object; Quiver answers `include: []` without metadata, so the anchor's
 * answer is, if anything, the larger).
 */
function answer(body: unknown, started: number): Answer | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { vector, k = 10 } = body as { vector?: unknown; k?: unknown };
  if (!Array.isArray(vector) || vector.length === 0 || typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 100) return undefined;
  let sum = 0;
  for (const x of vector as unknown[]) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
    sum += x;
  }
  const base = Math.abs(Math.round(sum * 1e6)) % 1_000_000;
  const hits = Array.from({ length: k }, (_, i) => {
    const id = String(base + i);
    return { id, document_id: id, chunk_index: 0, score: 1 / (1 + i + Math.abs(sum) * 1e-3), metadata: { b: (base + i) % 1000 } };
  });
  return { hits, mode: 'vector', plan: { vector: 'hnsw' }, took_ms: performance.now() - started };
}

const BAD = JSON.stringify({ error: { code: 'INVALID_REQUEST', message: 'expected {"vector": [numbers], "k": 1..100}' } });

function nodeServer(): http.Server {
  return http.createServer((req, res) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let a: Answer | undefined;
      try {
        a = answer(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown, started);
      } catch {
        a = undefined;
      }
      const out = a ? JSON.stringify(a) : BAD;
      res.writeHead(a ? 200 : 400, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
}

function expressServer(): http.Server {
  const app = express();
  app.use(express.json({ limit: args.limit }));
  app.post('/{*path}', (req, res) => {
    const a = answer(req.body as unknown, performance.now());
    if (a) res.json(a);
    else res.status(400).type('application/json').send(BAD);
  });
  return http.createServer(app);
}

const server = args.kind === 'express' ? expressServer() : nodeServer();
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`${JSON.stringify({ kind: args.kind, port, msg: 'listening' })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
