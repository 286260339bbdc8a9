// Runs k-means (ml-kmeans, k-means++ seeding) and the silhouette that picks k, in a worker thread:
// on a few thousand documents "auto" takes seconds, which must not hold the HTTP event loop.
// Plain JavaScript on purpose (as src/embedding/local-worker.mjs): a worker thread does not
// inherit tsx's TypeScript loader on Node 20. The message types live in cluster.ts.
//   workerData: { data: number[][], ks: number[], seed: number }
//   posts once: { type: 'result', k, labels, centroids, silhouette } or { type: 'error', message }
import { parentPort, workerData } from 'node:worker_threads';
import { kmeans } from 'ml-kmeans';
import { seededRandom as rng } from '../util/random.mjs';

function dist(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
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
    if (b === Infinity) continue;
    total += (b - a) / Math.max(a, b);
  }
  return total / idx.length;
}

try {
  const { data, ks, seed } = workerData;
  let best;
  for (const k of ks) {
    const r = kmeans(data, k, { initialization: 'kmeans++', seed, maxIterations: 100 });
    const s = k >= 2 ? silhouette(data, r.clusters, k, seed) : null;
    if (!best || (s !== null && s > best.silhouette + 1e-9)) best = { k, labels: r.clusters, centroids: r.centroids, silhouette: s };
  }
  parentPort.postMessage({ type: 'result', ...best });
} catch (err) {
  parentPort.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}
