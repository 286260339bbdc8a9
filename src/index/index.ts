// The vector index layer's public face: the async VectorIndex seam, its implementation over an
// index host, and the hosts (worker threads, or this thread).
export type { VectorIndex, IndexCore, SearchOptions, SearchOutcome, SearchPlan, IndexStats, Neighbor } from './vector-index.js';
export { hnswDistanceToScore, similarity } from './vector-index.js';
export { ExactIndex, exactSearch } from './exact-index.js';
export { HnswIndex, type SnapshotManifest } from './hnsw-index.js';
export { LocalVectorIndex, type IndexSource, type LocalIndexOptions, type OpenReport } from './local-index.js';
export { verifySnapshot, snapshotBase, listSnapshotFiles, type SnapshotVerdict, type SnapshotExpectation, type SnapshotProblem, type LabelSource } from './verify-snapshot.js';
export { IndexHost, inThreadHost, type IndexHostApi, type CoreShape, type HostSearch, type HostSearchResult } from './index-host.js';
export { IndexWorkers } from './worker-host.js';
