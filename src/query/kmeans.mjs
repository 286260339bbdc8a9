// Owns the k-means arithmetic behind POST .../cluster: which k to try, k-means (ml-kmeans,
// k-means++ seeding) for each, the silhouette that picks the best k, and the degenerate cases.
// Plain data in and out (rows of numbers, no Engine), plain JavaScript so the worker thread
// (cluster-worker.mjs) can run it on Node 20 without tsx's loader. Types: kmeans.d.mts.
//
// Degenerate input: k-means cannot make more non-empty clusters than there are distinct points.
// ml-kmeans, asked for k = 5 on 3 distinct points (or k = 2 on identical ones), returns the extra
// clusters empty, and "auto" then reported a k with empty clusters. So k is capped at the number
// of distinct points, one distinct point is one cluster (silhouette null: it needs two), and
// clusters that still come back empty are dropped and the rest renumbered.
import { kmeans } from 'ml-kmeans';
import { seededRandom as rng } from '../util/random.mjs';

/** "auto" tries k = 2..AUTO_MAX_K: beyond ~10 clusters a map of topics stops being readable. */
const AUTO_MAX_K = 10;
/** The schema's largest fixed k; distinct points are counted up to one more than this. */
const MAX_K = 50;

function dist(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function sameRow(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Distinct rows, counted up to `cap` (enough to bound k); a hash of the bits, rows compared on a collision. */
export function countDistinct(rows, cap) {
  const buckets = new Map();
  const f = new Float64Array(1);
  const bits = new Uint32Array(f.buffer);
  let distinct = 0;
  for (const row of rows) {
    let h = 0x811c9dc5;
    for (let i = 0; i < row.length; i++) {
      f[0] = row[i] === 0 ? 0 : row[i]; // -0 and 0 are the same point
      h = Math.imul(h ^ bits[0], 0x01000193);
      h = Math.imul(h ^ bits[1], 0x01000193);
    }
    const bucket = buckets.get(h);
    if (bucket === undefined) buckets.set(h, [row]);
    else if (bucket.some((other) => sameRow(other, row))) continue;
    else bucket.push(row);
    if (++distinct >= cap) return distinct;
  }
  return distinct;
}

/** Mean silhouette over at most 1000 points: O(n²) beyond that would dominate the run. */
function silhouette(data, labels, k, seed) {
  let idx = data.map((_, i) => i);
  if (idx.length > 1000) {
    const r = rng(seed);
    idx = idx
      .map((i) => [r(), i])
      .sort((a, b) => a[0] - b[0])
      .slice(0, 1000)
      .map(([, i]) => i);
  }
  let total = 0;
  for (const i of idx) {
    const sums = new Array(k).fill(0);
    const counts = new Array(k).fill(0);
    for (const j of idx) {
      if (i === j) continue;
      sums[labels[j]] += dist(data[i], data[j]);
      counts[labels[j]]++;
    }
    const own = labels[i];
    if (counts[own] === 0) continue; // a singleton's silhouette is 0
    const a = sums[own] / counts[own];
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && counts[c] > 0) b = Math.min(b, sums[c] / counts[c]);
    // No other cluster in the sample, or every point in the same place: 0, not NaN.
    if (b === Infinity || Math.max(a, b) === 0) continue;
    total += (b - a) / Math.max(a, b);
  }
  return total / idx.length;
}

/** Drops empty clusters and renumbers the rest 0..k'-1 in their original order. */
function compact(labels, centroids) {
  const size = new Array(centroids.length).fill(0);
  for (const l of labels) size[l]++;
  const renumber = [];
  const kept = [];
  for (let c = 0; c < centroids.length; c++) {
    renumber.push(size[c] > 0 ? kept.length : -1);
    if (size[c] > 0) kept.push(centroids[c]);
  }
  return { labels: labels.map((l) => renumber[l]), centroids: kept };
}

function single(data) {
  const centroid = new Array(data[0].length).fill(0);
  for (const row of data) for (let j = 0; j < row.length; j++) centroid[j] += row[j];
  for (let j = 0; j < centroid.length; j++) centroid[j] /= data.length;
  return { k: 1, labels: data.map(() => 0), centroids: [centroid], silhouette: null };
}

/**
 * k-means for a fixed k, or for each k in 2..10 keeping the best silhouette ("auto").
 * @param {number[][]} data at least one row
 * @param {number | 'auto'} k
 * @param {number} seed
 * @returns {{ k: number, labels: number[], centroids: number[][], silhouette: number | null }}
 *   every cluster 0..k-1 non-empty
 */
export function kmeansBest(data, k, seed) {
  const n = data.length;
  const distinct = countDistinct(data, MAX_K + 1);
  let ks;
  // "auto" stops at n-1: with every point its own cluster the silhouette is 0 by definition.
  if (k === 'auto') ks = range(2, Math.min(AUTO_MAX_K, distinct, n - 1));
  else ks = [Math.min(k, distinct)];
  if (ks.length === 0 || ks[0] < 2) return single(data);
  let best;
  for (const kk of ks) {
    const r = kmeans(data, kk, { initialization: 'kmeans++', seed, maxIterations: 100 });
    const { labels, centroids } = compact(r.clusters, r.centroids);
    const s = centroids.length >= 2 ? silhouette(data, labels, centroids.length, seed) : null;
    if (!best || (s !== null && (best.silhouette === null || s > best.silhouette + 1e-9))) best = { k: centroids.length, labels, centroids, silhouette: s };
  }
  return best;
}

function range(from, to) {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
