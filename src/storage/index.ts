// The storage layer's public face: the only code that writes SQL.
export { openDatabase, migrate, vectorToBlob, blobToVector, MIGRATIONS_DIR, type Db } from './database.js';
export { CollectionsRepo } from './collections.js';
export { DocumentsRepo, type DocumentWrite, type ChunkHit } from './documents.js';
export { EmbeddingCache } from './embedding-cache.js';
export { SearchRepo, type SqlWhere, type DocumentVectors, type AnalysisDocument } from './search.js';
export { JobsRepo, type JobRow, type JobStatus, type JobKind, type JobItem, type ItemOutcome } from './jobs.js';
export type * from './types.js';
