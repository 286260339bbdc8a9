// The API description: every route the app registers is in the OpenAPI document and every
// documented operation is a registered route; the served document is valid 3.1 in shape, names
// its path parameters, and /docs renders it without anything from another origin.
import crypto from 'node:crypto';
import path from 'node:path';
import vm from 'node:vm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteRecord } from '../../src/api/openapi.js';
import { ACCESS_TABLE, ruleFor } from '../../src/api/access.js';
import { surfaceOf } from '../../src/api/surfaces.js';
import { loadConfig } from '../../src/config/index.js';
import { createQuiver } from '../../src/server.js';
import type { Quiver } from '../../src/server.js';
import { TestServer, tempDir } from '../helpers/server.js';
import type { Json } from '../helpers/server.js';

let s: TestServer;
let doc: Json;
let registered: string[];
let all: RouteRecord[];
let layerCount: number;
let quiver: Quiver;

/** Express's own router stack, for a count independent of the recorder (express 5 / router 2). */
interface Layer {
  route?: { methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}
const countRoutes = (stack: Layer[]): number =>
  stack.reduce((n, l) => n + (l.route ? Object.keys(l.route.methods).filter((m) => m !== '_all').length : l.handle?.stack ? countRoutes(l.handle.stack) : 0), 0);
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none' } });
  doc = (await s.request('GET', '/openapi.json')).body;
  // The app as main.ts builds it, in this process, to read the routes it registers.
  quiver = createQuiver(loadConfig({ QUIVER_DATA_DIR: path.join(tempDir(), 'd'), QUIVER_EMBEDDER: 'none' }), pino({ level: 'silent' }));
  const app = quiver.app;
  layerCount = countRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack);
  all = app.locals.routes as RouteRecord[];
  // Quiver's own document describes its own surface and the OpenAI embeddings routes beside it;
  // the Chroma and Qdrant surfaces are described by their own tests.
  registered = all.filter((r) => r.surface === 'quiver' || r.surface === 'openai').map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
});
afterAll(async () => {
  await s.stop();
  await quiver.lifecycle.close();
});

const operations = (d: Json): string[] =>
  Object.entries(d.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));

describe('OpenAPI document', () => {
  it('documents every registered route, and documents nothing that is not registered', () => {
    expect(registered.length).toBeGreaterThan(10);
    expect(new Set(registered).size).toBe(registered.length);
    // Every route in express's stack was seen by the recorder (routes go through app.get/post/...
    // or a router made with recordRoutes in app.ts; one that bypasses it fails here).
    expect(layerCount, 'routes registered around recordRoutes (see src/api/app.ts)').toBe(all.length);
    const documented = operations(doc);
    expect(registered.filter((r) => !documented.includes(r)), 'registered but not documented').toEqual([]);
    expect(documented.filter((d) => !registered.includes(d)), 'documented but not registered').toEqual([]);
  });

  it('gives every registered route of every surface a rule in the access table, and the table no rule without a route', () => {
    const missing = all.filter((r) => ruleFor(r.method, r.path) === undefined).map((r) => `${r.surface}: ${r.method} ${r.path}`);
    expect(missing, 'routes without a rule in src/api/access.ts').toEqual([]);
    const key = (method: string, p: string) => `${method} ${p.toLowerCase()}`;
    const served = new Set(all.map((r) => key(r.method, r.path)));
    // A surface not built yet registers nothing: its rules wait for it.
    const built = new Set(all.map((r) => r.surface));
    const dead = ACCESS_TABLE.filter((r) => built.has(surfaceOf(r.path).name) && !served.has(key(r.method, r.path))).map((r) => `${r.method} ${r.path}`);
    expect(dead, 'rules in src/api/access.ts for routes nobody registers').toEqual([]);
  });

  it('is OpenAPI 3.1 with every path parameter declared and every operation answering', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Quiver');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      const names = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? []).filter((x: Json) => x.in === 'path').map((x: Json) => x.name);
        expect(declared.sort(), `${method} ${p}`).toEqual([...names].sort());
        expect(Object.keys(op.responses).length, `${method} ${p}`).toBeGreaterThan(0);
      }
    }
  });

  it('describes request bodies from the validating zod schemas', () => {
    const create = doc.paths['/v1/collections'].post.requestBody.content['application/json'].schema;
    expect(create.properties.name.pattern).toBe('^[A-Za-z0-9_-]{1,64}$');
    expect(create.properties.metric.enum).toEqual(['cosine', 'l2', 'ip']);
    expect(create.additionalProperties).toBe(false);
    const query = doc.paths['/v1/collections/{name}/query'].post.requestBody.content['application/json'].schema;
    expect(query.properties.k).toMatchObject({ minimum: 1, maximum: 1000 });
  });
});

describe('/docs', () => {
  it('renders the document with its one inline script allowed by hash, and nothing from another origin', async () => {
    const r = await fetch(`${s.url}/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    const html = await r.text();
    expect(html).toContain("fetch('/openapi.json')");
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const hash = crypto.createHash('sha256').update(script).digest('base64');
    expect(r.headers.get('content-security-policy')).toContain(`'sha256-${hash}'`);

    // Run the page's script against the served document with a minimal DOM: one <details> per operation.
    interface Node {
      tag: string;
      text?: string;
      children: Node[];
      append(...n: Node[]): void;
      textContent?: string;
      className?: string;
    }
    const make = (tag: string): Node => {
      const n: Node = { tag, children: [], append: (...c: Node[]) => n.children.push(...c) };
      return n;
    };
    const root = make('div');
    const fakeDocument = { title: '', createElement: make, getElementById: () => root };
    const fakeFetch = () => Promise.resolve({ json: () => Promise.resolve(doc) });
    // The script's value is its fetch(...) promise chain.
    await (vm.runInNewContext(script, { fetch: fakeFetch, document: fakeDocument }) as Promise<void>);
    expect(root.children.filter((c) => c.tag === 'details')).toHaveLength(operations(doc).length);
    expect(fakeDocument.title).toBe('Quiver API');
  });
});
