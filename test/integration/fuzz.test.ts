// Property-based fuzzing (fast-check) of every endpoint in the served OpenAPI document (which a
// test keeps equal to the routes the app registers): random and hostile paths, query strings,
// headers, keys and bodies — bodies generated from each route's own request schema, then
// mutated. Strings mix in what SQLite's UTF-8 cannot hold or a JSON path cannot name (lone
// surrogates, NUL and other control characters) beside astral characters; bodies are sometimes
// gzip/deflate/br compressed, some inflating far past the body limit, some lying about it; one
// collection holds degenerate vectors (duplicates, zeros: rank-deficient sets that once froze
// project) and writes add more of them (issue 11). The
// properties: no answer is a 5xx, the server never dies, every document or collection a 2xx
// says was written reads back unchanged by the same id or name, and a collection the fuzzer may
// not change is byte-for-byte what it was. FUZZ_RUNS and FUZZ_SEED reproduce a run.
import http from 'node:http';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';
import { randomVectors } from '../fixtures/vectors.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 4000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const DIM = 4;
const KEYS = { admin: 'fuzz-admin-key-0123456789', read: 'fuzz-read-key-0123456789', play: 'fuzz-play-key-0123456789' };

let s: TestServer;
let doc: Json;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  s = await TestServer.start({
    process: true,
    env: {
      QUIVER_MAX_BODY: '64kb',
      QUIVER_MAX_DOCUMENTS_PER_REQUEST: '20',
      QUIVER_BACKUP_DIR: tempDir('quiver-fuzz-backups-'),
      QUIVER_API_KEYS: `${KEYS.admin}:admin,${KEYS.read}:read,${KEYS.play}:write:play|words`,
    },
  });
  const admin = { authorization: `Bearer ${KEYS.admin}` };
  for (const [name, body] of [
    ['keep', { embedder: { provider: 'none' }, dimension: DIM }],
    ['play', { embedder: { provider: 'none' }, dimension: DIM }],
    ['words', {}],
    ['flat', { embedder: { provider: 'none' }, dimension: DIM, metric: 'l2' }],
  ] as const) {
    expect((await s.request('POST', '/v1/collections', { name, ...body }, admin)).status).toBe(201);
  }
  const seed = (n: number, withText: boolean) =>
    randomVectors(n, DIM, 77).map((vector, i) => ({ id: `seed-${i}`, ...(withText ? { text: `note ${i} about cats and pasta` } : { vector }), metadata: { n: i, kind: i % 2 ? 'odd' : 'even', tags: ['a', 'b'] } }));
  expect((await s.request('PUT', '/v1/collections/keep/documents', { documents: seed(20, false) }, admin)).status).toBe(200);
  expect((await s.request('PUT', '/v1/collections/play/documents', { documents: seed(20, false) }, admin)).status).toBe(200);
  expect((await s.request('PUT', '/v1/collections/words/documents', { documents: seed(20, true) }, admin)).status).toBe(200);
  // Degenerate vectors for project, cluster and recommend: two distinct directions and zeros.
  const flat = Array.from({ length: 20 }, (_, i) => ({ id: `seed-${i}`, vector: i < 7 ? [0, 0, 0, 0] : i % 2 ? [1, 1, 1, 1] : [2, 2, 2, 2], metadata: { n: i } }));
  expect((await s.request('PUT', '/v1/collections/flat/documents', { documents: flat }, admin)).status).toBe(200);
  doc = (await s.request('GET', '/openapi.json')).body;
}, 120_000);
afterAll(async () => {
  agent.destroy();
  await s.stop();
});

