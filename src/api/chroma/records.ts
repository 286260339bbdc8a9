// Chroma's record routes: add, upsert, update, get, query, delete, count, on the collection the
// path's UUID names. Records are Quiver documents (one vector each: Chroma collections are
// written with chunking "none" and every record carries its embedding); Chroma's semantics kept:
// add ignores ids that exist, update ignores ids that do not, update and upsert of an existing
// record change only the fields given and merge metadata (a null value deletes the key).
import type { Request, Response, Router } from 'express';
import type { Collection } from '../../collection/index.js';
import type { ChunkingSpec, DocumentInput, Metadata } from '../../domain/types.js';
import { QuiverError, createError } from '../../errors/index.js';
import { search } from '../../query/index.js';
import type { CatalogEntry } from '../../storage/index.js';
import type { RouteContext } from '../context.js';
import { parse } from '../errors.js';
import { DB, entryOf } from './collections.js';
import * as s from './schemas.js';
import type { ChromaMetadata } from './schemas.js';
import { chromaAttributes, distance, metadataView } from './views.js';
import { compileSelector, selectorFilter } from './where.js';

/** One record, one chunk, one vector. */
const NO_CHUNKING: ChunkingSpec = { strategy: 'none', unit: 'chars', max: 0, overlap: 0 };
/** A get without a limit returns at most this many records. */
const MAX_GET = 100_000;

