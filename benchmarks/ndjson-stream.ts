// Streams one large NDJSON ingest (default 1 GiB, generated on the fly, never on disk) into the
// real server (`node --import tsx src/main.ts`) and reports the time to the 202 and the server's
// memory: RSS before, the peak during (VmHWM, the kernel's high-water mark, so nothing is missed
// between samples) and RSS after. Issue 11: memory must stay flat whatever the body's size.
// Documents are ~1.1 KB (a 2-d vector and a padding field), so 1 GiB is ~976,000 of them (under
// the 1,000,000 QUIVER_INGEST_MAX_DOCUMENTS allows at most); the job is cancelled once accepted.
//   node --import tsx benchmarks/ndjson-stream.ts [--mb 1024] [--doc-bytes 1100] [--sync full|normal]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from './lib/server.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '1024' }, 'doc-bytes': { type: 'string', default: '1100' }, sync: { type: 'string', default: 'full' } } });
const MB = 1024 * 1024;
const totalBytes = Number(values.mb) * MB;
const docBytes = Number(values['doc-bytes']);

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** NDJSON pieces of ~256 KB up to `bytes`; `count` says how many documents were made. */
function* body(bytes: number): Generator<Buffer> {
  let sent = 0;
  let i = 0;
  let piece = '';
  const pad = 'p'.repeat(Math.max(0, docBytes - 80));
  while (sent < bytes) {
    const a = (2 * Math.PI * i) / 1_000_000;
    piece += `${JSON.stringify({ id: `n${i}`, vector: [Math.fround(Math.cos(a)), Math.fround(Math.sin(a))], metadata: { pad } })}\n`;
    i++;
    if (piece.length >= 256 * 1024) {
      sent += piece.length;
      yield Buffer.from(piece);
      piece = '';
    }
  }
  if (piece) yield Buffer.from(piece);
  count = i;
}
let count = 0;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-ndjson-bench-'));
const server = await startServer(dataDir, { QUIVER_INGEST_MAX_DOCUMENTS: '1000000', QUIVER_INGEST_MAX_PENDING: '2000000', QUIVER_SYNC: values.sync });
try {
  await fetch(`${server.url}/v1/collections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'big', dimension: 2 }) });
  const before = memoryOf(server.pid);
  let sampledMax = before.rss;
  const sampler = setInterval(() => (sampledMax = Math.max(sampledMax, memoryOf(server.pid).rss)), 250);
  const started = performance.now();
  const url = new URL('/v1/collections/big/ingest', server.url);
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    void (async () => {
      for (const piece of body(totalBytes)) {
        if (!req.write(piece)) {
          await new Promise<void>((r) => {
            const go = () => {
              req.off('drain', go);
              req.off('close', go);
              r();
            };
            req.on('drain', go);
            req.on('close', go);
          });
        }
        if (req.destroyed) return;
      }
      req.end();
    })();
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const after = memoryOf(server.pid);
  const job = (JSON.parse(answer.text) as { job?: { id: string; total: number } }).job;
  if (job) await fetch(`${server.url}/v1/jobs/${job.id}/cancel`, { method: 'POST' });
  const f = (n: number) => `${Math.round(n / MB)} MB`;
  console.log(
    JSON.stringify(
      {
        streamed: f(totalBytes),
        documents: count,
        status: answer.status,
        accepted: job?.total ?? answer.text.slice(0, 300),
        seconds: Math.round(seconds * 10) / 10,
        mb_per_s: Math.round((totalBytes / MB / seconds) * 10) / 10,
        rss_before: f(before.rss),
        rss_peak: f(after.peak),
        rss_peak_sampled: f(sampledMax),
        rss_after: f(after.rss),
        peak_growth: f(after.peak - Math.max(before.rss, before.peak)),
      },
      null,
      2,
    ),
  );
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
