// Owns the two bodies POST /v1/collections/{name}/ingest accepts, and how each becomes a job:
//   application/json      {documents: [...], chunking?}: read whole (within QUIVER_INGEST_MAX_BODY),
//                         then each document checked and recorded a slice at a time, yielding to
//                         the event loop between slices;
//   application/x-ndjson  one document per line, chunking in the query string
//                         (?chunking=sentence&max_tokens=200): read, checked and recorded as it
//                         streams, so memory holds one slice whatever the body's size.
// Either way the job is queued only once the whole request is in; any error (a bad document,
// a duplicate id, a full queue, a body cut off) deletes what was recorded, and the answer names
// the place: "documents.3.vector: ..." or "line 7: vector: ...".
import type { Request, RequestHandler, Response } from 'express';
import type { DocumentInput, Job } from '../../domain/types.js';
import { QuiverError, createError } from '../../errors/index.js';
import type { FieldIssue } from '../../errors/index.js';
import type { Receiving } from '../../ingest/index.js';
import { openBody } from '../body.js';
import { parse } from '../errors.js';
import { LineSplitter } from '../ndjson.js';
import type { Line } from '../ndjson.js';
import type { RouteContext } from '../context.js';
import * as s from './schemas.js';
import { param, toChunkingSpec } from './views.js';

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];

export const jsonName = (position: number) => (field?: string) => (field === undefined ? `documents.${position}` : `documents.${position}.${field}`);
/** NDJSON positions are line numbers - 1, so that messages can name both lines of a duplicate. */
export const lineName = (position: number) => (field?: string) => (field === undefined ? `line ${position + 1}` : `line ${position + 1}: ${field}`);

/**
 * Feeds documents to a new job and commits it. On any failure the job is deleted: at once as far
 * as anyone can see (it was never shown, and stops counting as pending), its rows in the
 * background, so the answer does not wait for them (a million rows take tens of seconds).
 */
async function receive(r: Receiving, feed: (r: Receiving) => Promise<void>, chunking: Parameters<Receiving['commit']>[0]): Promise<Job> {
  try {
    await feed(r);
    return await r.commit(chunking);
  } catch (err) {
    void r.abort(); // never rejects: a failure is logged, and start-up deletes what is left
    throw err;
  }
}

/** A line's document through the request schema, the issues renamed "line N: field". */
function parseLine(value: unknown, line: number): DocumentInput {
  try {
    return parse(s.documentInput, value);
  } catch (err) {
    if (!(err instanceof QuiverError && err.code === 'VALIDATION_FAILED')) throw err;
    const issues = (err.details as { issues: FieldIssue[] }).issues.map((i) => ({ field: i.field === 'body' ? `line ${line}` : `line ${line}: ${i.field}`, message: i.message }));
    throw createError('VALIDATION_FAILED', { issues });
  }
}

function chunkingFromQuery(query: unknown) {
  const q = parse(s.ingestNdjsonQuery, query, 'query');
  const { chunking: strategy, ...sizes } = q;
  if (strategy === undefined) {
    const given = Object.entries(sizes).find(([, v]) => v !== undefined)?.[0];
    if (given !== undefined) throw createError('VALIDATION_FAILED', { issues: [{ field: 'query.chunking', message: `give the strategy (chunking=sentence, fixed or none) with ${given}` }] });
    return undefined;
  }
  return toChunkingSpec(parse(s.chunkingInput, { strategy, ...sizes }, 'chunking'));
}

export function isNdjson(req: Request): boolean {
  return typeof req.is(NDJSON_TYPES) === 'string';
}

/** The JSON body's documents, checked and recorded a slice at a time. */
export function ingestJson(ctx: RouteContext, view: (j: Job) => unknown): RequestHandler {
  const envelope = s.ingestEnvelope(ctx.config.ingest.maxDocuments);
  return async (req, res) => {
    const c = ctx.collections.get(param(req, 'name')); // 404 before 400
    const body = parse(envelope, req.body);
    const r = await ctx.runner.begin(c.name, { name: jsonName, expected: body.documents.length });
    const job = await receive(
      r,
      async () => {
        for (let i = 0; i < body.documents.length; i++) {
          r.push(i, parse(s.documentInput, body.documents[i], `documents.${i}`));
          if (r.due) await r.flush();
        }
      },
      body.chunking && toChunkingSpec(body.chunking),
    );
    res.status(202).location(`/v1/jobs/${job.id}`).json({ job: view(job) });
  };
}

/** Streams an NDJSON body into a job. */
export async function ingestNdjson(ctx: RouteContext, view: (j: Job) => unknown, req: Request, res: Response): Promise<void> {
  const { config, runner } = ctx;
  const c = ctx.collections.get(param(req, 'name'));
  const chunking = chunkingFromQuery(req.query);
  const max = config.ingest.maxDocuments;
  const r = await runner.begin(c.name, { name: lineName });
  const reservation = ctx.bodyBudget.open(res);
  // The request timeout counts from the last line received, not from the start: a long stream
  // that keeps coming is not cut off, one that stalls is (app.ts).
  const rearm = typeof res.locals.rearmTimeout === 'function' ? (res.locals.rearmTimeout as () => void) : () => undefined;
  const job = await receive(
    r,
    async () => {
      const source = openBody(req, res, reservation);
      const lines = new LineSplitter(config.maxBodyBytes);
      // Bytes of lines read but not yet recorded: given back to the budget at each flush.
      let unrecorded = 0;
      const take = (line: Line) => {
        unrecorded += line.bytes;
        if (line.text.trim() === '') return;
        if (r.count >= max) {
          throw createError('VALIDATION_FAILED', { issues: [{ field: `line ${line.number}`, message: `at most ${max} documents per job (QUIVER_INGEST_MAX_DOCUMENTS)` }] });
        }
        let value: unknown;
        try {
          value = JSON.parse(line.text);
        } catch (err) {
          throw createError('INVALID_JSON', { reason: `line ${line.number}: ${err instanceof Error ? err.message : String(err)}` });
        }
        r.push(line.number - 1, parseLine(value, line.number));
      };
      try {
        for await (const chunk of source.chunks) {
          for (const line of lines.push(chunk)) {
            rearm();
            take(line);
            if (r.due) {
              await r.flush();
              reservation.release(unrecorded);
              unrecorded = 0;
            }
          }
        }
        const last = lines.end();
        if (last) take(last);
      } catch (err) {
        // The rest of the body is not read: the answer goes out now, and the connection closes after it.
        source.stop();
        throw err;
      }
    },
    chunking,
  );
  res.status(202).location(`/v1/jobs/${job.id}`).json({ job: view(job) });
}
