// Owns Qdrant's filter language, translated into Quiver's (storage/filter-sql.ts), which then
// compiles it like any other filter: must → $and, should → $or, must_not → $not of $or,
// min_should → $or of $and over the combinations, match {value | any | except} → $eq / $in / $nin,
// range → $gt/$gte/$lt/$lte, has_id → $id $in, is_null → the payload's null marker (payload.ts),
// is_empty → "no value at all" (absent, null or []). Keys are the dotted paths payload.ts stores
// nested payloads under, so "metadata.source" needs no translation. Every payload key the filter
// names is collected, so the route can warn about keys no point has.
import type { Collection } from '../../collection/index.js';
import { createError } from '../../errors/index.js';
import type { CompiledFilter } from '../../storage/index.js';
import { toDocumentId } from './ids.js';
import { NULLS } from './payload.js';

export interface TranslatedFilter {
  /** In Quiver's filter language; undefined for no filter. */
  filter: unknown;
  /** Payload keys the filter tests. */
  keys: string[];
}

type Q = Record<string, unknown>;

const NOTHING = { $not: {} };
const MAX_DEPTH = 8;
const MAX_COMBINATIONS = 64;

function refuse(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

function isObject(v: unknown): v is Q {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const and = (parts: unknown[]): unknown => (parts.length === 0 ? {} : parts.length === 1 ? parts[0] : { $and: parts });
const or = (parts: unknown[]): unknown => (parts.length === 0 ? NOTHING : parts.length === 1 ? parts[0] : { $or: parts });

/** "The key has some value": a string, a number or a boolean, itself or in an array. */
function hasValue(key: string): unknown {
  return { $or: [{ [key]: { $gte: '' } }, { [key]: { $gte: -Number.MAX_VALUE } }, { [key]: { $in: [true, false] } }] };
}

function combinations<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...combinations(rest, k - 1).map((c) => [first!, ...c]), ...combinations(rest, k)];
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

class Translator {
  readonly keys = new Set<string>();

  filter(f: unknown, at: string, depth: number): unknown {
    if (depth > MAX_DEPTH) refuse(at, `filters nested more than ${MAX_DEPTH} levels deep are not supported`);
    if (!isObject(f)) refuse(at, 'expected a filter object such as {"must": [...]}');
    const parts: unknown[] = [];
    for (const [clause, value] of Object.entries(f)) {
      const here = `${at}.${clause}`;
      if (value === null || value === undefined) continue;
      if (clause === 'min_should') {
        parts.push(this.minShould(value, here, depth));
        continue;
      }
      if (clause !== 'must' && clause !== 'should' && clause !== 'must_not') refuse(here, 'unknown filter clause (expected must, should, must_not or min_should)');
      const list = Array.isArray(value) ? value : [value];
      const conds = list.map((c, i) => this.condition(c, Array.isArray(value) ? `${here}.${i}` : here, depth + 1));
      if (clause === 'must') parts.push(...conds);
      // An empty should or must_not constrains nothing, as in Qdrant.
      else if (conds.length > 0) parts.push(clause === 'should' ? or(conds) : { $not: or(conds) });
    }
    return and(parts);
  }

  private minShould(v: unknown, at: string, depth: number): unknown {
    if (!isObject(v) || !Array.isArray(v.conditions)) refuse(at, 'expected {"conditions": [...], "min_count": n}');
    const n = v.min_count;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) refuse(`${at}.min_count`, 'expected an unsigned integer');
    const conds = v.conditions.map((c, i) => this.condition(c, `${at}.conditions.${i}`, depth + 1));
    if (n === 0) return {};
    if (n > conds.length) return NOTHING;
    if (binomial(conds.length, n) > MAX_COMBINATIONS) {
      refuse(at, `min_count ${n} of ${conds.length} conditions makes more than ${MAX_COMBINATIONS} combinations, which is not supported`);
    }
    return or(combinations(conds, n).map(and));
  }

  private key(v: unknown, at: string): string {
    if (typeof v !== 'string' || v === '') refuse(at, 'expected a payload key (a non-empty string)');
    if (v.includes('[')) refuse(at, 'array paths ("a[].b") are not supported: arrays of objects are not stored');
    if (v.startsWith('$') || v.startsWith('.')) refuse(at, 'payload keys do not start with "$" or "."');
    this.keys.add(v);
    return v;
  }

  condition(c: unknown, at: string, depth: number): unknown {
    if (!isObject(c)) refuse(at, 'expected a condition object');
    if ('key' in c) return this.field(c, at);
    if ('has_id' in c) {
      if (!Array.isArray(c.has_id)) refuse(`${at}.has_id`, 'expected an array of point ids');
      if (c.has_id.length === 0) return NOTHING;
      return { $id: { $in: c.has_id.map((id, i) => toDocumentId(id, `${at}.has_id.${i}`)) } };
    }
    if ('is_empty' in c || 'is_null' in c) {
      const which = 'is_empty' in c ? 'is_empty' : 'is_null';
      const field = c[which];
      if (!isObject(field)) refuse(`${at}.${which}`, 'expected {"key": "..."}');
      const key = this.key(field.key, `${at}.${which}.key`);
      return which === 'is_empty' ? { $not: hasValue(key) } : { [NULLS]: { $contains: key } };
    }
    if ('has_vector' in c) refuse(`${at}.has_vector`, 'not supported: a Quiver collection has one unnamed vector, which every point has');
    if ('nested' in c) refuse(`${at}.nested`, 'nested conditions are not supported: arrays of objects are not stored');
    if ('must' in c || 'should' in c || 'must_not' in c || 'min_should' in c) return this.filter(c, at, depth + 1);
    return refuse(at, 'unknown condition (expected key, has_id, is_empty, is_null or a nested filter)');
  }

  private field(c: Q, at: string): unknown {
    const key = this.key(c.key, `${at}.key`);
    const parts: unknown[] = [];
    for (const [name, v] of Object.entries(c)) {
      const here = `${at}.${name}`;
      if (name === 'key' || v === null || v === undefined) continue;
      if (name === 'match') parts.push(this.match(key, v, here));
      else if (name === 'range') parts.push(this.range(key, v, here));
      else if (name === 'is_empty' || name === 'is_null') {
        if (typeof v !== 'boolean') refuse(here, 'expected true or false');
        const test = name === 'is_empty' ? { $not: hasValue(key) } : { [NULLS]: { $contains: key } };
        parts.push(v ? test : { $not: test });
      } else if (name === 'values_count' || name.startsWith('geo_')) refuse(here, 'not supported by Quiver');
      else refuse(here, 'unknown field condition (expected match, range, is_empty or is_null)');
    }
    if (parts.length === 0) refuse(at, 'a field condition needs match, range, is_empty or is_null');
    return and(parts);
  }

  private match(key: string, m: unknown, at: string): unknown {
    if (!isObject(m)) refuse(at, 'expected {"value": ...}, {"any": [...]} or {"except": [...]}');
    const scalar = (v: unknown, where: string): string | number | boolean => {
      if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
      return refuse(where, 'expected a string, number or boolean');
    };
    if ('value' in m) return { [key]: { $eq: scalar(m.value, `${at}.value`) } };
    if ('any' in m || 'except' in m) {
      const which = 'any' in m ? 'any' : 'except';
      const list = m[which];
      if (!Array.isArray(list)) refuse(`${at}.${which}`, 'expected an array of values');
      const values = list.map((v, i) => scalar(v, `${at}.${which}.${i}`));
      if (values.length === 0) return which === 'any' ? NOTHING : {};
      return { [key]: { [which === 'any' ? '$in' : '$nin']: values } };
    }
    if ('text' in m || 'text_any' in m || 'phrase' in m) {
      refuse(at, 'full-text match is not supported here; Quiver\'s keyword and hybrid search are at POST /v1/collections/{name}/query');
    }
    return refuse(at, 'expected {"value": ...}, {"any": [...]} or {"except": [...]}');
  }

  private range(key: string, r: unknown, at: string): unknown {
    if (!isObject(r)) refuse(at, 'expected {"gt"|"gte"|"lt"|"lte": number}');
    const ops: Q = {};
    for (const [op, v] of Object.entries(r)) {
      if (v === null || v === undefined) continue;
      if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte') refuse(`${at}.${op}`, 'unknown bound (expected gt, gte, lt or lte)');
      if (typeof v !== 'number' || !Number.isFinite(v)) refuse(`${at}.${op}`, typeof v === 'string' ? 'date-time ranges are not supported; store and compare numbers' : 'expected a finite number');
      ops[`$${op}`] = v;
    }
    return Object.keys(ops).length === 0 ? {} : { [key]: ops };
  }
}

/** Translates a Qdrant filter (absent or null: none). */
export function translateFilter(f: unknown, field = 'filter'): TranslatedFilter {
  if (f === undefined || f === null) return { filter: undefined, keys: [] };
  const t = new Translator();
  const filter = t.filter(f, field, 0);
  return { filter, keys: [...t.keys] };
}

/** A filter for a collection, with a warning per payload key that no point of it has (Qdrant would silently match nothing on it). */
export function filterFor(c: Collection, raw: unknown, field = 'filter'): { filter: unknown; compiled: CompiledFilter | undefined; warnings: string[] } {
  const t = translateFilter(raw, field);
  const compiled = c.compileFilter(t.filter, field);
  const present = t.keys.length === 0 || c.documentCount() === 0 ? new Set(t.keys) : c.keysPresent(t.keys);
  const warnings = t.keys
    .filter((k) => !present.has(k))
    .map((k) => `${field}: payload key "${k}" has no value in any point of collection "${c.name}"; conditions on it match as if it were absent everywhere (check its spelling)`);
  return { filter: t.filter, compiled, warnings };
}