/** Everything observable about a collection: its description, and every document with its vector. */
async function stateOf(name: string): Promise<unknown> {
  const h = { authorization: `Bearer ${KEYS.admin}` };
  const info = (await s.request('GET', `/v1/collections/${name}`, undefined, h)).body;
  const docs: unknown[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page = await s.request('GET', `/v1/collections/${name}/documents?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, undefined, h);
    for (const d of page.body.documents as { id: string }[]) {
      docs.push((await s.request('GET', `/v1/collections/${name}/documents/${encodeURIComponent(d.id)}?include=vector`, undefined, h)).body.document);
    }
    cursor = page.body.next_cursor;
  }
  return { info, docs };
}

// ---- generators ----

const hostileStrings = [
  '../../etc/passwd',
  '..',
  '%2e%2e%2f',
  "x'; DROP TABLE documents; --",
  '" OR 1=1 --',
  '\u0000',
  'nul\u0000byte',
  '__proto__',
  'constructor',
  '$where',
  '\ud800',
  'x\ud800y',
  'x\udc00y',
  'pair\ud83e', // the first half of 🦆 only
  'k\u0001',
  'tab\tkey',
  'del\u007f',
  'c1\u0085',
  '𝒳',
  '🦆'.repeat(50),
  'a'.repeat(300),
  ' ',
  '',
  '<script>alert(1)</script>',
  '${7*7}',
  'C:\\windows\\system32',
];
/**
 * Short strings built from characters that have broken storage or filters before (issue 11): C0
 * controls (NUL among them), DEL and C1, lone surrogate halves (a pair only by chance), astral and
 * other non-ASCII characters, beside plain ones and the JSON path's own " and \.
 */
const plainChar = fc.constantFrom('a', 'b', 'z', '0', ' ', '-', '.', '"', '\\', '$');
const controlChar = fc.oneof(fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), fc.constantFrom('\u007f', '\u0085', '\u009f'));
const unusualChar = fc.constantFrom('🦆', '𝒳', 'é', '中', '\u00a0', '\u2028', '\ufeff');
const surrogateHalf = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const edgyString = fc
  .array(fc.oneof({ arbitrary: plainChar, weight: 6 }, { arbitrary: controlChar, weight: 2 }, { arbitrary: surrogateHalf, weight: 2 }, { arbitrary: unusualChar, weight: 2 }), { minLength: 1, maxLength: 12 })
  .map((cs) => cs.join(''));
/** Edgy but storable (no lone surrogate): most writes built from these should succeed. */
const storableString = fc
  .array(fc.oneof({ arbitrary: plainChar, weight: 6 }, { arbitrary: controlChar, weight: 1 }, { arbitrary: unusualChar, weight: 3 }), { minLength: 1, maxLength: 12 })
  .map((cs) => cs.join(''));

const names = ['keep', 'play', 'flat', 'words', 'nope', 'KEEP', 'play ', 'a'.repeat(65), ...hostileStrings];
const ids = ['seed-0', 'seed-1', 'seed-19', 'missing', ...hostileStrings];
/** Filters (and metadata) whose field names and values are edgy strings. */
const edgyFilter: fc.Arbitrary<unknown> = fc.dictionary(
  fc.oneof(fc.constantFrom('kind', 'n', 'tags'), edgyString),
  fc.oneof(
    edgyString,
    fc.array(edgyString, { maxLength: 3 }),
    edgyString.map((v) => ({ $eq: v })),
    fc.array(edgyString, { minLength: 1, maxLength: 3 }).map((v) => ({ $in: v })),
    edgyString.map((v) => ({ $gte: v })),
    fc.boolean().map((v) => ({ $exists: v })),
  ),
  { minKeys: 1, maxKeys: 3 },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(...hostileStrings, null, true, -1, 0, 1e308, -1e308, 2 ** 53, 1.5, [], {}, [[[[[]]]]], { $and: [] }, { $or: [{ kind: { $eq: "'; --" } }] }),
  fc.jsonValue({ maxDepth: 3 }),
  edgyString,
  edgyFilter,
);

type Schema = Record<string, Json>;
function resolve(schema: Schema): Schema {
  if (typeof schema?.$ref === 'string') return doc.components.schemas[schema.$ref.split('/').pop()!] as Schema;
  return schema;
}

/** Values shaped by a JSON schema (mostly valid, sometimes not), with hostile leaves mixed in. */
function fromSchema(raw: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const schema = raw === undefined ? {} : resolve(raw);
  const shaped = shapedBy(schema, depth);
  return fc.oneof({ arbitrary: shaped, weight: 8 }, { arbitrary: hostileValue, weight: 1 });
}

function shapedBy(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  if (depth > 5) return hostileValue;
  const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (variants) return fc.oneof(...variants.map((v) => fromSchema(v, depth + 1)));
  if (schema.allOf) return fromSchema((schema.allOf as Schema[])[0], depth + 1);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const keys = Object.keys(props);
      if (keys.length === 0) return fc.dictionary(fc.oneof(fc.constantFrom('kind', 'n', 'tags', '$eq', 'a b', '__proto__'), edgyString), hostileValue, { maxKeys: 3 });
      const required = new Set((schema.required ?? []) as string[]);
      const parts = Object.fromEntries(keys.map((k) => [k, fromSchema(props[k], depth + 1)]));
      return fc.record(parts, { requiredKeys: keys.filter((k) => required.has(k)) }).chain((o) =>
        // Now and then an unknown field, which strict schemas must refuse.
        fc.oneof({ arbitrary: fc.constant(o), weight: 9 }, { arbitrary: fc.constant({ ...(o as object), unknown_field: 1 }), weight: 1 }),
      );
    }
    case 'array': {
      const item = schema.items as Schema | undefined;
      const numeric = item && resolve(item).type === 'number';
      // Vectors of the collections' own dimension reach the index; others test the checks.
      if (numeric) return fc.oneof(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: DIM, maxLength: DIM }), fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 6 }));
      return fc.array(fromSchema(item, depth + 1), { maxLength: 4 });
    }
    case 'string':
      return fc.oneof(fc.constantFrom(...ids, ...names, 'cats', 'how to cook pasta', 'text,metadata,vector'), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), edgyString);
    case 'integer':
      return fc.oneof(fc.integer({ min: (schema.minimum as number) ?? -5, max: Math.min((schema.maximum as number) ?? 50, 50) }), fc.constantFrom(0, -1, 100_001, 2 ** 31));
    case 'number':
      return fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom(0, -1, 1e308));
    case 'boolean':
      return fc.boolean();
    default:
      return hostileValue;
  }
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  label: string;
}

function operations(): { method: string; path: string; op: Json }[] {
  return Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path: p, op })));
}

/** encodeURIComponent, except that a lone surrogate becomes the invalid UTF-8 it would be on the wire. */
function enc(x: string): string {
  try {
    return encodeURIComponent(x);
  } catch {
    return [...x].map((ch) => (/[\ud800-\udfff]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}

type Encoding = 'gzip' | 'deflate' | 'br' | 'bomb' | 'lie' | 'unknown';
const ZEROS_GZIP = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024));

/** The body as sent with a Content-Encoding (set in headers). */
function compress(encoding: Encoding, body: string | Buffer, headers: Record<string, string>): string | Buffer {
  switch (encoding) {
    case 'gzip':
      headers['content-encoding'] = 'gzip';
      return zlib.gzipSync(body);
    case 'deflate':
      headers['content-encoding'] = 'deflate';
      return zlib.deflateSync(body);
    case 'br':
      headers['content-encoding'] = 'br';
      return zlib.brotliCompressSync(body);
    case 'bomb':
      // The body, then ~16 MB of zeros (a second gzip member): a few KB on the wire.
      headers['content-encoding'] = 'gzip';
      return Buffer.concat([zlib.gzipSync(body), ZEROS_GZIP]);
    case 'lie':
      headers['content-encoding'] = 'gzip';
      return body;
    case 'unknown':
      headers['content-encoding'] = 'x-quiver-unknown';
      return body;
  }
}

function requestArb(): fc.Arbitrary<FuzzRequest> {
  const ops = operations();
  const segment = (pool: string[]) =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...pool.slice(0, 3)).map(enc), weight: 6 },
      { arbitrary: fc.constantFrom(...pool).map(enc), weight: 4 },
      { arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%E0%A4%A', '%', '%ZZ', 'a%2Fb', '~'), weight: 2 },
      { arbitrary: fc.string({ maxLength: 12 }).map(enc), weight: 1 },
      { arbitrary: edgyString.map(enc), weight: 1 },
    );
  // Mostly keys that get past authentication, so most requests reach validation and the engine.
  const key = fc.oneof(
    { arbitrary: fc.constant(KEYS.admin), weight: 6 },
    { arbitrary: fc.constant(KEYS.play), weight: 3 },
    { arbitrary: fc.constantFrom<string | undefined>(undefined, 'wrong-key-0123456789abc', KEYS.read), weight: 2 },
  );
  const contentType = fc.constantFrom<string | undefined>(
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  );
  const query = fc.array(
    fc.tuple(
      fc.constantFrom('limit', 'cursor', 'include', 'filter', 'k', 'x', '__proto__', 'limit[]'),
      fc.oneof(fc.constantFrom('1', '0', '-1', '1000', '1001', 'vector', 'text,vector', 'eyJhIjoxfQ', '{"kind":"odd"}', '%', 'NaN'), fc.string({ maxLength: 10 }), edgyFilter.map((f) => JSON.stringify(f))),
    ),
    { maxLength: 3 },
  );
  // Mostly plain bodies; now and then compressed, a bomb that inflates far past QUIVER_MAX_BODY,
  // a body that lies about its encoding, or an encoding nobody speaks.
  const encoding = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 12 },
    { arbitrary: fc.constantFrom<Encoding>('gzip', 'deflate', 'br', 'bomb', 'lie', 'unknown'), weight: 2 },
  );
  const methodFor = (m: string) => fc.oneof({ arbitrary: fc.constant(m), weight: 12 }, { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), weight: 1 });

  return fc.constantFrom(...ops).chain(({ method, path, op }) => {
    const schema = op.requestBody?.content?.['application/json']?.schema as Schema | undefined;
    const bodyArb: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
      { arbitrary: fromSchema(schema).map((v) => JSON.stringify(v)), weight: schema ? 10 : 1 },
      { arbitrary: fc.constantFrom<string | Buffer | undefined>(undefined, '', '{', '{"a":', 'null', '[]', '"str"', '{"__proto__":{"polluted":1}}', '[' .repeat(5000), Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 'x'.repeat(70 * 1024)), weight: 2 },
      { arbitrary: fc.string({ maxLength: 60 }), weight: 1 },
    );
    const pathArb = fc
      .tuple(segment(names), segment(ids))
      .map(([n, i]) => path.replace('{name}', n).replace('{id}', i))
      .chain((p) => fc.oneof({ arbitrary: fc.constant(p), weight: 8 }, { arbitrary: fc.constantFrom(`${p}/`, p.toUpperCase(), `${p}/extra`, `${p}//x`, `/v1/${p.split('/').pop() ?? ''}`), weight: 1 }));
    return fc.record({ method: methodFor(method), path: pathArb, body: bodyArb, key, contentType, query, bearer: fc.boolean(), requestId: fc.option(fc.string({ maxLength: 20 })), encoding }).map((r) => {
      const headers: Record<string, string> = {};
      if (r.key !== undefined) {
        if (r.bearer) headers.authorization = `Bearer ${r.key}`;
        else headers['x-api-key'] = r.key;
      }
      if (r.contentType !== undefined) headers['content-type'] = r.contentType;
      if (r.requestId !== null) headers['x-request-id'] = enc(r.requestId);
      const qs = r.query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
      const body = r.encoding === undefined || r.body === undefined ? r.body : compress(r.encoding, r.body, headers);
      return { method: r.method, path: qs ? `${r.path}?${qs}` : r.path, headers, body, label: `${method} ${path}` };
    });
  });
}

