// Owns who may do what: API keys (from config, kept only as sha256 hashes), the role a request
// needs, and collection scopes. Authentication is off when no key is configured (local use).
// The policy is one table over method and path, applied before routing, so a route added later
// is covered without touching this file: an unknown POST needs "write", an unknown path outside
// /v1 needs a key, and a key scoped to collections may only use paths under those collections.
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { ApiKey, Role } from '../config/index.js';
import { createError } from '../errors/index.js';

export interface Principal {
  role: Role;
  /** null: every collection. */
  collections: string[] | null;
  /** Names the key in logs; "anonymous" when authentication is off. */
  fingerprint: string;
}

const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };

/** Paths anyone may call: probes and the API description carry no data. */
const PUBLIC = new Set(['/healthz', '/readyz', '/openapi.json', '/docs']);

/** POST verbs under a collection that only read (search-like); every other POST writes. */
const READ_ACTIONS = new Set(['query', 'context', 'search', 'hybrid', 'keyword', 'recommend', 'cluster', 'clusters', 'project', 'projection', 'explain', 'count']);

interface Requirement {
  role: Role | 'public';
  /** The collection the path is about, if any. */
  collection?: string;
  /** The path may be used by a key scoped to collections (only with `collection` or a filtered list). */
  scopedOk: boolean;
  action: string;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** What a request needs. Matching is case-insensitive and ignores one trailing slash, as express routing does. */
export function requirementOf(method: string, rawPath: string): Requirement {
  const p = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  if (PUBLIC.has(p.toLowerCase())) return { role: 'public', scopedOk: true, action: 'public' };
  const seg = p.split('/').slice(1);
  const lower = seg.map((s) => s.toLowerCase());
  const m = method.toUpperCase();
  const reading = m === 'GET' || m === 'HEAD';
  if (lower[0] !== 'v1') return { role: 'read', scopedOk: false, action: `${m} ${p}` };
  if (lower[1] === 'admin') return { role: 'admin', scopedOk: false, action: 'administer the server' };
  if (lower[1] === 'collections') {
    if (seg.length === 2) {
      return reading ? { role: 'read', scopedOk: true, action: 'list collections' } : { role: 'admin', scopedOk: false, action: 'create collections' };
    }
    const collection = decode(seg[2]!);
    if (collection === undefined) return { role: 'admin', scopedOk: false, action: 'use a malformed path' };
    if (seg.length === 3) {
      if (reading) return { role: 'read', collection, scopedOk: true, action: 'read collections' };
      return { role: 'admin', collection, scopedOk: true, action: 'create or delete collections' };
    }
    if (reading) return { role: 'read', collection, scopedOk: true, action: 'read documents' };
    if (m === 'POST' && seg.length === 4 && READ_ACTIONS.has(lower[3]!)) return { role: 'read', collection, scopedOk: true, action: 'search' };
    return { role: 'write', collection, scopedOk: true, action: 'write documents' };
  }
  // A job belongs to one collection, known only once the job is read: the job routes answer 404
  // for jobs outside a scoped key's collections (routes/jobs.ts).
  if (lower[1] === 'jobs') {
    return reading ? { role: 'read', scopedOk: true, action: 'read ingest jobs' } : { role: 'write', scopedOk: true, action: 'cancel ingest jobs' };
  }
  // Other /v1 resources are not under one collection, so scoped keys stay out.
  return { role: reading ? 'read' : 'write', scopedOk: false, action: reading ? 'read this resource' : 'change this resource' };
}

function presentedKey(req: Request): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    // A malformed header counts as a wrong key rather than as no key.
    return m ? m[1] : '';
  }
  const header = req.headers['x-api-key'];
  return Array.isArray(header) ? header[0] : header;
}

/** Finds the key in constant time per configured key: every hash is compared, no early exit. */
function findKey(keys: ApiKey[], presented: string): ApiKey | undefined {
  const hash = crypto.createHash('sha256').update(presented).digest();
  let found: ApiKey | undefined;
  for (const k of keys) if (crypto.timingSafeEqual(k.hash, hash) && found === undefined) found = k;
  return found;
}

const ANONYMOUS: Principal = { role: 'admin', collections: null, fingerprint: 'anonymous' };

export function principalOf(res: Response): Principal {
  return (res.locals.principal as Principal | undefined) ?? ANONYMOUS;
}

/** Whether the request's key may see this collection (lists are filtered with it). */
export function canSeeCollection(res: Response, name: string): boolean {
  const p = principalOf(res);
  return p.collections === null || p.collections.includes(name);
}

export function authenticate(keys: ApiKey[]): RequestHandler {
  return (req, res, next) => {
    if (keys.length === 0) {
      res.locals.principal = ANONYMOUS;
      next();
      return;
    }
    const need = requirementOf(req.method, req.path);
    if (need.role === 'public') {
      next();
      return;
    }
    const presented = presentedKey(req);
    if (presented === undefined || presented === '') {
      res.setHeader('www-authenticate', 'Bearer realm="quiver"');
      throw createError('UNAUTHORIZED', { reason: presented === '' ? 'malformed Authorization header' : 'an API key is required' });
    }
    const key = findKey(keys, presented);
    if (!key) {
      res.setHeader('www-authenticate', 'Bearer realm="quiver", error="invalid_token"');
      throw createError('UNAUTHORIZED', { reason: 'the API key is not valid' });
    }
    const principal: Principal = { role: key.role, collections: key.collections, fingerprint: key.fingerprint };
    res.locals.principal = principal;
    if (RANK[key.role] < RANK[need.role]) {
      throw createError('FORBIDDEN', { reason: `role "${key.role}" cannot ${need.action} (needs "${need.role}")` });
    }
    if (key.collections !== null) {
      if (!need.scopedOk) throw createError('FORBIDDEN', { reason: `a key scoped to collections cannot ${need.action}` });
      if (need.collection !== undefined && !key.collections.includes(need.collection)) {
        throw createError('FORBIDDEN', { reason: `collection "${need.collection}" is outside the key's scope` });
      }
    }
    next();
  };
}
