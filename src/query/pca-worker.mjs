// Runs pcaProject (pca.mjs) in a worker thread for project.ts, so a large or pathological
// projection never holds the HTTP event loop and can be terminated at its deadline.
//   input:   { flat: Float64Array (n×d, transferred), n, d, dims }
//   replies: { coords: Float64Array (n×dims, transferred), explained: number[] }
import { reply } from '../util/worker-reply.mjs';
import { pcaProject } from './pca.mjs';

reply(({ flat, n, d, dims }) => {
  const out = pcaProject(flat, n, d, dims);
  return { value: out, transfer: [out.coords.buffer] };
});
