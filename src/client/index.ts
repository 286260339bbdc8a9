// The typed TypeScript client for Quiver's HTTP API (`import { QuiverClient } from 'quiver/client'`).
// Runs in Node 20+ and in browsers: it imports nothing from the server and no Node built-in
// (.dependency-cruiser.cjs checks the first; test/integration/client-package.test.ts bundles it for
// a browser). schema.ts is generated from the server's OpenAPI document (npm run gen:client); the
// rest is hand-written.
export { QuiverClient, CollectionsApi, CollectionHandle, JobsApi, AdminApi } from './client.js';
export type { ListOptions, WaitOptions } from './client.js';
export type { QuiverClientOptions, CallOptions } from './core.js';
export { QuiverApiError } from './errors.js';
export type { ErrorCode, ServerErrorCode, ClientErrorCode } from './errors.js';
export type { IngestOptions, IngestProgress, IngestResult, SubmitIngestOptions } from './ingest.js';
export type { FetchLike, RetryInfo, RetryOptions } from './transport.js';
export { clusterResultOf, isAccepted, isFinished, projectResultOf } from './types.js';
export type * from './types.js';
export type { paths, components } from './schema.js';
