// The one access table: every route of every HTTP surface (Quiver's own /v1, the OpenAI
// embeddings routes, Chroma's /api/v2, Qdrant's REST at the root) with the role it needs and the
// collection it is about. auth.ts applies it before routing; a test (test/integration/auth.test.ts)
// checks that every route the app registers matches a rule here, so a route added without one
// fails CI instead of inheriting a guess. A request that matches no rule (no route serves it
// either, so it ends in a 404) needs a key: "read" to look, "admin" for any other method.
import type { Role } from '../config/index.js';

/** Who may call a route: a role (or above), or anyone. */
export type Need = Role | 'public';

/**
 * How a route relates to collection scopes (keys limited to some collections):
 * - `collection`: about the one collection named by `collection` (a path parameter); a scoped key
 *   may use it for its own collections only;
 * - `filtered`: a list the route itself filters to the key's collections;
 * - `none`: not about collections a key could be scoped to (the server, its metrics): scoped keys stay out.
 */
export type Scope = 'collection' | 'filtered' | 'none';

export interface AccessRule {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** An express pattern: literal segments (matched case-insensitively) and :parameters. */
  path: string;
  need: Need;
  scope: Scope;
  /** For scope `collection`: the parameter that names the collection, and how (see Resolvers). */
  collection?: { param: string; by: 'name' | 'chroma' };
  /** Said in a 403: "role read cannot <action>". */
  action: string;
}

const named = { param: 'name', by: 'name' } as const;
const chromaId = { param: 'collection_id', by: 'chroma' } as const;

/** Rules for one collection, all named by the same parameter. */
function on(collection: AccessRule['collection'], rules: [AccessRule['method'], string, Need, string][]): AccessRule[] {
  return rules.map(([method, path, need, action]) => ({ method, path, need, scope: 'collection', collection, action }));
}

const CHROMA_DB = '/api/v2/tenants/:tenant/databases/:database';

