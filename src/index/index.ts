// The vector index layer's public face.
export type { VectorIndex, Neighbor, SearchOptions } from './vector-index.js';
export { hnswDistanceToScore, similarity } from './vector-index.js';
export { ExactIndex, exactSearch } from './exact-index.js';
export { HnswIndex, type SnapshotManifest } from './hnsw-index.js';
export { IndexManager, type OpenReport } from './index-manager.js';
