// Serves Quiver Studio (issue 15): the page and its hashed assets, built by scripts/build-studio.mjs
// (run by `prepare`) into dist/studio. The page and its assets carry no data (access.ts: public);
// every datum comes from the API with the key the person types in. No CDN: the page loads only
// what this server serves. Without a build, /studio answers 503 with a page saying how to build it
// instead of a bare 404.
import express from 'express';
import type { Router } from 'express';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordRoutes } from './openapi.js';
import type { RouteRecord } from './openapi.js';

export const STUDIO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'studio');

/** Asset names vite writes: a name, a content hash, an extension; nothing else is served. */
const ASSET = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.(js|css|svg|woff2)$/;

/**
 * The Studio's CSP: helmet's default, plus workers from this origin (the map's projection worker)
 * and canvas images read back by the page itself (blob:, for exporting the map).
 */
const STUDIO_CSP = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quiver Studio is not built</title></head>
<body><main><h1>Quiver Studio is not built</h1>
<p>The server found no <code>dist/studio/index.html</code>. <code>npm ci</code> builds it (the
<code>prepare</code> script); to build it by hand run <code>npm run build:studio</code> and reload this page.
An image installed with <code>--omit=dev</code> has no vite to build it with.</p>
<p>The API works without it: <a href="/docs">/docs</a>.</p></main></body></html>`;

/** The Studio's routes on their own recorded router (surface "studio": not part of the API document). */
export function studioRouter(routes: RouteRecord[], dir = STUDIO_DIR): Router {
  const router = recordRoutes(express.Router({ caseSensitive: false }), '', routes, 'studio');
  router.get('/studio', (req, res) => {
    // Relative links in the page resolve against /studio/, as vite's base says.
    if (!req.path.endsWith('/')) {
      res.redirect(301, '/studio/');
      return;
    }
    res.setHeader('content-security-policy', STUDIO_CSP);
    res.setHeader('cache-control', 'no-cache');
    const index = path.join(dir, 'index.html');
    let html: string;
    try {
      html = fs.readFileSync(index, 'utf8');
    } catch {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.type('html').send(html);
  });
  router.get('/studio/assets/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (!ASSET.test(file)) {
      next();
      return;
    }
    res.setHeader('content-security-policy', STUDIO_CSP);
    // Names carry a content hash: a new build is a new name.
    res.sendFile(path.join(dir, 'assets', file), { maxAge: '365d', immutable: true, dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) next();
    });
  });
  return router;
}
