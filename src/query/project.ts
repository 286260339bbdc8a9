// Owns 2-D/3-D projection of a collection's document vectors (PCA: pca.mjs, in a worker thread
// with a deadline, see analysis.ts), for drawing a map of the collection. Documents with several
// chunks are placed by their mean chunk vector.
import type { Collection } from '../collection/index.js';
import { pcaProject } from './analysis.js';
import type { Deadline } from './analysis.js';
import { sampleDocuments } from './cluster.js';

export interface ProjectInput {
  method: 'pca';
  dimensions: 2 | 3;
  filter?: unknown;
  limit: number;
  seed: number;
}

export interface Point {
  id: string;
  x: number;
  y: number;
  z?: number;
}

export async function project(c: Collection, p: ProjectInput, deadline: Deadline): Promise<{ points: Point[]; explainedVariance: number[]; total: number }> {
  const { docs, total } = sampleDocuments(c, c.compileFilter(p.filter), p.limit, p.seed, 0);
  // Fewer documents (or distinct directions) than asked for give fewer components; the rest are
  // 0, and so is every coordinate and explained variance of a set with no spread at all.
  const dims = p.dimensions;
  const { coords, explained } = await pcaProject(docs.map((d) => d.vector), dims, deadline);
  const round = (x: number | undefined) => Math.round((x ?? 0) * 1e6) / 1e6;
  const points = docs.map((d, i) => {
    const pt: Point = { id: d.id, x: round(coords[i * dims]), y: round(coords[i * dims + 1]) };
    if (dims === 3) pt.z = round(coords[i * dims + 2]);
    return pt;
  });
  return { points, explainedVariance: explained.map(round), total };
}
