// Runs umapProject (umap.mjs) in a worker thread for project.ts: a UMAP layout of a few thousand
// documents takes tens of seconds, which must not hold the HTTP event loop, and the job's deadline
// must be able to end it (worker.terminate()).
//   input:   { flat: Float64Array (n×d, transferred), n, d, dims, seed, neighbours, minDist, epochs }
//   replies: Float64Array (n×dims, transferred)
import { reply } from '../util/worker-reply.mjs';
import { umapProject } from './umap.mjs';

reply(({ flat, ...options }) => {
  const coords = umapProject(flat, options);
  return { value: coords, transfer: [coords.buffer] };
});
