// Chroma's collection routes. A Chroma collection is a Quiver collection under its catalog UUID
// (storage CollectionCatalog): Quiver's own collections are listed too, and one Chroma creates
// stays pending until its first add fixes the dimension (records.ts materialises it). The path's
// :collection_id is a UUID for record routes and a name for get/delete of a collection
// (as the chromadb client sends them): both are looked up.
import type { Request, Response, Router } from 'express';
import type { Collection } from '../../collection/index.js';
import { createError } from '../../errors/index.js';
import type { CatalogEntry, CollectionCatalog } from '../../storage/index.js';
import { canSeeCollection } from '../auth.js';
import type { RouteContext } from '../context.js';
import { parse } from '../errors.js';
import * as s from './schemas.js';
import { checkNamespace, pathParam } from './system.js';
import type { ChromaAttributes } from './views.js';
import { chromaAttributes, collectionView } from './views.js';

export const DB = '/tenants/:tenant/databases/:database';

/** The catalog entry a path names, by UUID first, then by name. */
export function findEntry(catalog: CollectionCatalog, raw: string): CatalogEntry | undefined {
  return catalog.byUuid(raw) ?? catalog.byName(raw);
}

/** The entry of the path's :collection_id (after checking :tenant and :database), or 404. */
export function entryOf(req: Request, catalog: CollectionCatalog): CatalogEntry {
  checkNamespace(pathParam(req, 'tenant'), pathParam(req, 'database'));
  const raw = pathParam(req, 'collection_id');
  const entry = findEntry(catalog, raw);
  if (!entry) throw createError('COLLECTION_NOT_FOUND', { name: raw });
  return entry;
}

function spaceOf(body: { configuration?: { hnsw?: { space?: string | null } | null; spann?: { space?: string | null } | null } | null; metadata?: s.ChromaMetadata | null }) {
  const fromMetadata = body.metadata?.['hnsw:space'];
  const space = body.configuration?.hnsw?.space ?? body.configuration?.spann?.space ?? fromMetadata ?? 'l2';
  if (space !== 'l2' && space !== 'cosine' && space !== 'ip') {
    throw createError('VALIDATION_FAILED', { issues: [{ field: 'metadata.hnsw:space', message: 'expected "l2", "cosine" or "ip"' }] });
  }
  return space;
}

export function collectionRoutes(router: Router, { config, catalog, collections, json, requireJson }: RouteContext): void {
  const stored = (entry: CatalogEntry): Collection | undefined => (entry.stored ? collections.find(entry.name) : undefined);
  const view = (req: Request, entry: CatalogEntry) => collectionView(req, config, entry, stored(entry));
  const visible = (res: Response) => catalog.list().filter((e) => canSeeCollection(res, e.name));

  router.get(`${DB}/collections`, (req, res) => {
    checkNamespace(pathParam(req, 'tenant'), pathParam(req, 'database'));
    const q = parse(s.listQuery, req.query);
    const offset = q.offset ?? 0;
    const entries = visible(res).slice(offset, q.limit === undefined ? undefined : offset + q.limit);
    res.json(entries.map((e) => view(req, e)));
  });
  router.get(`${DB}/collections_count`, (req, res) => {
    checkNamespace(pathParam(req, 'tenant'), pathParam(req, 'database'));
    res.json(visible(res).length);
  });

  router.post(`${DB}/collections`, requireJson, json, (req, res) => {
    checkNamespace(pathParam(req, 'tenant'), pathParam(req, 'database'));
    const body = parse(s.createCollectionBody, req.body);
    const existing = catalog.byName(body.name);
    if (existing) {
      if (!body.get_or_create) throw createError('COLLECTION_EXISTS', { name: body.name });
      res.json(view(req, existing));
      return;
    }
    const attributes: ChromaAttributes = { metadata: body.metadata ?? null, configuration: (body.configuration ?? null), space: spaceOf(body) };
    const entry = catalog.announce(body.name, { chroma: attributes });
    // Taken between the look-up and the announcement: by another create of the same name.
    if (!entry) throw createError('COLLECTION_EXISTS', { name: body.name });
    res.json(view(req, entry));
  });

  router.get(`${DB}/collections/by-id/:collection_id`, (req, res) => {
    const entry = entryOf(req, catalog);
    res.json(view(req, entry));
  });
  router.get(`${DB}/collections/:collection_id`, (req, res) => {
    res.json(view(req, entryOf(req, catalog)));
  });

  router.put(`${DB}/collections/:collection_id`, requireJson, json, (req, res) => {
    const entry = entryOf(req, catalog);
    const body = parse(s.updateCollectionBody, req.body);
    if (body.new_name != null && body.new_name !== entry.name) {
      throw createError('VALIDATION_FAILED', { issues: [{ field: 'new_name', message: 'renaming a collection is not supported by Quiver' }] });
    }
    const a = chromaAttributes(entry.surface);
    const next: ChromaAttributes = { ...a };
    if (body.new_metadata != null) next.metadata = body.new_metadata;
    const ef = body.new_configuration?.embedding_function;
    if (ef !== undefined) next.configuration = { ...(a.configuration ?? {}), embedding_function: ef };
    if (!catalog.setSurface(entry.uuid, { ...entry.surface, chroma: next })) throw createError('COLLECTION_NOT_FOUND', { name: entry.name });
    res.json({});
  });

  router.delete(`${DB}/collections/:collection_id`, async (req, res) => {
    const entry = entryOf(req, catalog);
    if (entry.stored) await collections.delete(entry.name);
    else if (!catalog.withdraw(entry.uuid)) throw createError('COLLECTION_NOT_FOUND', { name: entry.name });
    res.json({});
  });
}