export const ACCESS_TABLE: readonly AccessRule[] = [
  // --- the server: probes and descriptions carry no data ---
  { method: 'GET', path: '/healthz', need: 'public', scope: 'filtered', action: 'check health' },
  { method: 'GET', path: '/readyz', need: 'public', scope: 'filtered', action: 'check readiness' },
  { method: 'GET', path: '/openapi.json', need: 'public', scope: 'filtered', action: 'read the API description' },
  { method: 'GET', path: '/docs', need: 'public', scope: 'filtered', action: 'read the API docs' },
  // Quiver Studio (api/studio.ts): the page and its assets hold no data; it asks for a key and
  // reads everything through /v1 with it.
  { method: 'GET', path: '/studio', need: 'public', scope: 'filtered', action: 'open the Studio' },
  { method: 'GET', path: '/studio/assets/:file', need: 'public', scope: 'filtered', action: 'open the Studio' },
  { method: 'GET', path: '/metrics', need: 'read', scope: 'none', action: 'read metrics' },

  // --- Quiver /v1 ---
  { method: 'GET', path: '/v1/collections', need: 'read', scope: 'filtered', action: 'list collections' },
  { method: 'POST', path: '/v1/collections', need: 'admin', scope: 'none', action: 'create collections' },
  ...on(named, [
    ['GET', '/v1/collections/:name', 'read', 'read collections'],
    ['DELETE', '/v1/collections/:name', 'admin', 'create or delete collections'],
    ['GET', '/v1/collections/:name/documents', 'read', 'read documents'],
    ['GET', '/v1/collections/:name/documents/:id', 'read', 'read documents'],
    ['GET', '/v1/collections/:name/documents/:id/similar', 'read', 'search'],
    ['PUT', '/v1/collections/:name/documents', 'write', 'write documents'],
    ['DELETE', '/v1/collections/:name/documents/:id', 'write', 'write documents'],
    ['POST', '/v1/collections/:name/documents/delete', 'write', 'write documents'],
    ['POST', '/v1/collections/:name/ingest', 'write', 'write documents'],
    ['POST', '/v1/collections/:name/query', 'read', 'search'],
    ['POST', '/v1/collections/:name/context', 'read', 'search'],
    // Answers read the collection as /context does; the Bedrock call they make is the server's own.
    ['POST', '/v1/collections/:name/answer', 'read', 'search'],
    ['POST', '/v1/collections/:name/recommend', 'read', 'search'],
    ['POST', '/v1/collections/:name/cluster', 'read', 'search'],
    ['POST', '/v1/collections/:name/project', 'read', 'search'],
    ['POST', '/v1/collections/:name/reduce/refit', 'write', 'write documents'],
  ]),
  // A job belongs to one collection, known only once the job is read: the job routes answer 404
  // for jobs outside a scoped key's collections (v1/jobs.ts).
  { method: 'GET', path: '/v1/jobs', need: 'read', scope: 'filtered', action: 'read ingest jobs' },
  { method: 'GET', path: '/v1/jobs/:id', need: 'read', scope: 'filtered', action: 'read ingest jobs' },
  { method: 'POST', path: '/v1/jobs/:id/cancel', need: 'write', scope: 'filtered', action: 'cancel ingest jobs' },
  { method: 'POST', path: '/v1/admin/backup', need: 'admin', scope: 'none', action: 'administer the server' },
  { method: 'GET', path: '/v1/admin/cluster/nodes', need: 'admin', scope: 'none', action: 'administer the server' },
  { method: 'POST', path: '/v1/admin/cluster/snapshot', need: 'admin', scope: 'none', action: 'administer the server' },

  // --- OpenAI-compatible embeddings (api/openai): computing vectors reads no data and writes none ---
  { method: 'POST', path: '/v1/embeddings', need: 'read', scope: 'filtered', action: 'compute embeddings' },
  { method: 'GET', path: '/v1/models', need: 'read', scope: 'filtered', action: 'list models' },
  { method: 'GET', path: '/v1/models/:model', need: 'read', scope: 'filtered', action: 'list models' },

  // --- Chroma v2 (api/chroma): one tenant and database; collections by name or id ---
  { method: 'GET', path: '/api/v2/heartbeat', need: 'public', scope: 'filtered', action: 'check health' },
  { method: 'GET', path: '/api/v2/version', need: 'public', scope: 'filtered', action: 'read the version' },
  { method: 'GET', path: '/api/v2/healthcheck', need: 'public', scope: 'filtered', action: 'check health' },
  { method: 'GET', path: '/api/v2/pre-flight-checks', need: 'public', scope: 'filtered', action: 'read the server limits' },
  { method: 'GET', path: '/api/v2/auth/identity', need: 'read', scope: 'filtered', action: 'read its identity' },
  { method: 'POST', path: '/api/v2/tenants', need: 'admin', scope: 'none', action: 'create tenants' },
  { method: 'GET', path: '/api/v2/tenants/:tenant', need: 'read', scope: 'filtered', action: 'read tenants' },
  { method: 'POST', path: '/api/v2/tenants/:tenant/databases', need: 'admin', scope: 'none', action: 'create databases' },
  { method: 'GET', path: '/api/v2/tenants/:tenant/databases', need: 'read', scope: 'filtered', action: 'list databases' },
  { method: 'GET', path: '/api/v2/tenants/:tenant/databases/:database', need: 'read', scope: 'filtered', action: 'read databases' },
  { method: 'GET', path: `${CHROMA_DB}/collections`, need: 'read', scope: 'filtered', action: 'list collections' },
  { method: 'POST', path: `${CHROMA_DB}/collections`, need: 'admin', scope: 'none', action: 'create collections' },
  { method: 'GET', path: `${CHROMA_DB}/collections_count`, need: 'read', scope: 'filtered', action: 'count collections' },
  ...on(chromaId, [
    ['GET', `${CHROMA_DB}/collections/:collection_id`, 'read', 'read collections'],
    ['GET', `${CHROMA_DB}/collections/by-id/:collection_id`, 'read', 'read collections'],
    ['PUT', `${CHROMA_DB}/collections/:collection_id`, 'admin', 'modify collections'],
    ['DELETE', `${CHROMA_DB}/collections/:collection_id`, 'admin', 'create or delete collections'],
    ['GET', `${CHROMA_DB}/collections/:collection_id/count`, 'read', 'read documents'],
    ['POST', `${CHROMA_DB}/collections/:collection_id/get`, 'read', 'read documents'],
    ['POST', `${CHROMA_DB}/collections/:collection_id/query`, 'read', 'search'],
    ['POST', `${CHROMA_DB}/collections/:collection_id/add`, 'write', 'write documents'],
    ['POST', `${CHROMA_DB}/collections/:collection_id/upsert`, 'write', 'write documents'],
    ['POST', `${CHROMA_DB}/collections/:collection_id/update`, 'write', 'write documents'],
    ['POST', `${CHROMA_DB}/collections/:collection_id/delete`, 'write', 'write documents'],
  ]),

  // --- Qdrant REST (api/qdrant), at the root as a Qdrant server has it ---
  { method: 'GET', path: '/', need: 'public', scope: 'filtered', action: 'read the version' },
  { method: 'GET', path: '/collections', need: 'read', scope: 'filtered', action: 'list collections' },
  ...on(named, [
    ['GET', '/collections/:name', 'read', 'read collections'],
    ['GET', '/collections/:name/exists', 'read', 'read collections'],
    ['PUT', '/collections/:name', 'admin', 'create or delete collections'],
    ['DELETE', '/collections/:name', 'admin', 'create or delete collections'],
    ['PUT', '/collections/:name/index', 'admin', 'modify collections'],
    ['DELETE', '/collections/:name/index/:field', 'admin', 'modify collections'],
    ['PUT', '/collections/:name/points', 'write', 'write documents'],
    ['POST', '/collections/:name/points/delete', 'write', 'write documents'],
    ['POST', '/collections/:name/points', 'read', 'read documents'],
    ['GET', '/collections/:name/points/:id', 'read', 'read documents'],
    ['POST', '/collections/:name/points/scroll', 'read', 'read documents'],
    ['POST', '/collections/:name/points/count', 'read', 'read documents'],
    ['POST', '/collections/:name/points/search', 'read', 'search'],
    ['POST', '/collections/:name/points/search/batch', 'read', 'search'],
    ['POST', '/collections/:name/points/recommend', 'read', 'search'],
    ['POST', '/collections/:name/points/recommend/batch', 'read', 'search'],
    ['POST', '/collections/:name/points/query', 'read', 'search'],
    ['POST', '/collections/:name/points/query/batch', 'read', 'search'],
  ]),
];

