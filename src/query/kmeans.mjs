// Owns the k-means arithmetic behind POST .../cluster: which k to try, k-means (ml-kmeans,
// k-means++ seeding) for each, the criterion that picks k ("auto": CRITERIA), and the degenerate cases.
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

/** Sum of squared distances of the points to their cluster's centroid (k-means' objective). */
function sse(data, labels, centroids) {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += dist(data[i], centroids[labels[i]]) ** 2;
  return s;
}

/**
 * BIC of k spherical Gaussians with one shared variance (x-means, Pelleg & Moore 2000): the
 * log-likelihood of the points under the k-means solution less (parameters / 2)·ln n.
 */
function bic(data, labels, centroids) {
  const n = data.length;
  const d = data[0].length;
  const k = centroids.length;
  if (n <= k) return null;
  const variance = sse(data, labels, centroids) / (d * (n - k));
  if (!(variance > 0)) return null;
  const size = new Array(k).fill(0);
  for (const l of labels) size[l]++;
  let ll = -((d * (n - k)) / 2);
  for (const m of size) if (m > 0) ll += m * Math.log(m / n) - ((m * d) / 2) * Math.log(2 * Math.PI * variance);
  return ll - ((k * (d + 1)) / 2) * Math.log(n);
}

/** Calinski–Harabasz: between-cluster over within-cluster dispersion, each per degree of freedom. */
function calinskiHarabasz(data, labels, centroids) {
  const n = data.length;
  const k = centroids.length;
  const within = sse(data, labels, centroids);
  if (n <= k || !(within > 0)) return null;
  const mean = new Array(data[0].length).fill(0);
  for (const row of data) for (let j = 0; j < row.length; j++) mean[j] += row[j] / n;
  const size = new Array(k).fill(0);
  for (const l of labels) size[l]++;
  let between = 0;
  for (let c = 0; c < k; c++) between += size[c] * dist(centroids[c], mean) ** 2;
  return between / (k - 1) / (within / (n - k));
}

/**
 * The criteria "auto" can choose k by (benchmarks/quality.ts compares them on labelled corpora):
 * 'silhouette' (the default) is the largest k whose silhouette is within SILHOUETTE_TOLERANCE of
 * the best; 'silhouette-max' the best alone. On text collections embedded by a static word model
 * silhouettes are all low (0.06–0.11) and within noise of each other, and the best alone fell to
 * k = 2 on the seven fiori sources (NMI 0.19; k = 4 by the tolerance, 0.26); BIC and the gap
 * statistic ran to k = 10 on every corpus; Calinski–Harabasz chose 2.
 */
export const CRITERIA = ['silhouette', 'silhouette-max', 'bic', 'calinski-harabasz', 'gap'];
/** The share of the best silhouette a larger k may fall short by and still be chosen. */
const SILHOUETTE_TOLERANCE = 0.1;

function run(data, k, seed) {
  const r = kmeans(data, k, { initialization: 'kmeans++', seed, maxIterations: 100 });
  return compact(r.clusters, r.centroids);
}

/**
 * Gap statistic (Tibshirani, Walther & Hastie 2001): ln W_k of the data against its mean over
 * `refs` uniform samples of the data's bounding box; the smallest k whose gap is within one
 * standard error of the next k's. Returns that k's index in `ks`.
 */
function gapChoice(data, fits, ks, seed) {
  const d = data[0].length;
  const lo = new Array(d).fill(Infinity);
  const hi = new Array(d).fill(-Infinity);
  for (const row of data)
    for (let j = 0; j < d; j++) {
      lo[j] = Math.min(lo[j], row[j]);
      hi[j] = Math.max(hi[j], row[j]);
    }
  const refs = 3;
  const r = rng(seed + 1);
  const refLogW = ks.map(() => []);
  for (let b = 0; b < refs; b++) {
    const ref = data.map(() => lo.map((l, j) => l + r() * (hi[j] - l)));
    ks.forEach((k, i) => {
      const f = run(ref, k, seed);
      refLogW[i].push(Math.log(sse(ref, f.labels, f.centroids) || Number.MIN_VALUE));
    });
  }
  const gap = [];
  const se = [];
  ks.forEach((_, i) => {
    const m = refLogW[i].reduce((a, x) => a + x, 0) / refs;
    const sd = Math.sqrt(refLogW[i].reduce((a, x) => a + (x - m) ** 2, 0) / refs);
    gap.push(m - Math.log(sse(data, fits[i].labels, fits[i].centroids) || Number.MIN_VALUE));
    se.push(sd * Math.sqrt(1 + 1 / refs));
  });
  for (let i = 0; i + 1 < ks.length; i++) if (gap[i] >= gap[i + 1] - se[i + 1]) return i;
  return ks.length - 1;
}

/**
 * k-means for a fixed k, or for each k in 2..10 keeping the one `criterion` chooses ("auto"; see
 * CRITERIA). The silhouette is reported whatever chose k.
 * @param {number[][]} data at least one row
 * @param {number | 'auto'} k
 * @param {number} seed
 * @param {'silhouette' | 'silhouette-max' | 'bic' | 'calinski-harabasz' | 'gap'} [criterion]
 * @returns {{ k: number, labels: number[], centroids: number[][], silhouette: number | null }}
 *   every cluster 0..k-1 non-empty
 */
export function kmeansBest(data, k, seed, criterion = 'silhouette') {
  const n = data.length;
  const distinct = countDistinct(data, MAX_K + 1);
  let ks;
  // "auto" stops at n-1: with every point its own cluster the silhouette is 0 by definition.
  if (k === 'auto') ks = range(2, Math.min(AUTO_MAX_K, distinct, n - 1));
  else ks = [Math.min(k, distinct)];
  if (ks.length === 0 || ks[0] < 2) return single(data);
  const fits = ks.map((kk) => run(data, kk, seed));
  const withSilhouette = (f) => ({ k: f.centroids.length, labels: f.labels, centroids: f.centroids, silhouette: f.centroids.length >= 2 ? silhouette(data, f.labels, f.centroids.length, seed) : null });
  if (ks.length === 1) return withSilhouette(fits[0]);
  if (criterion === 'gap') return withSilhouette(fits[gapChoice(data, fits, ks, seed)]);
  if (criterion === 'silhouette') {
    const scored = fits.map((f) => ({ f, s: f.centroids.length >= 2 ? silhouette(data, f.labels, f.centroids.length, seed) : null }));
    const top = Math.max(...scored.map((x) => x.s ?? -Infinity));
    if (top === -Infinity) return withSilhouette(fits[0]);
    const floor = top - SILHOUETTE_TOLERANCE * Math.abs(top);
    const chosen = scored.filter((x) => x.s !== null && x.s >= floor - 1e-9).at(-1);
    return { k: chosen.f.centroids.length, labels: chosen.f.labels, centroids: chosen.f.centroids, silhouette: chosen.s };
  }
  let best;
  let bestScore = null;
  for (const f of fits) {
    const score =
      f.centroids.length < 2
        ? null
        : criterion === 'bic'
          ? bic(data, f.labels, f.centroids)
          : criterion === 'calinski-harabasz'
            ? calinskiHarabasz(data, f.labels, f.centroids)
            : silhouette(data, f.labels, f.centroids.length, seed); // 'silhouette-max'
    if (!best || (score !== null && (bestScore === null || score > bestScore + 1e-9))) {
      best = f;
      bestScore = score;
    }
  }
  return withSilhouette(best);
}

function range(from, to) {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
