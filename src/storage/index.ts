// The storage layer's public face: the Store interface and its SQLite implementation. The only
// folder that writes SQL.
export type * from './store.js';
export { SqliteStore, checkDatabaseFile, readAppliedPositions, type SqliteStoreOptions } from './sqlite-store.js';
export { openDatabase, migrate, MIGRATIONS_DIR, type Db } from './database.js';
export { DiskHealth, insufficientStorage, outOfSpaceCode, readinessFields, type StorageStatus } from './disk-health.js';
export { DatabaseInspector, knownSchemaVersion, type InspectedCollection, type ForeignKeyViolation } from './inspect.js';
