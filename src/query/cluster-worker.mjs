// Runs kmeansBest (kmeans.mjs) in a worker thread for cluster.ts: on a few thousand documents
// "auto" takes seconds, which must not hold the HTTP event loop, and a deadline must be able to
// end it (worker.terminate()).
//   input:   { flat: Float64Array (n×d, transferred), n, d, k: number | "auto", seed }
//   replies: { k, labels, centroids, silhouette }
import { reply } from '../util/worker-reply.mjs';
import { kmeansBest } from './kmeans.mjs';

reply(({ flat, n, d, k, seed }) => {
  // ml-kmeans takes rows of plain numbers.
  const data = Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * d, (i + 1) * d)));
  return { value: kmeansBest(data, k, seed) };
});
