// Owns the metadata filter language and its compilation to SQL: the one place that knows what a
// filter means. Every endpoint that takes `filter` (query, recommend, cluster, project, list,
// delete) compiles it here into a WHERE fragment over the documents row (aliased d) that only
// this folder's queries read: value tests read metadata_values (one row per value, indexed by
// key and value; migrations/005). Callers above storage hold the result as an opaque
// CompiledFilter.
//
//   {"field": value}                                   equality
//   {"field": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte"|"$in"|"$nin"|"$exists": ...}}
//   {"field": {"$contains"|"$not_contains": value}}    an array has (or lacks) the value
//   {"$id": id}, {"$id": {"$eq"|"$ne"|"$in"|"$nin": ...}}  the document's id
//   {"$document": {"$contains"|"$not_contains": text}}     the document's text has (or lacks) a substring
//   {"$and": [...]}, {"$or": [...]}, {"$not": {...}}
//
// $contains is $eq and $not_contains is $ne, named as Chroma names them for arrays (a scalar
// value counts as an array of one). $id lets the Chroma and Qdrant surfaces restrict a search or
// a delete to given documents (Qdrant's has_id) inside the same compiled filter. $document is
// Chroma's where_document: an exact, case-sensitive substring test (instr) on the whole text, not
// an FTS match, which is token-based and would not find "cat" in "concatenate"; a document
// without text contains nothing.
//
// Several keys in one object, or several operators on one field, all have to hold. An array in
// the metadata matches $eq/$in (and the range operators) when any element does, and $ne/$nin when
// no element does; a missing field never matches $eq/$in/ranges and always matches $ne/$nin.
// Values are typed: "1" does not equal 1, and true does not equal 1.
import { createError } from '../errors/index.js';
import { keyProblem, wellFormedProblem } from '../text/well-formed.js';

/** A compiled filter: a WHERE fragment over `documents d` and its parameters. Opaque above storage. */
export interface SqlWhere {
  sql: string;
  params: (string | number)[];
}

type Scalar = string | number | boolean;

const MAX_DEPTH = 16;
const MAX_CONDITIONS = 256;
const MAX_IN = 1024;
const MAX_PARAMS = 30_000;

class FilterCompiler {
  readonly params: (string | number)[] = [];
  private conditions = 0;

  constructor(private readonly root: string) {}

  fail(path: string[], message: string): never {
    throw createError('VALIDATION_FAILED', { issues: [{ field: [this.root, ...path].join('.'), message }] });
  }

