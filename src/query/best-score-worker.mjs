// Runs bestScores (best-score.mjs) in a worker thread for recommend.ts, when a best_score request
// has enough candidates and examples to hold the HTTP event loop for long.
//   input:   { metric, cand, pos, neg: Float32Array (transferred), d }
//   replies: Float64Array of scores (transferred)
import { reply } from '../util/worker-reply.mjs';
import { bestScores } from './best-score.mjs';

reply(({ metric, cand, pos, neg, d }) => {
  const scores = bestScores(metric, cand, pos, neg, d);
  return { value: scores, transfer: [scores.buffer] };
});
