// Routes for collections: Qdrant's collections and Quiver's are the same ones, so a collection
// made through /v1 shows up here with its size and distance. A collection made here has no
// embedding model (clients, or a {text, model} document, give the vectors) and no chunking: one
// point is one document with one vector.
import type { Router } from 'express';
import type { Collection } from '../../collection/index.js';
import type { Metric } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import { canSeeCollection } from '../auth.js';
import type { RouteContext } from '../context.js';
import { parse } from '../errors.js';
import { QDRANT_API_VERSION, ok } from './reply.js';
import * as s from './schemas.js';

const TO_METRIC: Record<'Cosine' | 'Euclid' | 'Dot', Metric> = { Cosine: 'cosine', Euclid: 'l2', Dot: 'ip' };
const TO_DISTANCE: Record<Metric, string> = { cosine: 'Cosine', l2: 'Euclid', ip: 'Dot' };

export function nameOf(raw: unknown): string {
  return parse(s.collectionName, raw, 'path.collection_name');
}

async function info(c: Collection): Promise<Record<string, unknown>> {
  const stats = await c.stats();
  const points = c.documentCount();
  return {
    status: 'green',
    optimizer_status: 'ok',
    indexed_vectors_count: stats.size,
    points_count: points,
    segments_count: 1,
    config: {
      params: {
        vectors: { size: c.info.dimension, distance: TO_DISTANCE[c.info.metric] },
        shard_number: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: true,
      },
      hnsw_config: { m: c.info.hnsw.m, ef_construct: c.info.hnsw.efConstruction, full_scan_threshold: 10_000, max_indexing_threads: 0, on_disk: false },
      optimizer_config: {
        deleted_threshold: 0.2,
        vacuum_min_vector_number: 1000,
        default_segment_number: 1,
        max_segment_size: null,
        memmap_threshold: null,
        indexing_threshold: 0,
        flush_interval_sec: 0,
        max_optimization_threads: null,
      },
      wal_config: { wal_capacity_mb: 0, wal_segments_ahead: 0 },
      quantization_config: null,
    },
    // Every payload key is indexed (metadata_values), whatever its type: there is no schema to list.
    payload_schema: {},
  };
}

export function collectionRoutes(r: Router, { collections, json, requireJson }: RouteContext): void {
  r.get('/', (_req, res) => {
    // Honest about what answers: Quiver, speaking this version of Qdrant's API.
    res.json({ title: 'quiver (Qdrant REST API subset)', version: QDRANT_API_VERSION, commit: null });
  });
  r.get('/collections', (_req, res) => {
    ok(res, { collections: collections.list().filter((c) => canSeeCollection(res, c.name)).map((c) => ({ name: c.name })) });
  });
  r.get('/collections/:name', async (req, res) => {
    ok(res, await info(collections.get(nameOf(req.params.name))));
  });
  r.get('/collections/:name/exists', (req, res) => {
    ok(res, { exists: collections.find(nameOf(req.params.name)) !== undefined });
  });
  r.put('/collections/:name', requireJson, json, async (req, res) => {
    const name = nameOf(req.params.name);
    const body = parse(s.createCollectionBody, req.body ?? {});
    const refuse = (field: string, message: string): never => {
      throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
    };
    if (body.vectors === undefined || body.vectors === null) refuse('vectors', 'required: {"size": n, "distance": "Cosine" | "Euclid" | "Dot"}');
    if (typeof body.vectors === 'object' && body.vectors !== null && !Array.isArray(body.vectors) && !('size' in body.vectors)) {
      refuse('vectors', 'named vectors are not supported: give one {"size", "distance"}');
    }
    const v = parse(s.vectorParams, body.vectors, 'vectors');
    if (v.distance === 'Manhattan') refuse('vectors.distance', 'Manhattan is not supported (Quiver has Cosine, Euclid and Dot)');
    if (v.datatype !== undefined && v.datatype !== null && v.datatype !== 'float32') refuse('vectors.datatype', 'only float32 vectors are supported');
    if (v.multivector_config !== undefined && v.multivector_config !== null) refuse('vectors.multivector_config', 'multi-vectors are not supported');
    if (body.sparse_vectors && Object.keys(body.sparse_vectors).length > 0) refuse('sparse_vectors', 'sparse vectors are not supported');
    if (body.sharding_method === 'custom') refuse('sharding_method', 'custom sharding is not supported');
    const metric = TO_METRIC[v.distance as keyof typeof TO_METRIC];
    const hnsw = { ...body.hnsw_config, ...v.hnsw_config };
    await collections.create({
      name,
      metric,
      embedder: { provider: 'none' },
      dimension: v.size,
      chunking: { strategy: 'none', unit: 'chars', max: 0, overlap: 0 },
      hnsw: { m: hnsw.m ?? undefined, efConstruction: hnsw.ef_construct ?? undefined },
    });
    ok(res, true);
  });
  r.delete('/collections/:name', async (req, res) => {
    const name = nameOf(req.params.name);
    if (collections.find(name) === undefined) {
      ok(res, false);
      return;
    }
    await collections.delete(name);
    ok(res, true);
  });
  // Quiver indexes every payload key of every point already (metadata_values): creating or
  // dropping a payload index changes nothing, and says so by completing at once.
  r.put('/collections/:name/index', requireJson, json, (req, res) => {
    collections.get(nameOf(req.params.name));
    ok(res, { operation_id: null, status: 'completed' });
  });
  r.delete('/collections/:name/index/:field', (req, res) => {
    collections.get(nameOf(req.params.name));
    ok(res, { operation_id: null, status: 'completed' });
  });
}
