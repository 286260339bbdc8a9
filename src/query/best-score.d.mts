/** recommend's best_score for each candidate (see best-score.mjs). */
export function bestScores(metric: 'cosine' | 'ip' | 'l2', cand: Float32Array, pos: Float32Array, neg: Float32Array, d: number): Float64Array;