export interface Requirement {
  need: Need;
  scope: Scope;
  /** The collection the path is about, as written in it (resolve with `by`). */
  collection?: { raw: string; by: 'name' | 'chroma' };
  action: string;
  /** The rule matched, or undefined for a request no rule covers. */
  rule?: AccessRule;
}

interface Compiled {
  rule: AccessRule;
  segments: string[];
  /** Literal segments: the most specific rule wins when several match. */
  literals: number;
}

function compile(rule: AccessRule): Compiled {
  const segments = rule.path === '/' ? [] : rule.path.split('/').slice(1).map((s) => (s.startsWith(':') ? s : s.toLowerCase()));
  return { rule, segments, literals: segments.filter((s) => !s.startsWith(':')).length };
}

const COMPILED = ACCESS_TABLE.map(compile);

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The rule for a route as express registered it (method and pattern), for the coverage test. */
export function ruleFor(method: string, pattern: string): AccessRule | undefined {
  return ACCESS_TABLE.find((r) => r.method === method.toUpperCase() && r.path.toLowerCase() === pattern.toLowerCase());
}

/** What a request needs. Matching is case-insensitive and ignores one trailing slash, as express routing does. */
export function requirementOf(method: string, rawPath: string): Requirement {
  const p = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const seg = p === '/' ? [] : p.split('/').slice(1);
  // HEAD is answered by GET routes.
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  let best: { c: Compiled; params: Record<string, string> } | undefined;
  for (const c of COMPILED) {
    if (c.rule.method !== m || c.segments.length !== seg.length) continue;
    if (best !== undefined && best.c.literals >= c.literals) continue;
    const params: Record<string, string> = {};
    const ok = c.segments.every((s, i) => {
      if (s.startsWith(':')) {
        params[s.slice(1)] = seg[i]!;
        return seg[i] !== '';
      }
      return s === seg[i]!.toLowerCase();
    });
    if (ok) best = { c, params };
  }
  if (best === undefined) {
    const reading = m === 'GET';
    return { need: reading ? 'read' : 'admin', scope: 'none', action: reading ? 'read this resource' : 'change this resource' };
  }
  const { rule } = best.c;
  if (rule.collection === undefined) return { need: rule.need, scope: rule.scope, action: rule.action, rule };
  const raw = decode(best.params[rule.collection.param]!);
  // A malformed name is nobody's collection: only unscoped keys of the rule's role get through
  // (to the route's own 400).
  if (raw === undefined) return { need: rule.need, scope: 'none', action: 'use a malformed path', rule };
  return { need: rule.need, scope: 'collection', collection: { raw, by: rule.collection.by }, action: rule.action, rule };
}