function issue(field: string, message: string): QuiverError {
  return createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

/** Metadata without its null values (which mean "no value"), merged over `base` when given. */
function mergeMetadata(base: Metadata | undefined, given: ChromaMetadata | null | undefined): Metadata | undefined {
  if (given == null) return base;
  const out: Metadata = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(given)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

type Include = s.IncludeField;

export function recordRoutes(router: Router, { config, catalog, collections, json, requireJson }: RouteContext): void {
  const maxBatch = config.maxDocumentsPerRequest;
  const addSchema = s.recordsBody(maxBatch, false);
  const updateSchema = s.recordsBody(maxBatch, true);
  /** Materialisations under way, by UUID: concurrent first adds make the collection once. */
  const making = new Map<string, Promise<Collection>>();

  async function open(entry: CatalogEntry): Promise<Collection | undefined> {
    const underway = making.get(entry.uuid);
    if (underway) return underway;
    return entry.stored ? collections.get(entry.name) : undefined;
  }

  /** A pending collection becomes a Quiver collection (no model, chunking none) with the dimension of its first vectors. */
  function materialise(entry: CatalogEntry, dimension: number): Promise<Collection> {
    const underway = making.get(entry.uuid);
    if (underway) return underway;
    const made = (async () => {
      try {
        return await collections.create({
          name: entry.name,
          metric: chromaAttributes(entry.surface).space ?? 'l2',
          embedder: { provider: 'none' },
          dimension,
          chunking: NO_CHUNKING,
          uuid: entry.uuid,
        });
      } catch (err) {
        // The pending collection was deleted meanwhile (or its name taken by another): it is gone.
        if (err instanceof QuiverError && err.code === 'COLLECTION_EXISTS') throw createError('COLLECTION_NOT_FOUND', { name: entry.name });
        throw err;
      }
    })();
    making.set(entry.uuid, made);
    void made.then(
      () => making.delete(entry.uuid),
      () => making.delete(entry.uuid),
    );
    return made;
  }

  /** The collection to write to, materialised from the batch's first vector when pending. */
  async function writable(req: Request, embeddings: (number[] | null)[] | null | undefined): Promise<Collection | undefined> {
    const entry = entryOf(req, catalog);
    const c = await open(entry);
    if (c) return c;
    const first = embeddings?.find((e): e is number[] => e != null);
    if (!first) return undefined;
    embeddings!.forEach((e, i) => {
      if (e != null && e.length !== first.length) throw issue(`embeddings.${i}`, `has ${e.length} dimensions but embeddings.0 has ${first.length}`);
    });
    return materialise(entry, first.length);
  }

  function checkEmbeddings(c: Collection, embeddings: (number[] | null)[] | null | undefined, field = 'embeddings'): void {
    embeddings?.forEach((e, i) => {
      if (e != null) c.checkVector(e, `${field}.${i}`);
    });
  }

  router.post(`${DB}/collections/:collection_id/add`, requireJson, json, async (req, res) => {
    const body = parse(addSchema, req.body);
    const c = (await writable(req, body.embeddings))!;
    checkEmbeddings(c, body.embeddings);
    // Chroma ignores records whose id exists.
    const inputs: DocumentInput[] = [];
    body.ids.forEach((id, i) => {
      if (c.get(id)) return;
      inputs.push({ id, text: body.documents?.[i] ?? undefined, vector: body.embeddings?.[i] ?? undefined, metadata: mergeMetadata(undefined, body.metadatas?.[i]) });
    });
    if (inputs.length > 0) await c.write(inputs, { onError: 'reject-batch', chunking: NO_CHUNKING });
    res.status(201).json({});
  });

  /** upsert and update: an existing record keeps what the request does not give. */
  const change = (upsert: boolean) => async (req: Request, res: Response) => {
    const body = parse(upsert ? addSchema : updateSchema, req.body);
    const c = await writable(req, body.embeddings);
    if (!c) {
      // Nothing to update in a collection with no records yet.
      if (!upsert) return void res.json({});
      throw issue('embeddings', 'required');
    }
    checkEmbeddings(c, body.embeddings);
    const inputs: DocumentInput[] = [];
    body.ids.forEach((id, i) => {
      const old = c.get(id);
      const text = body.documents?.[i] ?? undefined;
      const vector = body.embeddings?.[i] ?? undefined;
      if (!old) {
        if (!upsert) return; // Chroma ignores updates of ids that do not exist
        inputs.push({ id, text, vector, metadata: mergeMetadata(undefined, body.metadatas?.[i]) });
        return;
      }
      const keepVector = vector === undefined && text === undefined && !c.hasModel ? (c.vectorOf(old) ?? undefined) : undefined;
      inputs.push({
        id,
        text: text ?? old.text ?? undefined,
        vector: vector ?? (keepVector && Array.from(keepVector)),
        metadata: mergeMetadata(old.metadata, body.metadatas?.[i]) ?? old.metadata,
      });
    });
    inputs.forEach((d, i) => {
      if (d.vector === undefined && !c.hasModel) throw issue(`embeddings.${i}`, `required: collection "${c.name}" has no embedding model (Chroma clients embed on their side)`);
    });
    if (inputs.length > 0) await c.write(inputs, { onError: 'reject-batch' });
    res.json({});
  };
  router.post(`${DB}/collections/:collection_id/upsert`, requireJson, json, change(true));
  router.post(`${DB}/collections/:collection_id/update`, requireJson, json, change(false));

  function columns(c: Collection, ids: string[], include: Include[]) {
    const docs = ids.map((id) => c.get(id));
    const has = (f: Include) => include.includes(f);
    return {
      documents: has('documents') ? docs.map((d) => d?.text ?? null) : null,
      metadatas: has('metadatas') ? docs.map((d) => (d ? metadataView(d.metadata) : null)) : null,
      embeddings: has('embeddings') ? docs.map((d) => { const v = d && c.vectorOf(d); return v ? Array.from(v) : null; }) : null,
      uris: has('uris') ? ids.map(() => null) : null,
    };
  }

  router.post(`${DB}/collections/:collection_id/get`, requireJson, json, async (req, res) => {
    const body = parse(s.getBody, req.body);
    const c = await open(entryOf(req, catalog));
    if (!c) {
      const none = body.include.includes('documents') ? [] : null;
      res.json({ ids: [], documents: none, metadatas: body.include.includes('metadatas') ? [] : null, embeddings: body.include.includes('embeddings') ? [] : null, uris: body.include.includes('uris') ? [] : null, include: body.include });
      return;
    }
    const filter = compileSelector(c, body);
    const docs = c.slice(body.offset ?? 0, Math.min(body.limit ?? MAX_GET, MAX_GET), filter);
    const ids = docs.map((d) => d.id);
    res.json({ ids, ...columns(c, ids, body.include), include: body.include });
  });

  router.post(`${DB}/collections/:collection_id/query`, requireJson, json, async (req, res) => {
    const body = parse(s.queryBody, req.body);
    const c = await open(entryOf(req, catalog));
    const has = (f: Include) => body.include.includes(f);
    const out = { ids: [] as string[][], distances: [] as number[][], documents: [] as unknown[][], metadatas: [] as unknown[][], embeddings: [] as unknown[][], uris: [] as unknown[][] };
    if (c) {
      checkEmbeddings(c, body.query_embeddings, 'query_embeddings');
      const filter = selectorFilter(c, body);
      for (const vector of body.query_embeddings) {
        const r = await search(c, { vector, k: body.n_results, include: [], filter, mode: 'vector' });
        const ids = r.hits.map((h) => h.documentId);
        const cols = columns(c, ids, body.include);
        out.ids.push(ids);
        out.distances.push(r.hits.map((h) => distance(c.info.metric, h.score)));
        out.documents.push(cols.documents ?? []);
        out.metadatas.push(cols.metadatas ?? []);
        out.embeddings.push(cols.embeddings ?? []);
        out.uris.push(cols.uris ?? []);
      }
    } else for (const _ of body.query_embeddings) for (const list of Object.values(out)) list.push([]);
    res.json({
      ids: out.ids,
      distances: has('distances') ? out.distances : null,
      documents: has('documents') ? out.documents : null,
      metadatas: has('metadatas') ? out.metadatas : null,
      embeddings: has('embeddings') ? out.embeddings : null,
      uris: has('uris') ? out.uris : null,
      include: body.include,
    });
  });

  router.post(`${DB}/collections/:collection_id/delete`, requireJson, json, async (req, res) => {
    const body = parse(s.deleteBody, req.body);
    if (body.ids == null && body.where == null && body.where_document == null) throw issue('ids', 'give ids, where or where_document (delete the collection to remove every record)');
    if (body.limit != null && body.where == null && body.where_document == null) throw issue('limit', 'only with where or where_document');
    const c = await open(entryOf(req, catalog));
    if (!c) return void res.json({ deleted: 0 });
    let filter = compileSelector(c, body);
    // {"where": {}} alone selects every record: refused, as no selector is.
    if (filter === undefined) throw issue('where', 'selects every record; delete the collection to remove every record');
    if (body.limit != null) {
      const ids = c.slice(0, body.limit, filter).map((d) => d.id);
      if (ids.length === 0) return void res.json({ deleted: 0 });
      filter = compileSelector(c, { ids });
    }
    res.json({ deleted: await c.deleteWhere(filter) });
  });

  router.get(`${DB}/collections/:collection_id/count`, async (req, res) => {
    const c = await open(entryOf(req, catalog));
    res.json(c ? c.documentCount() : 0);
  });
}
