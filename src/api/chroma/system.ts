// Chroma's server routes: heartbeat, version, pre-flight checks, identity, and the one tenant and
// database Quiver serves (default_tenant/default_database, what chromadb clients use unless
// told otherwise). Quiver has one namespace: other tenant or database names are a 404 that says
// so, and creating or deleting tenants and databases is refused.
import type { Request, Router } from 'express';
import { createError } from '../../errors/index.js';
import { principalOf } from '../auth.js';
import type { RouteContext } from '../context.js';
import { parse } from '../errors.js';
import { namedBody } from './schemas.js';
import { DATABASE, TENANT } from './views.js';

/** The Chroma API version these routes follow (the chromadb 3.x client's server line). */
const CHROMA_VERSION = '1.0.0';

/** A record written as JSON takes about this many bytes (a 384-d embedding and a short text): the batch the body limit allows. */
const BYTES_PER_RECORD = 8192;

function unsupported(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

const ONE_NAMESPACE = `Quiver serves one tenant, "${TENANT}", with one database, "${DATABASE}"`;

/** A path parameter (express has decoded it). */
export function pathParam(req: Request, name: string): string {
  const v: unknown = req.params[name];
  return typeof v === 'string' ? v : '';
}

/** 404 for a tenant or database other than Quiver's one. */
export function checkNamespace(tenant: string, database?: string): void {
  if (tenant !== TENANT) throw createError('NAMESPACE_NOT_FOUND', { kind: 'tenant', name: tenant, only: ONE_NAMESPACE });
  if (database !== undefined && database !== DATABASE) throw createError('NAMESPACE_NOT_FOUND', { kind: 'database', name: database, only: ONE_NAMESPACE });
}

/** Routes that answer before the server is ready (clients probe them first). */
export function probeRoutes(router: Router, { config }: RouteContext): void {
  router.get('/heartbeat', (_req, res) => {
    res.json({ 'nanosecond heartbeat': Date.now() * 1e6 });
  });
  router.get('/version', (_req, res) => {
    res.json(CHROMA_VERSION);
  });
  router.get('/healthcheck', (_req, res) => {
    res.json({ is_executor_ready: true, is_log_client_ready: true });
  });
  router.get('/pre-flight-checks', (_req, res) => {
    const byBody = Math.max(1, Math.floor(config.maxBodyBytes / BYTES_PER_RECORD));
    res.json({ max_batch_size: Math.min(config.maxDocumentsPerRequest, byBody), supports_base64_encoding: false });
  });
}

export function namespaceRoutes(router: Router, { json, requireJson }: RouteContext): void {
  router.get('/auth/identity', (_req, res) => {
    res.json({ user_id: principalOf(res).fingerprint, tenant: TENANT, databases: [DATABASE] });
  });
  router.post('/tenants', requireJson, json, (req) => {
    const { name } = parse(namedBody, req.body);
    if (name === TENANT) throw createError('NAMESPACE_EXISTS', { kind: 'tenant', name });
    unsupported('name', `${ONE_NAMESPACE}; other tenants cannot be created`);
  });
  router.get('/tenants/:tenant', (req, res) => {
    checkNamespace(pathParam(req, 'tenant'));
    res.json({ name: TENANT, resource_name: null });
  });
  router.post('/tenants/:tenant/databases', requireJson, json, (req) => {
    checkNamespace(pathParam(req, 'tenant'));
    const { name } = parse(namedBody, req.body);
    if (name === DATABASE) throw createError('NAMESPACE_EXISTS', { kind: 'database', name });
    unsupported('name', `${ONE_NAMESPACE}; other databases cannot be created`);
  });
  router.get('/tenants/:tenant/databases', (req, res) => {
    checkNamespace(pathParam(req, 'tenant'));
    res.json([{ id: '00000000-0000-0000-0000-000000000000', name: DATABASE, tenant: TENANT }]);
  });
  router.get('/tenants/:tenant/databases/:database', (req, res) => {
    checkNamespace(pathParam(req, 'tenant'), pathParam(req, 'database'));
    res.json({ id: '00000000-0000-0000-0000-000000000000', name: DATABASE, tenant: TENANT });
  });
}
