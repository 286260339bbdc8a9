// Owns the scoring of recommend's best_score strategy (Qdrant's best_score): each candidate's best
// similarity to a positive example, pushed below every such score when it is closer to a negative.
// Plain data in and out (flat Float32Arrays, no Engine), plain JavaScript so the worker thread
// (best-score-worker.mjs) can run it; recommend.ts calls it directly when the work is small.
// Types: best-score.d.mts. The arithmetic is vector-index.ts's similarity(), step for step, so
// the scores are the same wherever they are computed.

function similarity(metric, a, ao, b, bo, d) {
  let dot = 0;
  if (metric === 'l2') {
    for (let i = 0; i < d; i++) {
      const x = a[ao + i] - b[bo + i];
      dot += x * x;
    }
    return -Math.sqrt(dot);
  }
  let na = 0;
  let nb = 0;
  for (let i = 0; i < d; i++) {
    dot += a[ao + i] * b[bo + i];
    na += a[ao + i] * a[ao + i];
    nb += b[bo + i] * b[bo + i];
  }
  if (metric === 'ip') return dot;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));

/** The best sigmoid(similarity) of candidate `c` to the `m` vectors of `set`; -Infinity when empty. */
function best(metric, cand, c, set, m, d) {
  let out = -Infinity;
  for (let j = 0; j < m; j++) out = Math.max(out, sigmoid(similarity(metric, cand, c * d, set, j * d, d)));
  return out;
}

/**
 * @param {'cosine' | 'ip' | 'l2'} metric
 * @param {Float32Array} cand n×d candidate vectors, row-major
 * @param {Float32Array} pos np×d positive example vectors (np ≥ 1)
 * @param {Float32Array} neg nn×d negative example vectors (may be empty)
 * @param {number} d dimensions
 * @returns {Float64Array} one score per candidate. Similarities are squashed to (0, 1), so a
 *   candidate closer to a negative, scored -(best negative)², sorts below every other.
 */
export function bestScores(metric, cand, pos, neg, d) {
  const n = d === 0 ? 0 : cand.length / d;
  const np = d === 0 ? 0 : pos.length / d;
  const nn = d === 0 ? 0 : neg.length / d;
  const scores = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const bp = best(metric, cand, c, pos, np, d);
    const bn = nn > 0 ? best(metric, cand, c, neg, nn, d) : -Infinity;
    scores[c] = bp > bn ? bp : -(bn * bn);
  }
  return scores;
}
