// The collection layer's public face: open collections (the one write door per collection) and
// the registry that opens, creates and deletes them; the channel on which group commits are published.
export { Collection, type CollectionDeps, type ProjectionInstall, type DocumentOutcome, type FailurePolicy, type VectorSearchOptions, type WriteOptions, type WriteResult } from './collection.js';
export { CollectionRegistry, type CreateCollectionInput, type RegistryOptions } from './registry.js';
export { documentsName, type FieldNamer } from './write-plan.js';
export { WRITE_GROUP_CHANNEL, type WriteGroupEvent } from './write-group.js';
