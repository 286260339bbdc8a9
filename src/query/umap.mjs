// Owns the UMAP arithmetic behind POST .../project with "method": "umap": a neighbourhood-
// preserving 2-D (or 3-D) layout, where PCA only keeps the directions of largest spread and so
// lays distinct topics on top of each other. Plain data in and out, plain JavaScript so its
// worker thread (umap-worker.mjs) runs on Node 20 without tsx's loader.
//
// umap-js (PAIR-code's port of UMAP) does the fuzzy graph and the layout. Two things are done
// here instead, because they cost most of its time (measured on the 2-core box: 20 s for 2,000
// points of 32 dimensions, 35 s for 5,000, 94 s for 20,000 on raw vectors):
//   - the input is first reduced by PCA to PCA_DIMS dimensions (pca.mjs): neighbourhoods of
//     embeddings live in far fewer directions than the model has, and every distance costs d;
//   - the k nearest neighbours are found exactly, by brute force over flat typed arrays, instead
//     of by umap-js's NN-descent on arrays of arrays (seconds, not tens of seconds, at 20,000).
// Everything random comes from one seeded generator: the same input and seed give the same map.
import { UMAP } from 'umap-js';
import { seededRandom } from '../util/random.mjs';
import { pcaProject } from './pca.mjs';

/** Dimensions kept by the PCA before the neighbour search. */
export const PCA_DIMS = 32;

/**
 * Each row's k nearest rows, itself first (as umap-js's own search gives them), then the k − 1
 * nearest others by euclidean distance, found by brute force.
 * @param {Float64Array} x n×m row-major
 * @returns {{ indices: number[][], distances: number[][] }}
 */
export function exactNeighbours(x, n, m, k) {
  const others = k - 1;
  const bestD = new Float64Array(n * others).fill(Infinity);
  const bestI = new Int32Array(n * others).fill(-1);
  // Inserts j at squared distance dist into row i's sorted list (if it is near enough).
  const offer = (i, j, dist) => {
    const o = i * others;
    if (dist >= bestD[o + others - 1]) return;
    let p = others - 1;
    while (p > 0 && bestD[o + p - 1] > dist) {
      bestD[o + p] = bestD[o + p - 1];
      bestI[o + p] = bestI[o + p - 1];
      p--;
    }
    bestD[o + p] = dist;
    bestI[o + p] = j;
  };
  // Each pair once: the distance is symmetric.
  for (let i = 0; i < n; i++) {
    const oi = i * m;
    for (let j = i + 1; j < n; j++) {
      const oj = j * m;
      let s = 0;
      for (let t = 0; t < m; t++) {
        const v = x[oi + t] - x[oj + t];
        s += v * v;
      }
      offer(i, j, s);
      offer(j, i, s);
    }
  }
  const indices = [];
  const distances = [];
  for (let i = 0; i < n; i++) {
    const row = [i];
    const drow = [0];
    for (let p = 0; p < others; p++) {
      row.push(bestI[i * others + p]);
      drow.push(Math.sqrt(bestD[i * others + p]));
    }
    indices.push(row);
    distances.push(drow);
  }
  return { indices, distances };
}

/** Fewer points than this are laid out by PCA alone. */
export const MIN_POINTS = 4;

function layout(coords, n, m, { dims, seed, neighbours, minDist, epochs }) {
  // Fewer points than neighbours wanted: every other point is a neighbour.
  const k = Math.min(neighbours, n - 1);
  const { indices, distances } = exactNeighbours(coords, n, m, k);
  const rows = Array.from({ length: n }, (_, i) => Array.from(coords.subarray(i * m, (i + 1) * m)));
  const umap = new UMAP({ nComponents: dims, nNeighbors: k, minDist, nEpochs: epochs, random: seededRandom(seed) });
  umap.setPrecomputedKNN(indices, distances);
  const total = umap.initializeFit(rows);
  for (let e = 0; e < total; e++) umap.step();
  return umap.getEmbedding();
}

/**
 * @param {Float64Array} flat n×d, row-major
 * @param {{ n: number, d: number, dims: number, seed: number, neighbours: number, minDist: number, epochs: number }} o
 * @returns {Float64Array} n×dims row-major, centred and scaled to a largest |coordinate| of 1
 */
export function umapProject(flat, { n, d, dims, seed, neighbours, minDist, epochs }) {
  const m = Math.min(PCA_DIMS, d, n);
  const { coords } = pcaProject(flat, n, d, m);
  // umap-js needs more points than neighbours (itself counted); below MIN_POINTS there is no
  // neighbourhood to keep and the PCA layout is the map.
  const emb = n < MIN_POINTS ? Array.from({ length: n }, (_, i) => Array.from({ length: dims }, (_, c) => (c < m ? coords[i * m + c] : 0))) : layout(coords, n, m, { dims, seed, neighbours, minDist, epochs });
  const out = new Float64Array(n * dims);
  // UMAP's coordinates have no meaning of their own: centre them and scale to [-1, 1].
  const mean = new Float64Array(dims);
  for (const p of emb) for (let c = 0; c < dims; c++) mean[c] += p[c] / n;
  let maxAbs = 0;
  emb.forEach((p, i) => {
    for (let c = 0; c < dims; c++) {
      const v = p[c] - mean[c];
      out[i * dims + c] = v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  });
  if (maxAbs > 0) for (let i = 0; i < out.length; i++) out[i] /= maxAbs;
  return out;
}
