// USE-lite ({provider: "local", model: "use-lite"}) through the HTTP API, with the server unable to
// open any network connection: its weights must come from node_modules.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, tempDir } from '../helpers/server.js';

// Preloaded into the server and (through NODE_OPTIONS) every worker thread: a TCP or TLS
// connection, an HTTP(S) request or a fetch throws. Unix sockets stay open (tsx talks over one).
const NO_NETWORK = `
const net = require('node:net'), tls = require('node:tls'), http = require('node:http'), https = require('node:https');
const { isMainThread, workerData } = require('node:worker_threads');
const refuse = (what) => { const e = new Error('NETWORK BLOCKED: ' + what); process.stderr.write(e.stack + '\\n'); throw e; };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const a = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof a === 'string' || (a && typeof a === 'object' && typeof a.path === 'string')) return connect.apply(this, args);
  return refuse('connect ' + JSON.stringify(a));
};
tls.connect = () => refuse('tls.connect');
for (const m of [http, https]) { m.request = () => refuse('http request'); m.get = () => refuse('http get'); }
globalThis.fetch = (url) => refuse('fetch ' + url);
if (!isMainThread && workerData && workerData.modelId) process.stderr.write('[no-network] worker for ' + workerData.modelId + '\\n');
`;

const DOCS = [
  { id: 'account', text: 'If you forgot how to sign in, we can email you a link to get back into your account.' },
  { id: 'shipping', text: 'Orders usually arrive within three to five business days after they ship.' },
  { id: 'refund', text: 'You can return any item within thirty days and we will give your money back.' },
  { id: 'rates', text: 'The central bank raised interest rates by half a point to fight inflation.' },
  { id: 'weather', text: 'Expect heavy rain and strong winds across the coast tomorrow morning.' },
  { id: 'picnic', text: 'We had a picnic on the grassy bank of the river and watched the boats go by.' },
];
// Paraphrases sharing no content word with their document: only the sentence's meaning links
// them. The built-in static model ranked "shipping" third and "refund" second for these queries
// (behind "account", which sits near everything in an average of word vectors); USE-lite ranks
// each first with a clear margin.
const QUERIES: [string, string][] = [
  ['how long does delivery take', 'shipping'],
  ['how do I get a refund for something I bought', 'refund'],
  ['borrowing is getting more expensive', 'rates'],
  ['will it be stormy tomorrow', 'weather'],
];

let s: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  const preload = path.join(tempDir('quiver-no-network-'), 'no-network.cjs');
  fs.writeFileSync(preload, NO_NETWORK);
  env = { NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${preload}`].filter(Boolean).join(' ') };
  s = await TestServer.start({ process: true, env });
}, 120_000);
afterAll(async () => {
  await s.stop();
});

async function topHit(text: string): Promise<string> {
  const r = await s.request('POST', '/v1/collections/faq/query', { text, k: 3, mode: 'vector' });
  expect(r.status).toBe(200);
  return r.body.hits[0].id;
}

describe('use-lite through HTTP', () => {
  it('creates a 512-d collection and ranks paraphrases by meaning, with no network', async () => {
    const c = await s.request('POST', '/v1/collections', { name: 'faq', embedder: { provider: 'local', model: 'use-lite' } });
    expect(c.status).toBe(201);
    expect(c.body.collection).toMatchObject({ dimension: 512, embedder: { provider: 'local', model: 'use-lite' } });
    expect((await s.request('GET', '/v1/collections/faq')).body.collection.dimension).toBe(512);
    const put = await s.request('PUT', '/v1/collections/faq/documents', { documents: DOCS });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ created: DOCS.length, embedded: DOCS.length, not_embedded: [] });
    const doc = await s.request('GET', '/v1/collections/faq/documents/shipping?include=vector');
    expect(doc.body.document.vector).toHaveLength(512);
    for (const [text, expected] of QUERIES) expect(await topHit(text), `"${text}" should find ${expected}`).toBe(expected);
    // The model ran in a worker thread that had the network cut off, and never reached for it.
    await s.waitForOutput('[no-network] worker for use-lite');
    expect(s.output()).not.toContain('NETWORK BLOCKED');
  });

  it('stores text of only characters it does not know without a vector, and says so for a query', async () => {
    const r = await s.request('PUT', '/v1/collections/faq/documents', { documents: [{ id: 'zh', text: '你好，世界' }, { id: 'emoji', text: '😀🎉' }] });
    expect(r.status).toBe(200);
    expect(r.body.not_embedded).toEqual(['zh', 'emoji']);
    const q = await s.request('POST', '/v1/collections/faq/query', { text: '发货要多久', k: 3, mode: 'vector' });
    expect(q.status).toBe(200);
    expect(q.body.hits).toEqual([]);
    expect(q.body.warning).toContain('no words the model knows');
  });

  it(
    'loads the model at start-up for an existing use-lite collection after a restart',
    async () => {
      await s.stop();
      s = await TestServer.start({ process: true, dataDir: s.dataDir, env });
      // Ready means loaded: the log says so before any request has asked for the model.
      await s.waitForOutput(/"model":"use-lite","dimensions":512[^\n]*"msg":"embedding model loaded"/);
      expect((await s.request('GET', '/v1/collections/faq')).body.collection).toMatchObject({ dimension: 512, document_count: DOCS.length + 2 });
      for (const [text, expected] of QUERIES) expect(await topHit(text), `"${text}" should find ${expected}`).toBe(expected);
      // New text is embedded by the reloaded model, into the same space.
      const put = await s.request('PUT', '/v1/collections/faq/documents', { documents: [{ id: 'cancel', text: 'To stop your monthly plan, open settings and choose end membership.' }] });
      expect(put.body).toMatchObject({ created: 1, embedded: 1 });
      expect(await topHit('how do I end my subscription')).toBe('cancel');
      expect(s.output()).not.toContain('NETWORK BLOCKED');
    },
    180_000,
  );
});
