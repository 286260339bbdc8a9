// The query layer's public face: search (vector, keyword, hybrid) and fusion, recommendation,
// clustering, projection and RAG context over an open collection.
export { search, defaultMode, toHits, vectorCandidates, resolveMode, DEFAULT_TEXT_MODE, MAX_WINDOW } from './search.js';
export { shardedSearch, answerShardSearch, shardSearchRequest, type ShardSearchRequest, type AskShard } from './shards.js';
export { fuse, fuseAdaptive, fuseConvex, fuseFor, DEFAULT_FUSION, DEFAULT_CONVEX_WEIGHTS, type Ranked } from './fusion.js';
export { recommend, type RecommendInput } from './recommend.js';
export { mmr, type MmrInput } from './mmr.js';
export { cluster, type ClusterInput, type ClusterOut, type ClusterResult } from './cluster.js';
export { project, type ProjectInput, type ProjectResult } from './project.js';
export { buildContext, estimateTokens, type ContextInput, type ContextChunk } from './context.js';
export { prepareAnswer, answer, answerStream, citations, SYSTEM_PROMPT, DEFAULT_CONTEXT_TOKENS, type AnswerInput, type AnswerResult, type AnswerEvent, type Citation, type PreparedAnswer } from './answer.js';
export { requestDeadline, jobDeadline, type Deadline } from './analysis.js';
export { refit, refitRefusal, REFIT_SAMPLE_MAX, type RefitResult } from './reduce.js';
