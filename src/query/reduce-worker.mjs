// Fits a reduced collection's PCA projection (pca.mjs pcaFit) and projects its vectors with it, in
// a worker thread for reduce.ts: a fit over 1,000+ vectors of 384-1024 dimensions and the
// projection of a whole collection would hold the HTTP event loop for seconds.
//   input:   { flat: Float32Array (n×d, transferred), n, d, dims, fitN, centre } — the first fitN rows are the fit sample
//   replies: { mean: Float32Array (d), components: Float32Array (dims×d), explained: number[], projected: Float32Array (n×dims) }
import { reply } from '../util/worker-reply.mjs';
import { pcaFit } from './pca.mjs';

reply(({ flat, n, d, dims, fitN, centre }) => {
  const sample = Float64Array.from(flat.subarray(0, fitN * d));
  const fit = pcaFit(sample, fitN, d, dims, centre);
  const mean = Float32Array.from(fit.mean);
  const components = Float32Array.from(fit.components);
  const projected = new Float32Array(n * dims);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) centred[j] = flat[o + j] - fit.mean[j];
    for (let r = 0; r < dims; r++) {
      const cr = r * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += fit.components[cr + j] * centred[j];
      projected[i * dims + r] = s;
    }
  }
  return { value: { mean, components, explained: fit.explained, projected }, transfer: [mean.buffer, components.buffer, projected.buffer] };
});
