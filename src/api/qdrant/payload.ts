// Owns how a Qdrant payload (any JSON object) is kept as Quiver metadata (a flat object of
// scalars and arrays of scalars), and back. Nested objects become dotted keys — LangChain's
// {content, metadata: {source}} is stored as "content" and "metadata.source" — so a filter on
// metadata.source is a filter on the stored key of that name, answered from the metadata index.
// What flattening would lose is kept beside it in two marker keys that start with "." (a dotted
// path never does): NULLS lists the paths whose value is null, EMPTY the paths holding {}.
// Refused with a 400 naming the key, because they could not come back as they were sent: keys
// that contain "." or are empty, arrays of objects or of arrays, and null inside arrays.
import type { Metadata, MetadataValue } from '../../domain/types.js';
import { createError } from '../../errors/index.js';
import { keyProblem, wellFormedProblem } from '../../text/well-formed.js';

export const NULLS = '.null';
export const EMPTY = '.empty';

/** Payload keys whose string value is also stored as the document's text, for Quiver's keyword and hybrid search. */
const TEXT_KEYS = ['content', 'page_content', 'text', 'document'] as const;

const MAX_KEYS = 256;
const MAX_PATH = 256;
const MAX_ARRAY = 1024;
const MAX_DEPTH = 16;

export type Payload = Record<string, unknown>;

function refuse(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

function isObject(v: unknown): v is Payload {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The metadata that stands for a payload; `field` names it in errors ("points.3.payload"). */
export function toMetadata(payload: Payload, field: string): Metadata {
  const out: Metadata = {};
  const nulls: string[] = [];
  const empty: string[] = [];
  const walk = (obj: Payload, prefix: string, depth: number): void => {
    if (depth > MAX_DEPTH) refuse(`${field}.${prefix}`, `nested more than ${MAX_DEPTH} levels deep`);
    for (const [key, value] of Object.entries(obj)) {
      const at = `${field}.${prefix}${key}`;
      if (key === '') refuse(at, 'payload keys must not be empty');
      if (key.includes('.')) refuse(at, 'payload keys must not contain "." (nested payloads are stored as dotted keys, and Qdrant filters read "." as nesting)');
      if (prefix === '' && key.startsWith('$')) refuse(at, 'payload keys must not start with "$"');
      if (key === '__proto__') refuse(at, 'the payload key "__proto__" is not supported');
      const problem = keyProblem(key, 'payload keys');
      if (problem !== undefined) refuse(at, problem);
      const path = prefix + key;
      if (path.length > MAX_PATH) refuse(at, `the dotted key is longer than ${MAX_PATH} characters`);
      if (value === null) nulls.push(path);
      else if (isObject(value)) {
        if (Object.keys(value).length === 0) empty.push(path);
        else walk(value, `${path}.`, depth + 1);
      } else if (Array.isArray(value)) {
        if (value.length > MAX_ARRAY) refuse(at, `arrays may hold at most ${MAX_ARRAY} values`);
        value.forEach((v, i) => {
          if (!isScalar(v)) refuse(`${at}.${i}`, 'array elements must be strings, numbers or booleans (arrays of objects, of arrays or with null are not supported)');
          scalarProblem(v, `${at}.${i}`);
        });
        out[path] = value as MetadataValue;
      } else if (isScalar(value)) {
        scalarProblem(value, at);
        out[path] = value;
      } else refuse(at, 'expected a JSON value');
      if (Object.keys(out).length > MAX_KEYS) refuse(field, `a payload may hold at most ${MAX_KEYS} values once nested objects are flattened`);
    }
  };
  walk(payload, '', 0);
  if (nulls.length > 0) out[NULLS] = nulls;
  if (empty.length > 0) out[EMPTY] = empty;
  return out;
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number';
}

function scalarProblem(v: string | number | boolean, at: string): void {
  if (typeof v === 'number' && !Number.isFinite(v)) refuse(at, 'numbers must be finite');
  if (typeof v === 'string') {
    const p = wellFormedProblem(v);
    if (p !== undefined) refuse(at, p);
  }
}

/** The text a payload carries for keyword search (LangChain's content, or page_content, text, document), if any. */
export function textOf(payload: Payload): string | undefined {
  for (const key of TEXT_KEYS) {
    const v = payload[key];
    if (typeof v === 'string' && v.trim() !== '' && !v.includes('\0') && wellFormedProblem(v) === undefined) return v;
  }
  return undefined;
}

/** A JSON object without a prototype: a key named "__proto__" is then a key like any other. */
function bare(): Payload {
  return Object.create(null) as Payload;
}

/** Puts a value at a path, making objects on the way; false when something else is already in the way. */
function place(obj: Payload, path: string[], value: unknown): boolean {
  let at = obj;
  for (const part of path.slice(0, -1)) {
    const next = Object.hasOwn(at, part) ? at[part] : undefined;
    if (next === undefined) at = at[part] = bare();
    else if (isObject(next)) at = next;
    else return false;
  }
  const last = path[path.length - 1]!;
  if (Object.hasOwn(at, last)) return false;
  at[last] = value;
  return true;
}

/**
 * The payload that metadata stands for. Keys written through /v1 with dots in them nest too
 * ("a.b" becomes {a: {b}}); where that would clash with a value already there (both "a" and
 * "a.b"), the dotted key is kept as it is.
 */
export function toPayload(metadata: Metadata): Payload {
  const out = bare();
  const entries: [string, unknown][] = Object.entries(metadata).filter(([k]) => k !== NULLS && k !== EMPTY);
  const marked = (key: string, value: () => unknown): [string, unknown][] => {
    const paths = metadata[key];
    return Array.isArray(paths) ? paths.filter((p): p is string => typeof p === 'string').map((p) => [p, value()]) : [];
  };
  entries.push(...marked(NULLS, () => null), ...marked(EMPTY, bare));
  // Shorter paths first, so that a clash is met at the longer one, which then stays dotted.
  entries.sort((a, b) => a[0].split('.').length - b[0].split('.').length);
  for (const [key, value] of entries) {
    const path = key.split('.');
    if (path.includes('') || !place(out, path, value)) out[key] = value;
  }
  return out;
}

/** with_payload: true/false, a list of keys to keep, or {include} / {exclude}; keys may be dotted paths. */
export type PayloadSelector = boolean | string[] | { include: string[] } | { exclude: string[] };

/** The value at a path, through own keys only (never a prototype's). */
function getPath(obj: Payload, path: string[]): unknown {
  let at: unknown = obj;
  for (const part of path) {
    if (!isObject(at) || !Object.hasOwn(at, part)) return undefined;
    at = at[part];
  }
  return at;
}

function deletePath(obj: Payload, path: string[]): void {
  const parent = getPath(obj, path.slice(0, -1));
  if (isObject(parent)) delete parent[path[path.length - 1]!];
}

/** The part of a payload a selector asks for (an exclude edits the payload given); undefined when it asks for none. */
export function selectPayload(payload: Payload, selector: PayloadSelector): Payload | undefined {
  if (selector === false) return undefined;
  if (selector === true) return payload;
  if (Array.isArray(selector) || 'include' in selector) {
    const keys = Array.isArray(selector) ? selector : selector.include;
    const out = bare();
    for (const key of keys) {
      const path = key.split('.');
      const v = getPath(payload, path);
      if (v !== undefined) place(out, path, v);
    }
    return out;
  }
  for (const key of selector.exclude) deletePath(payload, key.split('.'));
  return payload;
}
