// Owns 2-D/3-D projection of a collection's document vectors, for drawing a map of the
// collection: PCA (pca.mjs: fast, answered in the request) or UMAP (umap.mjs: keeps
// neighbourhoods, so topics come apart, but takes tens of seconds, so it runs as a job), each in
// a worker thread with a deadline (analysis.ts). Documents with several chunks are placed by
// their mean chunk vector; cosine collections are laid out on unit vectors, where euclidean
// neighbours are cosine neighbours.
import type { Collection } from '../collection/index.js';
import { pcaProject, umapProject } from './analysis.js';
import type { Deadline } from './analysis.js';
import { sampleDocuments } from './cluster.js';

export interface ProjectInput {
  method: 'pca' | 'umap';
  dimensions: 2 | 3;
  filter?: unknown;
  limit: number;
  seed: number;
  /** UMAP: neighbours each document keeps close. */
  neighbours: number;
  /** UMAP: how tightly points may pack (0..1). */
  minDist: number;
  /** Each point carries its document's metadata. */
  includeMetadata: boolean;
}

export interface Point {
  id: string;
  x: number;
  y: number;
  z?: number;
  metadata?: Record<string, unknown>;
}

export interface ProjectResult {
  method: 'pca' | 'umap';
  points: Point[];
  /** PCA: the fraction of the variance each axis holds; UMAP: none (its axes carry no variance). */
  explainedVariance: number[];
  /** Documents that pass the filter (points holds a seeded sample of at most `limit`). */
  total: number;
  seed: number;
}

/** Optimisation rounds of the UMAP layout: fewer for large samples, whose every round costs more. */
export function umapEpochs(n: number): number {
  return n <= 5_000 ? 200 : 120;
}

export async function project(c: Collection, p: ProjectInput, deadline: Deadline): Promise<ProjectResult> {
  const { docs, total } = sampleDocuments(c, c.compileFilter(p.filter), p.limit, p.seed, 0);
  const dims = p.dimensions;
  let coords: Float64Array;
  let explained: number[] = [];
  if (p.method === 'umap') {
    const unit = c.info.metric === 'cosine';
    const rows = docs.map((d) => (unit ? normalised(d.vector) : d.vector));
    coords = await umapProject(rows, { dims, seed: p.seed, neighbours: p.neighbours, minDist: p.minDist, epochs: umapEpochs(docs.length) }, deadline);
  } else {
    // Fewer documents (or distinct directions) than asked for give fewer components; the rest
    // are 0, and so is every coordinate and explained variance of a set with no spread at all.
    const out = await pcaProject(docs.map((d) => d.vector), dims, deadline);
    coords = out.coords;
    explained = out.explained;
  }
  const round = (x: number | undefined) => Math.round((x ?? 0) * 1e6) / 1e6;
  const points = docs.map((d, i) => {
    const pt: Point = { id: d.id, x: round(coords[i * dims]), y: round(coords[i * dims + 1]) };
    if (dims === 3) pt.z = round(coords[i * dims + 2]);
    if (p.includeMetadata) pt.metadata = c.get(d.id)?.metadata ?? {};
    return pt;
  });
  return { method: p.method, points, explainedVariance: explained.map(round), total, seed: p.seed };
}

function normalised(v: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 1;
  return Float64Array.from(v, (x) => x * inv);
}
