// Owns who may do what: API keys (from config, kept only as sha256 hashes), the role a request
// needs, and collection scopes. Authentication is off when no key is configured (local use).
// What each route needs is one table over method and path (access.ts), applied here before
// routing; a key scoped to collections may only use routes about those collections, or lists the
// route filters for it.
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { ApiKey, Role } from '../config/index.js';
import { createError } from '../errors/index.js';
import { requirementOf } from './access.js';

export interface Principal {
  role: Role;
  /** null: every collection. */
  collections: string[] | null;
  /** Names the key in logs; "anonymous" when authentication is off. */
  fingerprint: string;
}

const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };

/**
 * Turns the collection a path names into a Quiver collection name, per how the surface names it
 * (api/access.ts): by name, or by a Chroma collection id. undefined: no such collection.
 */
export type CollectionResolver = (raw: string, by: 'name' | 'chroma') => string | undefined;

const byName: CollectionResolver = (raw) => raw;

/** Headers that carry a bare key: Quiver's own, Chroma's and Qdrant's clients' (in that order). */
const KEY_HEADERS = ['x-api-key', 'x-chroma-token', 'api-key'] as const;

function presentedKey(req: Request): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    // A malformed header counts as a wrong key rather than as no key.
    return m ? m[1] : '';
  }
  for (const name of KEY_HEADERS) {
    const header = req.headers[name];
    if (header !== undefined) return Array.isArray(header) ? header[0] : header;
  }
  return undefined;
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

export function authenticate(keys: ApiKey[], resolve: CollectionResolver = byName): RequestHandler {
  return (req, res, next) => {
    if (keys.length === 0) {
      res.locals.principal = ANONYMOUS;
      next();
      return;
    }
    const need = requirementOf(req.method, req.path);
    if (need.need === 'public') {
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
    if (RANK[key.role] < RANK[need.need]) {
      throw createError('FORBIDDEN', { reason: `role "${key.role}" cannot ${need.action} (needs "${need.need}")` });
    }
    if (key.collections !== null) {
      if (need.scope === 'none') throw createError('FORBIDDEN', { reason: `a key scoped to collections cannot ${need.action}` });
      if (need.collection !== undefined) {
        // An id that names no collection is outside every scope: the key learns nothing of it.
        const name = resolve(need.collection.raw, need.collection.by);
        if (name === undefined || !key.collections.includes(name)) {
          throw createError('FORBIDDEN', { reason: `collection "${need.collection.raw}" is outside the key's scope` });
        }
      }
    }
    next();
  };
}