/**
 * Upserts that are well shaped but for their strings (edgy ids, texts, metadata keys and values),
 * so that many succeed and the read-back property is exercised often. "play" takes vectors,
 * "words" embeds text.
 */
function writeArb(): fc.Arbitrary<FuzzRequest> {
  const str = fc.oneof({ arbitrary: storableString, weight: 3 }, { arbitrary: edgyString, weight: 1 }, { arbitrary: fc.constantFrom('seed-1', 'plain', '🦆', '𝒳-1'), weight: 1 });
  const scalar = fc.oneof(str, fc.integer(), fc.boolean());
  const metadata = fc.dictionary(fc.oneof(fc.constantFrom('kind', 'n', 'tags'), str), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxKeys: 3 });
  const vector = fc.oneof(
    { arbitrary: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: DIM, maxLength: DIM }), weight: 3 },
    // Duplicates and zero vectors (a zero vector is refused by cosine collections).
    { arbitrary: fc.constantFrom([0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]), weight: 1 },
  );
  const play = fc.record({ id: str, vector, text: str, metadata }, { requiredKeys: ['id', 'vector'] });
  const words = fc.record({ id: str, text: str, metadata }, { requiredKeys: ['id', 'text'] });
  return fc
    .oneof(
      fc.array(play, { minLength: 1, maxLength: 4 }).map((documents) => ({ name: 'play', documents })),
      fc.array(words, { minLength: 1, maxLength: 4 }).map((documents) => ({ name: 'words', documents })),
    )
    .map(({ name, documents }) => ({
      method: 'PUT',
      path: `/v1/collections/${name}/documents`,
      headers: { authorization: `Bearer ${KEYS.play}`, 'content-type': 'application/json' },
      body: JSON.stringify({ documents }),
      label: 'PUT /v1/collections/{name}/documents',
    }));
}

