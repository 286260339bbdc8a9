// Owns the PCA arithmetic behind POST .../project and reduced collections: centring, the
// eigen-decomposition of the smaller of the Gram and covariance matrices, then coordinates and
// explained variance (pcaProject) or the mean and components of a projection (pcaFit). Plain data in
// and out (a flat row-major Float64Array, no Engine), plain JavaScript so the worker thread
// (pca-worker.mjs) can run it on Node 20 without tsx's loader. Types: pca.d.mts.
//
// Why not ml-pca: its default method is ml-matrix's SVD, whose QR sweep (ml-matrix 6.15) tests
// convergence against Number.MIN_VALUE + eps·|s[k] + |s[k+1]||. On a rank-deficient centred
// matrix (100 rows holding 2 distinct vectors: rank 1) the trailing singular values and the
// off-diagonal fall into subnormal numbers, where that test can never pass and a rotation no
// longer changes anything: the loop spins forever (measured: p stuck at 30, e[k] = 1.7e-322
// against a threshold of 5e-324, unchanged after 600,000 sweeps). Identical rows give a zero
// matrix, singular values 0 and explained variance 0/0 = NaN.
// The route here: a symmetric eigen-decomposition (ml-matrix EVD, tred2 + tql2), whose
// convergence test is relative to the largest |d|+|e| seen (eps·tst1). Made robust by
//   - centring on the first row (mean = x0 + mean(x - x0)), so identical rows centre to exact 0;
//   - scaling the centred matrix to a largest |entry| of 1, so nothing starts out subnormal;
//   - shifting the matrix by its largest diagonal (same eigenvectors, eigenvalues + shift):
//     it is then positive definite with every eigenvalue ≥ shift ≥ 1, so the tridiagonal's first
//     diagonal is ≥ 1 and tql2's threshold eps·tst1 is ≥ eps, a normal number, never 0;
//   - treating eigenvalues under the numerical-rank tolerance as exactly 0 (those directions
//     are rounding noise: their coordinates are 0, not noise).
// Cost: n·d·m/2 multiply-adds for the m×m matrix (m = min(n, d)) plus O(m³) for the EVD, the
// same order as the SVD it replaces. The worker's deadline bounds whatever remains.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * The shared part: centre (on the first row, then on the mean) unless told not to, scale,
 * eigen-decompose the smaller symmetric matrix. null when every row is the same point (centred)
 * or every row is 0 (not centred): nothing to decompose.
 * @param {Float64Array} flat n×d, row-major
 * @param {number} n
 * @param {number} d
 * @param {boolean} [centre] false: decompose the rows as they are (mean 0; a truncated SVD)
 */
function decompose(flat, n, d, centre = true) {
  const c = new Float64Array(n * d);
  const mean = new Float64Array(d);
  let maxAbs = 0;
  if (centre) {
    // Centre on the first row: exact zeros for identical rows, and smaller sums to round.
    const shift = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const v = flat[o + j] - flat[j];
        c[o + j] = v;
        shift[j] += v;
      }
    }
    for (let j = 0; j < d; j++) shift[j] /= n;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const v = c[o + j] - shift[j];
        c[o + j] = v;
        const a = Math.abs(v);
        if (a > maxAbs) maxAbs = a;
      }
    }
    for (let j = 0; j < d; j++) mean[j] = flat[j] + shift[j];
  } else {
    for (let i = 0; i < n * d; i++) {
      c[i] = flat[i];
      const a = Math.abs(c[i]);
      if (a > maxAbs) maxAbs = a;
    }
  }
  if (maxAbs === 0) return null;
  const inv = 1 / maxAbs;
  for (let i = 0; i < c.length; i++) c[i] *= inv;

  // The smaller symmetric matrix: the Gram matrix C·Cᵀ (n×n) when there are fewer documents
  // than dimensions, else the scatter matrix Cᵀ·C (d×d). Both have the same nonzero eigenvalues.
  const gram = n <= d;
  const m = gram ? n : d;
  const a = new Float64Array(m * m);
  if (gram) {
    for (let i = 0; i < n; i++) {
      const oi = i * d;
      for (let k = 0; k <= i; k++) {
        const ok = k * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += c[oi + j] * c[ok + j];
        a[i * m + k] = s;
        a[k * m + i] = s;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const v = c[o + j];
        if (v === 0) continue;
        const row = j * m;
        for (let k = 0; k <= j; k++) a[row + k] += v * c[o + k];
      }
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) a[k * m + j] = a[j * m + k];
  }
  let trace = 0;
  let maxDiag = 0;
  for (let i = 0; i < m; i++) {
    const v = a[i * m + i];
    trace += v;
    if (v > maxDiag) maxDiag = v;
  }
  // maxDiag ≥ 1: the row (or column) holding the entry of magnitude 1 has a diagonal ≥ 1.
  const mat = new Matrix(m, m);
  for (let i = 0; i < m; i++) for (let k = 0; k < m; k++) mat.set(i, k, a[i * m + k] + (i === k ? maxDiag : 0));
  const evd = new EigenvalueDecomposition(mat, { assumeSymmetric: true });
  const values = evd.realEigenvalues; // ascending
  const vectors = evd.eigenvectorMatrix; // columns
  const top = values.length - 1;
  const lambdaMax = Math.max(0, values[top] - maxDiag);
  // Eigenvalues are accurate to about m·eps·‖A‖; anything below that is a zero eigenvalue.
  const tol = 8 * m * Number.EPSILON * (lambdaMax + maxDiag);
  /** The r-th largest eigenvalue (0-based), 0 when under the tolerance, and its eigenvector column. */
  const component = (r) => {
    if (r >= m) return { lambda: 0, col: -1 };
    const col = top - r;
    const lambda = values[col] - maxDiag;
    return lambda > tol ? { lambda, col } : { lambda: 0, col: -1 };
  };
  return { c, mean, maxAbs, gram, m, vectors, trace, component };
}

