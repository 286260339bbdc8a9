// The ingest layer's public face.
export { upsertDocuments, deleteDocument, type DocumentInput, type UpsertResult } from './upsert.js';
export { toChunkingSpec } from './chunking.js';
export { JobRunner } from './jobs.js';
