// `quiver ingest` and `quiver search`, run as users run them (node bin/quiver.js ...) against the
// real server, and against a stub server for what the real one will not do on demand (a full
// queue, failed documents, a failed job, a body too large) and to see exactly what is sent.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quiver } from '../helpers/cli.js';
import { TestServer, tempDir, type Json } from '../helpers/server.js';

function write(dir: string, files: Record<string, string>): string {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const jsonl = (...docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';

describe('quiver ingest and search against the server', () => {
  let s: TestServer;
  let url: string;
  const dir = tempDir('quiver-cli-');
  const pasta = '# Pasta\n\nBoil the pasta for ten minutes and drain it.\n';
  write(dir, {
    'notes/cat.txt': 'The cat sat on the mat and purred.',
    'notes/cooking/pasta.md': pasta,
    'docs.jsonl': `${jsonl({ id: 'rocket', text: 'Rockets launch satellites into orbit.', metadata: { kind: 'space', year: 1957 } })}\n${jsonl({ id: 'bread', text: 'Bread rises when yeast ferments the dough.' })}`,
    'list.json': JSON.stringify([{ id: 'volcano', text: 'Volcanoes erupt lava and ash.' }, { id: 'whale', text: 'Whales sing songs in the ocean.', metadata: { kind: 'animal' } }], null, 2),
    'single.json': JSON.stringify({ id: 'glacier', text: 'Glaciers carve valleys slowly.', metadata: { kind: 'ice' } }),
    'empty.txt': '  \n',
    '.hidden/secret.txt': 'not to be sent',
    'table.csv': 'a,b\n1,2\n',
  });
  const ids = ['notes/cat.txt', 'notes/cooking/pasta.md', 'rocket', 'bread', 'volcano', 'whale', 'glacier'];

  beforeAll(async () => {
    s = await TestServer.start();
    url = s.url;
  });
  afterAll(async () => {
    await s?.stop();
  });

  const doc = (collection: string, id: string) => s.request('GET', `/v1/collections/${collection}/documents/${encodeURIComponent(id)}`);

  it('ingests a folder of .txt, .md, .jsonl and .json files in jobs of --batch documents', async () => {
    const r = await quiver(['ingest', 'docs', dir, '--create', '--batch', '3', '--json', '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ collection: 'docs', files: 6, documents: 7, jobs: 3, ingested: 7, skipped: 0, failed: 0, not_processed: 0, failures: [], job_errors: [], error: null });
    expect(summary.empty_files).toEqual([path.join(dir, 'empty.txt')]);
    expect(summary.docs_per_s).toBeGreaterThan(0);
    // stderr is not a terminal here: a line per job instead of a bar.
    expect(r.stderr.match(/^job \d+(\/3)? job_\w+ done: /gm)).toHaveLength(3);
    expect(r.stderr).toContain('empty.txt: empty, passed over');

    // Text files: id = path inside the folder, text = content, metadata.source = the path.
    const md = await doc('docs', 'notes/cooking/pasta.md');
    expect(md.status).toBe(200);
    expect(md.body.document).toMatchObject({ text: pasta, metadata: { source: path.join(dir, 'notes/cooking/pasta.md') } });
    expect((await doc('docs', 'notes/cat.txt')).body.document.text).toBe('The cat sat on the mat and purred.');
    expect((await doc('docs', 'rocket')).body.document).toMatchObject({ text: 'Rockets launch satellites into orbit.', metadata: { kind: 'space', year: 1957 } });
    expect((await doc('docs', 'whale')).body.document.metadata).toEqual({ kind: 'animal' });
    expect((await doc('docs', 'glacier')).body.document.metadata).toEqual({ kind: 'ice' });
    for (const id of ids) expect((await doc('docs', id)).status, id).toBe(200);
    // Hidden folders, other extensions and empty texts are not documents.
    expect((await doc('docs', '.hidden/secret.txt')).status).toBe(404);
    const info = await s.request('GET', '/v1/collections/docs');
    expect(info.body.collection.document_count).toBe(7);
  });

  it('reports everything skipped unchanged when run again, and only a changed file as ingested', async () => {
    const again = await quiver(['ingest', 'docs', dir, '--url', url]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^ingested 0, skipped 7 unchanged, failed 0 — 7 document\(s\) from 6 file\(s\) into "docs" in [\d.]+ s \([\d.]+ docs\/s\)\n$/);

    const cat = path.join(dir, 'notes/cat.txt');
    const original = fs.readFileSync(cat, 'utf8');
    fs.writeFileSync(cat, 'The cat chased a mouse.');
    try {
      const r = await quiver(['ingest', 'docs', dir, '--json', '--url', url]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ingested: 1, skipped: 6, failed: 0 });
      expect((await doc('docs', 'notes/cat.txt')).body.document.text).toBe('The cat chased a mouse.');
    } finally {
      fs.writeFileSync(cat, original);
    }
    const back = await quiver(['ingest', 'docs', dir, '--json', '--url', url]);
    expect(JSON.parse(back.stdout)).toMatchObject({ ingested: 1, skipped: 6 });
  });

  it('takes single files, whose id is the file name, and applies --chunking/--max-tokens', async () => {
    const d = write(tempDir(), { 'long.txt': Array.from({ length: 40 }, (_, i) => `Sentence number ${i} talks about rivers and mountains.`).join(' ') });
    const r = await quiver(['ingest', 'chunked', path.join(d, 'long.txt'), '--create', '--chunking', 'fixed', '--max-tokens', '16', '--json', '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ documents: 1, ingested: 1 });
    const info = await s.request('GET', '/v1/collections/chunked');
    expect(info.body.collection.document_count).toBe(1);
    // 40 sentences of ~9 tokens in chunks of 16 tokens.
    expect(info.body.collection.vector_count).toBeGreaterThanOrEqual(20);
    expect((await doc('chunked', 'long.txt')).status).toBe(200);
  });

  it('refuses invalid input with exit 2, naming file:line, and sends nothing', async () => {
    const bad = write(tempDir(), {
      'good.txt': 'fine',
      'bad.jsonl': `${jsonl({ id: 'ok1', text: 'one' })}${jsonl({ id: 'ok2', text: 'two' })}{"id": "b3", "text": }\n${jsonl({ id: 'ok4', text: 'four' })}`,
    });
    const r = await quiver(['ingest', 'never', bad, '--create', '--url', url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`\n  ${path.join(bad, 'bad.jsonl')}:3:22: invalid JSON: unexpected "}"\n`);
    expect(r.stderr).toContain('nothing was sent');
    expect(r.stdout).toBe('');
    // Not even the collection was created.
    expect((await s.request('GET', '/v1/collections/never')).status).toBe(404);
  });

  it.each([
    ['a document the server would refuse, at its line in a .json array', { 'a.json': '[\n  {"id": "x", "text": "a"},\n  {"id": "y", "text": "b", "metadata": {"nested": {"no": 1}}}\n]' }, 'a.json:3: metadata.nested: expected a string, number, boolean or an array of them'],
    ['an unknown field in a .jsonl line', { 'a.jsonl': '{"id": "x", "text": "a", "colour": "red"}\n' }, 'a.jsonl:1: unknown field(s): colour'],
    ['a line that is not an object', { 'a.jsonl': '{"id": "x", "text": "a"}\n[1, 2]\n' }, 'a.jsonl:2: Invalid input: expected object, received array'],
    ['a .json file that does not parse', { 'a.json': '{\n  "id": "x",\n  "text": "a\nb"\n}' }, 'a.json:3:13: invalid JSON: unescaped control character'],
    ['an id used twice', { 'a.jsonl': '{"id": "b.txt", "text": "a"}\n', 'b.txt': 'b' }, 'b.txt: document id "b.txt" is also used at'],
    ['a blank text', { 'a.jsonl': '{"id": "x", "text": "   "}\n' }, 'a.jsonl:1: text: must not be blank'],
  ])('refuses %s', async (_what, files, message) => {
    const d = write(tempDir(), files);
    const r = await quiver(['ingest', 'docs', d, '--url', url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('refuses bad paths and arguments with exit 2', async () => {
    const none = await quiver(['ingest', 'docs', path.join(dir, 'missing'), '--url', url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`${path.join(dir, 'missing')}: no such file or folder`);
    const csv = await quiver(['ingest', 'docs', path.join(dir, 'table.csv'), '--url', url]);
    expect(csv.code).toBe(2);
    expect(csv.stderr).toContain('unsupported file type ".csv"');
    const nothing = await quiver(['ingest', 'docs', write(tempDir(), { 'x.csv': '1', '.y.txt': 'hidden', 'sub/z.pdf': '' }), '--url', url]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('no .txt, .md, .json or .jsonl files');
    expect((await quiver(['ingest', 'docs', dir, '--batch', '0'])).code).toBe(2);
    expect((await quiver(['ingest', 'docs', dir, '--chunking', 'paragraph'])).code).toBe(2);
    expect((await quiver(['ingest', 'docs'])).code).toBe(2);
    expect((await quiver(['ingest', 'bad name!', dir])).stderr).toContain('collection name "bad name!"');
  });

  it('exits 1 with the server\'s message for a missing collection without --create', async () => {
    const r = await quiver(['ingest', 'absent', dir, '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('collection "absent" does not exist; pass --create to create it');
    expect((await s.request('GET', '/v1/collections/absent')).status).toBe(404);
  });

  it('search prints a table whose first row is the best document, one line each within the width', async () => {
    const r = await quiver(['search', 'docs', 'how long should I boil pasta', '--url', url], { COLUMNS: '60' });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^rank\s+score\s+id\s+text$/);
    expect(lines[1]).toMatch(/^\s+1\s+\d\.\d{3}\s+notes\/cooking\/pasta\.md\s+# Pasta Boil the pasta/);
    expect(lines.length).toBe(1 + ids.length);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[1]).toMatch(/…$/);
    // Ranks in order, scores never rising.
    const scores = lines.slice(1).map((l) => Number(/^\s+\d+\s+(-?\d\.\d{3})/.exec(l)![1]));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('search --json returns the hits; -k, --mode and --filter reach the server', async () => {
    const r = await quiver(['search', 'docs', 'whales singing in the sea', '-k', '2', '--mode', 'vector', '--json', '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer.mode).toBe('vector');
    expect(answer.hits).toHaveLength(2);
    expect(answer.hits[0]).toMatchObject({ id: 'whale', text: 'Whales sing songs in the ocean.', metadata: { kind: 'animal' } });
    expect(answer.hits[0].score).toBeGreaterThan(answer.hits[1].score);

    const f = await quiver(['search', 'docs', 'whales singing in the sea', '--filter', '{"kind": {"$in": ["space", "ice"]}}', '--json', '--url', url]);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout).hits.map((h: Json) => h.id).sort()).toEqual(['glacier', 'rocket']);
  });

  it('search exits 1 with the server\'s message when the server refuses, 2 for a filter that is not JSON', async () => {
    const nope = await quiver(['search', 'nope', 'anything', '--url', url]);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toBe('quiver search: collection "nope" does not exist (HTTP 404 COLLECTION_NOT_FOUND)\n');
    const op = await quiver(['search', 'docs', 'x', '--filter', '{"kind": {"$between": [1, 2]}}', '--url', url]);
    expect(op.code).toBe(1);
    expect(op.stderr).toContain('filter.kind.$between: unknown operator');
    const notJson = await quiver(['search', 'docs', 'x', '--filter', '{kind: 1}', '--url', url]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('--filter is not valid JSON');
  });

  it('exits 2 with a message naming the URL when the server cannot be reached', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const q = await quiver(['search', 'docs', 'x'], { QUIVER_URL: dead });
    expect(q.code).toBe(2);
    expect(q.stderr).toContain(`cannot reach the Quiver server at ${dead} (ECONNREFUSED)`);
    const i = await quiver(['ingest', 'docs', dir, '--url', dead]);
    expect(i.code).toBe(2);
    expect(i.stderr).toContain(`cannot reach the Quiver server at ${dead} (ECONNREFUSED)`);
    expect((await quiver(['search', 'docs', 'x', '--url', 'localhost:8080'])).code).toBe(2);
  });
});

describe('quiver ingest against a server with a small ingest queue', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await TestServer.start({ env: { QUIVER_INGEST_MAX_PENDING: '4' } });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('splits batches larger than the queue and waits for room (429) until everything is in', async () => {
    const docs = Array.from({ length: 10 }, (_, i) => ({ id: `d${i}`, text: `Document number ${i} is about rivers.` }));
    const d = write(tempDir(), { 'many.jsonl': jsonl(...docs) });
    const r = await quiver(['ingest', 'q', d, '--create', '--batch', '6', '--json', '--url', s.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ documents: 10, ingested: 10, failed: 0, not_processed: 0 });
    expect(r.stderr).toContain('the server refused a batch of 6 (its queue holds at most 4); sending batches of 4');
    expect((await s.request('GET', '/v1/collections/q')).body.collection.document_count).toBe(10);
  });
});

/** A server that answers as a test says and records every request. */
type Recorded = { method: string; url: string; headers: http.IncomingHttpHeaders; body: Json };
class Stub {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    readonly requests: Recorded[],
  ) {}

  static async start(handle: (req: { method: string; url: string; body: Json }, res: http.ServerResponse) => void): Promise<Stub> {
    const requests: Recorded[] = [];
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (b: Buffer) => (raw += b.toString()));
      req.on('end', () => {
        // quiver ingest streams its batches as NDJSON: seen here as {documents: [...]}.
        const ndjson = req.headers['content-type'] === 'application/x-ndjson';
        const body: Json = !raw ? undefined : ndjson ? { documents: raw.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)) } : JSON.parse(raw);
        const r = { method: req.method ?? '', url: req.url ?? '', body };
        requests.push({ ...r, headers: req.headers });
        handle(r, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return new Stub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests);
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const job = (id: string, fields: Record<string, unknown>) => ({
  job: { id, collection: 'c', status: 'done', total: 0, done: 0, skipped: 0, failed: 0, errors: [], error: null, ...fields },
});

describe('quiver ingest against a stub server', () => {
  const stubs: Stub[] = [];
  afterAll(async () => {
    await Promise.all(stubs.map((s) => s.close()));
  });
  const d = write(tempDir(), { 'a.jsonl': jsonl({ id: 'a', text: 'alpha' }, { id: 'b', text: 'beta' }, { id: 'c', text: 'gamma' }) });

  it('waits out a full queue (429 Retry-After), lists failed documents and exits 1; sends the key and chunking', async () => {
    let posts = 0;
    let polls = 0;
    const stub = await Stub.start((req, res) => {
      if (req.method === 'GET' && req.url === '/v1/collections/c') return send(res, 200, { collection: { name: 'c' } });
      if (req.method === 'POST' && req.url.startsWith('/v1/collections/c/ingest')) {
        if (++posts === 1) return send(res, 429, { error: { code: 'QUEUE_FULL', message: 'the ingest queue is full' } }, { 'retry-after': '1' });
        return send(res, 202, job('job_1', { status: 'queued', total: req.body.documents.length }));
      }
      if (req.method === 'GET' && req.url === '/v1/jobs/job_1') {
        if (++polls === 1) return send(res, 200, job('job_1', { status: 'running', total: 3, done: 1 }));
        return send(res, 200, job('job_1', { status: 'done', total: 3, done: 2, skipped: 1, failed: 1, errors: [{ document_id: 'b', message: 'the embedding model failed: boom' }] }));
      }
      send(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: 'no' } });
    });
    stubs.push(stub);
    const started = Date.now();
    const r = await quiver(['ingest', 'c', d, '--chunking', 'sentence', '--max-tokens', '64'], { QUIVER_URL: stub.url, QUIVER_API_KEY: 'k-123' });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(r.stderr).toContain("the server's ingest queue is full (HTTP 429); retrying in 1 s");
    expect(r.stdout).toContain('ingested 1, skipped 1 unchanged, failed 1');
    expect(r.stdout).toContain('failed documents:\n  b: the embedding model failed: boom\n');
    const ingests = stub.requests.filter((q) => q.url.includes('/ingest'));
    expect(ingests).toHaveLength(2);
    // One NDJSON stream per batch, the chunking in the query string.
    expect(ingests[1]!.headers['content-type']).toBe('application/x-ndjson');
    expect(ingests[1]!.url).toBe('/v1/collections/c/ingest?chunking=sentence&max_tokens=64');
    expect(ingests[1]!.body).toEqual({
      documents: [
        { id: 'a', text: 'alpha' },
        { id: 'b', text: 'beta' },
        { id: 'c', text: 'gamma' },
      ],
    });
    for (const q of stub.requests) expect(q.headers.authorization).toBe('Bearer k-123');
  });

  it('splits a batch the server finds too large (413), counts a document refused alone as failed, reports a failed job', async () => {
    let n = 0;
    const stub = await Stub.start((req, res) => {
      if (req.url === '/v1/collections/c') return send(res, 200, { collection: { name: 'c' } });
      if (req.url === '/v1/collections/c/ingest') {
        const docs = req.body.documents as { id: string }[];
        if (docs.length > 1 || docs[0]!.id === 'b') return send(res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than the limit' } });
        return send(res, 202, job(`job_${++n}`, { status: 'queued', total: 1 }));
      }
      if (req.url === '/v1/jobs/job_1') return send(res, 200, job('job_1', { total: 1, done: 1 }));
      if (req.url === '/v1/jobs/job_2') return send(res, 200, job('job_2', { status: 'failed', total: 1, error: 'the embedding model could not be loaded' }));
      send(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: 'no' } });
    });
    stubs.push(stub);
    const r = await quiver(['ingest', 'c', d, '--json', '--url', stub.url]);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      documents: 3,
      jobs: 2,
      ingested: 1,
      failed: 1,
      not_processed: 1,
      failures: [{ document_id: 'b', message: 'request body is larger than the limit' }],
      job_errors: [{ job: 'job_2', status: 'failed', error: 'the embedding model could not be loaded' }],
    });
    // 3 → (2 → 1 + 1) + 1, never a batch larger than the last one refused.
    const sizes = stub.requests.filter((q) => q.url.endsWith('/ingest')).map((q) => q.body.documents.length);
    expect(sizes).toEqual([3, 2, 1, 1, 1]);
    expect(r.stderr).toMatch(/^job 2(\/2)? job_2 failed: .*\(the embedding model could not be loaded\)/m);
  });

  it('reports a document whose line the server finds too long (413 naming the line) as failed, and sends the others', async () => {
    let n = 0;
    const stub = await Stub.start((req, res) => {
      if (req.url === '/v1/collections/c') return send(res, 200, { collection: { name: 'c' } });
      if (req.url === '/v1/collections/c/ingest') {
        const at = (req.body.documents as { id: string }[]).findIndex((x) => x.id === 'b');
        if (at >= 0) return send(res, 413, { error: { code: 'LINE_TOO_LONG', message: `line ${at + 1} is longer than 1024 bytes`, details: { line: at + 1, limit: 1024 } } });
        return send(res, 202, job(`job_${++n}`, { status: 'queued', total: req.body.documents.length }));
      }
      if (req.url.startsWith('/v1/jobs/')) return send(res, 200, job(req.url.slice('/v1/jobs/'.length), { total: 1, done: 1 }));
      send(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: 'no' } });
    });
    stubs.push(stub);
    const r = await quiver(['ingest', 'c', d, '--json', '--url', stub.url]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ documents: 3, jobs: 2, ingested: 2, failed: 1, not_processed: 0, failures: [{ document_id: 'b', message: 'line 2 is longer than 1024 bytes' }] });
    const sent = stub.requests.filter((q) => q.url.includes('/ingest')).map((q) => q.body.documents.map((x: Json) => x.id).join(''));
    expect(sent).toEqual(['abc', 'a', 'c']);
  });

  it('sends nothing at all when an input is invalid', async () => {
    const stub = await Stub.start((_req, res) => send(res, 500, {}));
    stubs.push(stub);
    const bad = write(tempDir(), { 'ok.jsonl': jsonl({ id: 'a', text: 'alpha' }), 'zz.jsonl': '{"id": 7, "text": "x"}\n' });
    const r = await quiver(['ingest', 'c', bad, '--create', '--url', stub.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(bad, 'zz.jsonl')}:1: id: `);
    expect(stub.requests).toEqual([]);
  });
});