  node(value: unknown, path: string[], depth: number): string {
    if (depth > MAX_DEPTH) this.fail(path, `nested more than ${MAX_DEPTH} levels deep`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'expected an object such as {"field": value}');
    const parts: string[] = [];
    for (const [key, v] of Object.entries(value)) {
      const here = [...path, key];
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(v) || v.length === 0) this.fail(here, 'expected a non-empty array of filters');
        const subs = v.map((f, i) => this.node(f, [...here, String(i)], depth + 1));
        parts.push(`(${subs.join(key === '$and' ? ' AND ' : ' OR ')})`);
      } else if (key === '$not') {
        parts.push(`NOT (${this.node(v, here, depth + 1)})`);
      } else if (key === '$id') {
        parts.push(this.id(v, here));
      } else if (key === '$document') {
        parts.push(this.document(v, here));
      } else if (key.startsWith('$')) {
        this.fail(here, `unknown operator "${key}" (expected a field name, "$id", "$document", "$and", "$or" or "$not")`);
      } else {
        parts.push(this.field(key, v, here));
      }
    }
    return parts.length === 0 ? '1' : parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
  }

  private field(name: string, cond: unknown, path: string[]): string {
    // The name goes into a JSON path ($."name", for $exists): SQLite finds no key through " or \
    // and refuses the path (an SQL error) with NUL; metadata keys hold no control characters.
    if (name.includes('"') || name.includes('\\')) this.fail(path, 'field names with " or \\ cannot be filtered on');
    const bad = keyProblem(name, 'field names');
    if (bad !== undefined) this.fail(path, bad);
    if (isScalar(cond)) return this.eq(name, this.value(cond, path));
    if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) {
      this.fail(path, Array.isArray(cond) ? 'an array is not a value; use {"$in": [...]}' : 'expected a string, number, boolean or an object of operators');
    }
    const entries = Object.entries(cond);
    if (entries.length === 0) this.fail(path, 'expected at least one operator');
    const parts = entries.map(([op, arg]) => this.operator(name, op, arg, [...path, op]));
    return parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
  }

  /** {"$id": "a"} or {"$id": {"$in": ["a", "b"]}}: tests on the document id (a string). */
  private id(cond: unknown, path: string[]): string {
    const one = (v: unknown, at: string[]): string => {
      if (typeof v !== 'string') this.fail(at, 'expected a document id (a string)');
      return this.value(v, at);
    };
    if (++this.conditions > MAX_CONDITIONS) this.fail(path, `a filter may hold at most ${MAX_CONDITIONS} conditions`);
    if (typeof cond !== 'object' || cond === null) {
      this.params.push(one(cond, path));
      return 'd.id = ?';
    }
    if (Array.isArray(cond)) this.fail(path, 'an array is not a value; use {"$in": [...]}');
    const entries = Object.entries(cond);
    if (entries.length === 0) this.fail(path, 'expected at least one operator');
    const parts = entries.map(([op, arg]) => {
      const at = [...path, op];
      if (op === '$eq' || op === '$ne') {
        this.params.push(one(arg, at));
        return op === '$eq' ? 'd.id = ?' : 'd.id <> ?';
      }
      if (op === '$in' || op === '$nin') {
        if (!Array.isArray(arg) || arg.length === 0 || arg.length > MAX_IN) this.fail(at, `expected a non-empty array of at most ${MAX_IN} ids`);
        const ids = arg.map((v, i) => one(v, [...at, String(i)]));
        this.params.push(...ids);
        return `d.id ${op === '$in' ? '' : 'NOT '}IN (${ids.map(() => '?').join(',')})`;
      }
      return this.fail(at, `unknown operator "${op}" for $id (expected one of $eq, $ne, $in, $nin)`);
    });
    return parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
  }

  /** {"$document": {"$contains": "text"}}: substring tests on the document text. */
  private document(cond: unknown, path: string[]): string {
    if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) this.fail(path, 'expected {"$contains": text} or {"$not_contains": text}');
    const entries = Object.entries(cond);
    if (entries.length === 0) this.fail(path, 'expected at least one operator');
    const parts = entries.map(([op, arg]) => {
      const at = [...path, op];
      if (++this.conditions > MAX_CONDITIONS) this.fail(at, `a filter may hold at most ${MAX_CONDITIONS} conditions`);
      if (op !== '$contains' && op !== '$not_contains') return this.fail(at, `unknown operator "${op}" for $document (expected $contains or $not_contains)`);
      if (typeof arg !== 'string' || arg === '') this.fail(at, 'expected a non-empty string');
      this.params.push(this.value(arg, at));
      return op === '$contains' ? 'instr(d.text, ?) > 0' : '(d.text IS NULL OR instr(d.text, ?) = 0)';
    });
    return parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
  }

  private operator(key: string, op: string, arg: unknown, path: string[]): string {
    if (++this.conditions > MAX_CONDITIONS) this.fail(path, `a filter may hold at most ${MAX_CONDITIONS} conditions`);
    switch (op) {
      case '$eq':
      case '$ne':
      case '$contains':
      case '$not_contains': {
        if (!isScalar(arg)) this.fail(path, 'expected a string, number or boolean');
        const eq = this.eq(key, this.value(arg, path));
        return op === '$eq' || op === '$contains' ? eq : `NOT ${eq}`;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        if (typeof arg !== 'number' && typeof arg !== 'string') this.fail(path, 'expected a number or a string');
        if (typeof arg === 'number' && !Number.isFinite(arg)) this.fail(path, 'expected a finite number');
        this.value(arg, path);
        const sqlOp = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[op];
        return this.anyValue(key, `${typeOf('j.type', arg)} AND j.value ${sqlOp} ?`, [arg]);
      }
      case '$in':
      case '$nin': {
        if (!Array.isArray(arg) || arg.length === 0 || arg.length > MAX_IN) this.fail(path, `expected a non-empty array of at most ${MAX_IN} values`);
        arg.forEach((v, i) => {
          if (!isScalar(v)) this.fail([...path, String(i)], 'expected a string, number or boolean');
          this.value(v, [...path, String(i)]);
        });
        const inSql = this.anyOf(key, arg as Scalar[]);
        return op === '$in' ? inSql : `NOT ${inSql}`;
      }
      case '$exists': {
        if (typeof arg !== 'boolean') this.fail(path, 'expected true or false');
        // An empty array exists but has no value rows: ask the JSON itself.
        this.params.push(`$."${key}"`);
        return `(json_type(d.metadata, ?) IS ${arg ? 'NOT ' : ''}NULL)`;
      }
      default:
        return this.fail(path, `unknown operator "${op}" (expected one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $contains, $not_contains)`);
    }
  }

  /** A value compared with stored ones: a string must be one that can be stored (no lone surrogate). */
  private value<V extends Scalar>(v: V, path: string[]): V {
    const bad = typeof v === 'string' ? wellFormedProblem(v) : undefined;
    if (bad !== undefined) this.fail(path, bad);
    return v;
  }

  /**
   * "Some value of the key satisfies cond": over metadata_values (migrations/005), one row per
   * scalar or array element, as json_each(metadata, '$."key"') would yield them, so arrays match
   * by membership. Not correlated with the document: SQLite evaluates it once, from the
   * (key, value) index, and probes the result per document.
   */
  private anyValue(key: string, cond: string, params: (string | number)[]): string {
    this.params.push(key, ...params);
    return `d.pk IN (SELECT j.document_pk FROM metadata_values j WHERE j.key = ? AND (${cond}))`;
  }

  private eq(key: string, v: Scalar): string {
    return this.anyOf(key, [v]);
  }

  private anyOf(key: string, values: Scalar[]): string {
    const strings = values.filter((v): v is string => typeof v === 'string');
    const numbers = values.filter((v): v is number => typeof v === 'number');
    const bools = [...new Set(values.filter((v): v is boolean => typeof v === 'boolean'))];
    const ors: string[] = [];
    if (strings.length > 0) ors.push(`(j.type = 'text' AND j.value IN (${strings.map(() => '?').join(',')}))`);
    if (numbers.length > 0) ors.push(`(j.type IN ('integer', 'real') AND j.value IN (${numbers.map(() => '?').join(',')}))`);
    for (const b of bools) ors.push(`j.type = '${b ? 'true' : 'false'}'`);
    return this.anyValue(key, ors.join(' OR '), [...strings, ...numbers]);
  }
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function typeOf(column: string, v: string | number): string {
  return typeof v === 'string' ? `${column} = 'text'` : `${column} IN ('integer', 'real')`;
}

/**
 * Compiles a filter into SQL over the documents row; throws VALIDATION_FAILED naming the offending
 * field (e.g. "filter.price.$foo") for anything outside the language. `field` is the request
 * field the filter came from, for those messages.
 */
export function compileFilter(filter: unknown, field = 'filter'): SqlWhere {
  const c = new FilterCompiler(field);
  const sql = c.node(filter, [], 0);
  // SQLite binds at most 32,766 parameters per statement; leave room for the query's own.
  if (c.params.length > MAX_PARAMS) c.fail([], `too many values (${c.params.length}); at most ${MAX_PARAMS} in one filter`);
  return { sql, params: c.params };
}

/** Compiles when a filter was given; an absent or empty filter means "everything". */
export function compileOptionalFilter(filter: unknown, field = 'filter'): SqlWhere | undefined {
  if (filter === undefined) return undefined;
  const w = compileFilter(filter, field);
  return w.sql === '1' ? undefined : w;
}
