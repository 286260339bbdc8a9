// How the server serves Quiver Studio's files (src/api/studio.ts) without a browser: a missing
// build is a 503 page that says how to build it, not a bare 404; only asset names vite writes are
// served, from the assets folder alone; the page and its assets carry the Studio's CSP.
import express from 'express';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteRecord } from '../../src/api/openapi.js';
import { studioRouter } from '../../src/api/studio.js';
import { tempDir } from '../helpers/server.js';

let url: string;
let close: () => void;
let built: string;

beforeAll(async () => {
  const missing = path.join(tempDir(), 'nothing');
  built = tempDir();
  fs.mkdirSync(path.join(built, 'assets'));
  fs.writeFileSync(path.join(built, 'index.html'), '<!doctype html><title>Studio</title>');
  fs.writeFileSync(path.join(built, 'assets', 'index-AbC123.js'), 'export {};');
  fs.writeFileSync(path.join(built, 'secret.txt'), 'not an asset');
  const app = express();
  const routes: RouteRecord[] = [];
  app.use('/missing', studioRouter(routes, missing));
  app.use(studioRouter(routes, built));
  app.use((_req, res) => res.status(404).end());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
  expect(routes.map((r) => `${r.surface} ${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['studio GET /studio', 'studio GET /studio/assets/:file']));
});
afterAll(() => close());

describe('serving the Studio', () => {
  it('answers a missing build with a 503 page that says how to build it', async () => {
    const r = await fetch(`${url}/missing/studio/`);
    expect(r.status).toBe(503);
    const body = await r.text();
    expect(body).toContain('npm run build:studio');
  });

  it('serves the page with its CSP, and /studio redirects to /studio/', async () => {
    const r = await fetch(`${url}/studio/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'self'/);
    expect(await r.text()).toContain('<title>Studio</title>');
    const bare = await fetch(`${url}/studio`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/studio/');
  });

  it('serves hashed assets for a year and nothing outside the assets folder', async () => {
    const r = await fetch(`${url}/studio/assets/index-AbC123.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toContain('immutable');
    for (const p of ['/studio/assets/..%2Fsecret.txt', '/studio/assets/secret.txt', '/studio/assets/.hidden.js', '/studio/assets/missing-1.js']) {
      expect((await fetch(`${url}${p}`)).status, p).toBe(404);
    }
  });
});