async function send(r: FuzzRequest): Promise<{ status: number; body: string }> {
  try {
    return await sendOnce(r);
  } catch (err) {
    // A kept-alive socket the server closed (e.g. after refusing an unread body) fails the next
    // request on it; Node's documented answer is to retry on a fresh socket. A dead server fails again.
    if ((err as { reused?: boolean }).reused) return sendOnce(r, false);
    throw err;
  }
}

function sendOnce(r: FuzzRequest, reuse = true): Promise<{ status: number; body: string }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers, agent: reuse ? agent : false, timeout: 60_000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 60 s')));
    req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })));
    // Node frames a DELETE or OPTIONS body with neither length nor chunking, which is not HTTP
    // but garbage after the request; give every body its length.
    if (r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD') {
      req.setHeader('content-length', Buffer.byteLength(r.body));
      req.end(r.body);
    } else req.end();
  });
}

const ADMIN = { authorization: `Bearer ${KEYS.admin}` };

/**
 * A write the server said it made reads back unchanged by the same id or name (issue 11: a lone
 * surrogate in an id was stored as three U+FFFD, and the document could not be found again).
 * Returns how many documents or collections were read back.
 */
async function readBack(r: FuzzRequest, status: number): Promise<number> {
  if (status < 200 || status >= 300 || typeof r.body !== 'string') return 0;
  const at = r.path.split('?')[0]!;
  let sent: Json;
  try {
    sent = JSON.parse(r.body);
  } catch {
    return 0;
  }
  if (r.method === 'POST' && /^\/v1\/collections\/?$/i.test(at)) {
    const got = await send({ method: 'GET', path: `/v1/collections/${enc(sent.name)}`, headers: ADMIN, label: 'read back' });
    expect(got.status, `created collection ${JSON.stringify(sent.name)} does not read back: ${got.body.slice(0, 300)}`).toBe(200);
    expect(JSON.parse(got.body).collection.name).toBe(sent.name);
    return 1;
  }
  const m = /^\/v1\/collections\/([^/]+)\/documents\/?$/i.exec(at);
  if (r.method !== 'PUT' || !m) return 0;
  const collection = decodeURIComponent(m[1]!);
  // The last write of an id in the request is the one that stands.
  const last = new Map<string, Json>();
  for (const d of sent.documents as Json[]) last.set(d.id, d);
  for (const [id, d] of last) {
    const got = await send({ method: 'GET', path: `/v1/collections/${enc(collection)}/documents/${enc(id)}`, headers: ADMIN, label: 'read back' });
    const what = `document ${JSON.stringify(id)} written by ${r.method} ${r.path} ${r.body.slice(0, 300)}`;
    expect(got.status, `${what} does not read back: ${got.body.slice(0, 300)}`).toBe(200);
    const doc = JSON.parse(got.body).document;
    expect(doc.id, what).toBe(id);
    if ('text' in d) expect(doc.text, what).toBe(d.text);
    if ('metadata' in d) expect(doc.metadata, what).toEqual(d.metadata);
  }
  return last.size;
}

