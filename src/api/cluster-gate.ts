// Cluster mode's gate in front of a collection's /v1 routes (docs/cluster.md): `min_seq` waits
// until this node applied that sequence (read-your-writes on any replica); an api-role node,
// which holds the catalog but no documents, passes the reads it routes to replicas (with min_seq
// in res.locals.minSeq, for the replicas to wait on) and refuses the others rather than answer
// from an empty store; writes (upserts, deletes, ingest jobs) pass to routes that publish them
// to the log.
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { createError } from '../errors/index.js';
import type { ClusterHooks } from './deps.js';
import { parse } from './errors.js';

const minSeq = z.string().regex(/^\d{1,15}$/, 'expected a stream sequence, a whole number such as a write answer\'s "seq"').transform(Number).optional();

/** Reads an api-role node routes to the replicas of the collection's shards (api/v1/shard-reads.ts). */
function isRoutedRead(method: string, rest: string): boolean {
  return (
    (method === 'POST' && (rest === '/query' || rest === '/context' || rest === '/recommend')) ||
    (method === 'GET' && (rest === '/documents' || /^\/documents\/[^/]+(\/similar)?$/.test(rest)))
  );
}

/** Requests under /collections/:name that write through the log (the routes publish them). */
function isLogWrite(method: string, rest: string): boolean {
  return (method === 'PUT' && rest === '/documents') || (method === 'POST' && rest === '/ingest') || (method === 'POST' && rest === '/documents/delete') || (method === 'DELETE' && (/^\/documents\/[^/]+$/.test(rest) || rest === '/'));
}

export function clusterGate(cluster: ClusterHooks): RequestHandler {
  return (req, res, next) => {
    const name = req.params.name as string;
    const rest = req.path.replace(/\/+$/, '') || '/';
    if (isLogWrite(req.method, rest)) return next();
    const wanted = parse(minSeq, (req.query as Record<string, unknown>).min_seq, 'min_seq');
    // The collection's own description comes from the catalog, which every role holds.
    const catalogRead = req.method === 'GET' && rest === '/';
    if (cluster.role === 'api' && !catalogRead && !isRoutedRead(req.method, rest)) {
      throw createError('CLUSTER_UNSUPPORTED', { what: 'this read on an api-role node (it routes query, get and list documents, and context, recommend and similar of unsharded collections; read the rest from a replica or an "all" node)' });
    }
    if (wanted === undefined) return next();
    // The routes' own query schemas are strict and do not know min_seq: it is taken out here
    // (express 5 parses req.query from req.url on each read, so the URL itself is changed).
    req.url = withoutMinSeq(req.url);
    if (cluster.role === 'api') {
      res.locals.minSeq = wanted;
      return next();
    }
    cluster.waitApplied(name, wanted).then(() => next(), next);
  };
}

function withoutMinSeq(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  params.delete('min_seq');
  const query = params.toString();
  return url.slice(0, at) + (query === '' ? '' : `?${query}`);
}
