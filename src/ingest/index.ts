// The ingest layer's public face: asynchronous ingest jobs and the runner of job tasks.
export { JobRunner, type JobRunnerOptions, type TaskHandler, type IngestProgress } from './jobs.js';
