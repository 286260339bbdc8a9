// The ingest layer's public face: asynchronous ingest jobs (accepted a slice at a time) and the
// runner of job tasks.
export { JobRunner, type JobRunnerOptions, type TaskHandler, type IngestProgress } from './jobs.js';
export { Receiving, type ReceivingOptions } from './intake.js';
