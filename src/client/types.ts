// Names for the shapes the client takes and returns, all read out of the generated schema.ts (so
// from the server's OpenAPI document): nothing here restates a field.
import type { components, paths } from './schema.js';

type Schemas = components['schemas'];
type Method = 'get' | 'put' | 'post' | 'delete';
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON request body of an operation. */
type BodyOf<P extends keyof paths, M extends Method> = Op<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
/** The query string of an operation. */
type QueryOf<P extends keyof paths, M extends Method> = Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** The JSON answer of an operation with status S. */
type AnswerOf<P extends keyof paths, M extends Method, S extends number> = Op<P, M> extends { responses: { [K in S]: { content: { 'application/json': infer A } } } } ? A : never;

export type Collection = Schemas['Collection'];
export type StoredDocument = Schemas['Document'];
export type Job = Schemas['Job'];
export type JobStatus = Job['status'];
export type QueryResult = Schemas['QueryResult'];
export type Hit = QueryResult['hits'][number];
export type ClusterResult = Schemas['ClusterResult'];

export type CreateCollectionInput = BodyOf<'/v1/collections', 'post'>;
export type UpsertInput = BodyOf<'/v1/collections/{name}/documents', 'put'>;
/** A document to write: {id, text?, vector?, metadata?}. */
export type DocumentInput = UpsertInput['documents'][number];
export type ChunkingInput = NonNullable<UpsertInput['chunking']>;
export type UpsertResult = AnswerOf<'/v1/collections/{name}/documents', 'put', 200>;
/** Cluster mode, from an api node: the write is in the log; pass `seq` as min_seq to read it back. */
export type Accepted = AnswerOf<'/v1/collections/{name}/documents', 'put', 202>;
/** Cluster mode, from an api node: where a delete by filter sits in the log (its count is known when replicas apply it). */
export type LogPosition = AnswerOf<'/v1/collections/{name}/documents/delete', 'post', 202>;

/** Whether an upsert was accepted into a cluster's log (an api node's 202) rather than written. */
export function isAccepted(r: UpsertResult | Accepted): r is Accepted {
  return 'seq' in r;
}
export type DocumentPage = AnswerOf<'/v1/collections/{name}/documents', 'get', 200>;
export type QueryInput = BodyOf<'/v1/collections/{name}/query', 'post'>;
export type RecommendInput = BodyOf<'/v1/collections/{name}/recommend', 'post'>;
/** cluster() always answers at once; clusterJob() sends `async: true`. */
export type ClusterInput = Omit<BodyOf<'/v1/collections/{name}/cluster', 'post'>, 'async'>;
/** project() answers at once (PCA); projectJob() sends `async: true` (UMAP always runs as a job). */
export type ProjectInput = Omit<BodyOf<'/v1/collections/{name}/project', 'post'>, 'async'>;
export type ProjectResult = Schemas['ProjectResult'];
export type ContextInput = BodyOf<'/v1/collections/{name}/context', 'post'>;
export type ContextResult = AnswerOf<'/v1/collections/{name}/context', 'post', 200>;
/** A question for answer() and answerStream() (which set `stream` themselves). */
export type AnswerInput = Omit<BodyOf<'/v1/collections/{name}/answer', 'post'>, 'stream'>;
export type AnswerResult = Schemas['AnswerResult'];
export type Citation = AnswerResult['citations'][number];
/** What answerStream() yields: text as the model writes it, then the rest of the answer once. */
export type AnswerStreamEvent = { type: 'delta'; text: string } | ({ type: 'done' } & Omit<AnswerResult, 'answer'>);
export type ListJobsQuery = QueryOf<'/v1/jobs', 'get'>;
export type JobPage = AnswerOf<'/v1/jobs', 'get', 200>;
export type BackupInput = NonNullable<BodyOf<'/v1/admin/backup', 'post'>>;
export type Backup = AnswerOf<'/v1/admin/backup', 'post', 201>['backup'];

/**
 * A metadata filter ({"kind": "pet"}, {"year": {"$gte": 2000}}, {"$or": [...]}). The server checks
 * its grammar where it compiles it and answers 400 naming the bad part; the document describes it
 * as any JSON, so the client does too, as an object.
 */
export type Filter = Record<string, unknown>;

/** A job that will not change any more. */
export const isFinished = (j: Pick<Job, 'status'>): boolean => j.status === 'done' || j.status === 'failed' || j.status === 'cancelled';

/** A finished cluster job's clusters (null before it is done, or for a job of another kind). */
export const clusterResultOf = (j: Job): ClusterResult | null => (j.kind === 'cluster' && j.result && 'clusters' in j.result ? j.result : null);

/** A finished project job's points (null before it is done, or for a job of another kind). */
export const projectResultOf = (j: Job): ProjectResult | null => (j.kind === 'project' && j.result && 'points' in j.result ? j.result : null);
