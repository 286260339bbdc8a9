// Owns 2-D/3-D projection of a collection's document vectors (PCA, ml-pca), for drawing a map
// of the collection. Documents with several chunks are placed by their mean chunk vector.
import { PCA } from 'ml-pca';
import type { Collection } from '../collection/index.js';
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

export function project(c: Collection, p: ProjectInput): { points: Point[]; explained_variance: number[]; total: number } {
  const { docs, total } = sampleDocuments(c, c.compileFilter(p.filter), p.limit, p.seed, 0);
  if (docs.length < 2) {
    return { points: docs.map((d) => ({ id: d.id, x: 0, y: 0, ...(p.dimensions === 3 ? { z: 0 } : {}) })), explained_variance: [], total };
  }
  const data = docs.map((d) => Array.from(d.vector));
  const pca = new PCA(data, { center: true, scale: false });
  // Fewer documents (or dimensions) than asked for give fewer components; the rest are 0.
  const nComponents = Math.min(p.dimensions, pca.getEigenvectors().columns);
  const coords = pca.predict(data, { nComponents }).to2DArray();
  const round = (x: number | undefined) => Math.round((x ?? 0) * 1e6) / 1e6;
  const points = docs.map((d, i) => {
    const row = coords[i]!;
    const pt: Point = { id: d.id, x: round(row[0]), y: round(row[1]) };
    if (p.dimensions === 3) pt.z = round(row[2]);
    return pt;
  });
  const explained = pca.getExplainedVariance().slice(0, p.dimensions).map((v) => Math.round(v * 1e6) / 1e6);
  return { points, explained_variance: explained, total };
}