/** Only these requests may change data; everything else is refused or read-only by key or path. */
function guard(r: FuzzRequest, counts: { backups: number }): FuzzRequest {
  const writes = r.method !== 'GET' && r.method !== 'HEAD' && r.method !== 'OPTIONS';
  const key = r.headers.authorization ?? r.headers['x-api-key'] ?? '';
  if (!key.includes(KEYS.admin) || !writes) return r;
  // The admin key could legitimately delete or change "keep", or the seeded collections the
  // fuzzer needs: there it is swapped for the write key scoped to play|words (which must be refused).
  let decoded = r.path;
  try {
    decoded = decodeURIComponent(r.path);
  } catch {
    // keep the raw path
  }
  const collectionDelete = /^\/v1\/collections\/[^/?]+\/?(\?|$)/i.test(r.path) && r.method === 'DELETE';
  const backup = /admin\/backup/i.test(r.path) && ++counts.backups > 15;
  if (/keep/i.test(decoded) || collectionDelete || backup) {
    const headers = { ...r.headers };
    delete headers.authorization;
    headers['x-api-key'] = KEYS.play;
    return { ...r, headers };
  }
  return r;
}

describe('fuzzing every endpoint', () => {
  it(`answers ${RUNS} generated requests with no 5xx, stays up, and leaves protected data unchanged`, async () => {
    const before = await stateOf('keep');
    const statuses = new Map<number, number>();
    const byRoute = new Map<string, number>();
    const failures: string[] = [];
    const counts = { backups: 0 };
    let readBacks = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: requestArb(), weight: 9 }, { arbitrary: writeArb(), weight: 1 }), async (generated) => {
        const r = guard(generated, counts);
        const res = await send(r);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        byRoute.set(r.label, (byRoute.get(r.label) ?? 0) + 1);
        // This server has no Bedrock: a well-formed /answer request gets the documented 503
        // ANSWER_NOT_CONFIGURED (README, "Answers"), the one 5xx that is an answer, not a fault.
        // It is counted, and the body must say exactly that; any other 5xx fails.
        if (res.status === 503 && r.label === 'POST /v1/collections/{name}/answer') {
          expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'ANSWER_NOT_CONFIGURED' } });
          return;
        }
        if (res.status >= 500) failures.push(`${res.status} ${r.method} ${r.path} ${JSON.stringify(r.headers)} ${String(r.body).slice(0, 300)} → ${res.body.slice(0, 300)}`);
        expect(res.status, `${r.method} ${r.path} ${String(r.body).slice(0, 200)} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
        readBacks += await readBack(r, res.status);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    const count = (lo: number, hi: number) => [...statuses].filter(([k]) => k >= lo && k < hi).reduce((a, [, v]) => a + v, 0);
    console.log(
      `fuzz: ${total} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; 2xx ${count(200, 300)}, 4xx ${count(400, 500)}, 5xx ${count(500, 600)}; ` +
        `${readBacks} writes read back; by status ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; by route ${JSON.stringify(Object.fromEntries(byRoute))}`,
    );
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(RUNS);
    // The round-trip property was exercised, not vacuously true.
    expect(readBacks).toBeGreaterThan(0);
    // Every documented operation was exercised.
    expect([...byRoute.keys()].sort()).toEqual(operations().map((o) => `${o.method} ${o.path}`).sort());

    expect(s.proc.exitCode).toBeNull();
    expect((await s.request('GET', '/healthz')).status).toBe(200);
    expect((await s.request('GET', '/readyz')).status).toBe(200);
    expect(await stateOf('keep')).toEqual(before);
    expect(s.output()).not.toContain('unhandled error');
  }, 300_000);
});