/**
 * @param {Float64Array} flat n×d, row-major
 * @param {number} n rows (documents)
 * @param {number} d columns (dimensions)
 * @param {number} dims components wanted (2 or 3)
 * @returns {{ coords: Float64Array, explained: number[] }} coords n×dims row-major; explained has
 *   exactly `dims` entries, each a fraction of the total variance (0 where there is none)
 */
export function pcaProject(flat, n, d, dims) {
  const coords = new Float64Array(n * dims);
  const explained = new Array(dims).fill(0);
  if (n < 2 || d === 0) return { coords, explained };
  const e = decompose(flat, n, d);
  // Every document is the same point: all at the origin, no variance to explain.
  if (!e) return { coords, explained };
  const { c, maxAbs, gram, vectors, trace } = e;
  for (let r = 0; r < dims; r++) {
    const { lambda, col } = e.component(r);
    if (col < 0) break; // descending: this and every later component is 0
    if (gram) {
      // C = U·Σ·Vᵀ and C·Cᵀ = U·Σ²·Uᵀ, so the coordinates C·V = U·Σ: u_i·sqrt(λ).
      const sigma = Math.sqrt(lambda);
      for (let i = 0; i < n; i++) coords[i * dims + r] = vectors.get(i, col) * sigma;
    } else {
      for (let i = 0; i < n; i++) {
        const o = i * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += c[o + j] * vectors.get(j, col);
        coords[i * dims + r] = s;
      }
    }
    // An eigenvector's sign is arbitrary; fix it (as scikit-learn's svd_flip) so the point
    // farthest along the component is on its positive side, and equal input draws the same map.
    let far = 0;
    for (let i = 1; i < n; i++) if (Math.abs(coords[i * dims + r]) > Math.abs(coords[far * dims + r])) far = i;
    const sign = coords[far * dims + r] < 0 ? -maxAbs : maxAbs;
    for (let i = 0; i < n; i++) coords[i * dims + r] *= sign;
    explained[r] = trace > 0 ? Math.min(1, lambda / trace) : 0;
  }
  return { coords, explained };
}

/**
 * The projection onto the first `dims` principal components of the rows: y = components·(x − mean).
 * A component the rows have no variance along (fewer distinct rows than dims) is a zero row: it
 * maps every vector to 0 there. Not centred, mean is 0 and the components are the top right
 * singular vectors of the rows themselves: they keep inner products (x·x' ≈ y·y'), which centring
 * would change; explained is then each one's share of the rows' squared length.
 * @param {Float64Array} flat n×d, row-major
 * @param {number} n
 * @param {number} d
 * @param {number} dims
 * @param {boolean} [centre] default true
 * @returns {{ mean: Float64Array, components: Float64Array, explained: number[] }} components dims×d row-major, unit rows
 */
export function pcaFit(flat, n, d, dims, centre = true) {
  const components = new Float64Array(dims * d);
  const explained = new Array(dims).fill(0);
  const e = d === 0 || n < (centre ? 2 : 1) ? null : decompose(flat, n, d, centre);
  if (!e) return { mean: centre && n > 0 ? flat.slice(0, d) : new Float64Array(d), components, explained };
  const { c, gram, vectors, trace } = e;
  for (let r = 0; r < dims; r++) {
    const { lambda, col } = e.component(r);
    if (col < 0) break;
    const o = r * d;
    if (gram) {
      // v = Cᵀ·u / σ: the right singular vector from the left one.
      for (let i = 0; i < n; i++) {
        const u = vectors.get(i, col);
        const ci = i * d;
        for (let j = 0; j < d; j++) components[o + j] += c[ci + j] * u;
      }
    } else {
      for (let j = 0; j < d; j++) components[o + j] = vectors.get(j, col);
    }
    // Unit length (σ and the eigen solver's rounding aside).
    let norm = 0;
    for (let j = 0; j < d; j++) norm += components[o + j] * components[o + j];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < d; j++) components[o + j] *= inv;
    explained[r] = trace > 0 ? Math.min(1, lambda / trace) : 0;
  }
  return { mean: e.mean, components, explained };
}
