// Chroma's record selectors (ids, where, where_document) as one filter of Quiver's language
// (storage/filter-sql.ts). `where` is already in it: Chroma's operators ($eq, $ne, $gt, $gte,
// $lt, $lte, $in, $nin, $contains, $not_contains, $and, $or) mean the same there. where_document's
// $contains/$not_contains become $document tests (an exact, case-sensitive substring test); ids
// become $id.
import type { Collection } from '../../collection/index.js';
import { createError } from '../../errors/index.js';
import type { CompiledFilter } from '../../storage/index.js';

/** $id $in takes at most this many ids (filter-sql.ts MAX_IN); more are split into an $or. */
const IN_CHUNK = 1024;

export interface Selector {
  ids?: string[] | null;
  where?: Record<string, unknown> | null;
  where_document?: Record<string, unknown> | null;
}

function fail(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

function documentFilter(node: unknown, path: string): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) fail(path, 'expected an object such as {"$contains": "text"}');
  const entries = Object.entries(node as Record<string, unknown>);
  if (entries.length !== 1) fail(path, `expected exactly one operator, got ${entries.length}`);
  const [op, arg] = entries[0]!;
  if (op === '$and' || op === '$or') {
    if (!Array.isArray(arg) || arg.length === 0) fail(`${path}.${op}`, 'expected a non-empty array of where_document expressions');
    return { [op]: (arg as unknown[]).map((a, i) => documentFilter(a, `${path}.${op}.${i}`)) };
  }
  if (op === '$contains' || op === '$not_contains') return { $document: { [op]: arg } };
  if (op === '$regex' || op === '$not_regex' || op === '$matches' || op === '$not_matches') fail(`${path}.${op}`, 'not supported by Quiver (use $contains or $not_contains)');
  return fail(`${path}.${op}`, 'unknown operator (expected $contains, $not_contains, $and or $or)');
}

/** The compiled filter of a selector (undefined: every record); errors name the request field. */
export function compileSelector(c: Collection, sel: Selector): CompiledFilter | undefined {
  const f = selectorFilter(c, sel);
  return f === undefined ? undefined : c.compileFilter(f, 'ids');
}

/** A selector as one filter of Quiver's language (checked; undefined: every record), for search() to compile. */
export function selectorFilter(c: Collection, sel: Selector): unknown {
  const parts: unknown[] = [];
  if (sel.where != null && Object.keys(sel.where).length > 0) {
    c.compileFilter(sel.where, 'where'); // checked alone so that errors name `where.…`
    parts.push(sel.where);
  }
  if (sel.where_document != null && Object.keys(sel.where_document).length > 0) {
    const doc = documentFilter(sel.where_document, 'where_document');
    c.compileFilter(doc, 'where_document');
    parts.push(doc);
  }
  if (sel.ids != null) {
    // No ids selects nothing: an $in needs one value, and no record id is empty.
    if (sel.ids.length === 0) parts.push({ $id: '' });
    else {
      const chunks: unknown[] = [];
      for (let i = 0; i < sel.ids.length; i += IN_CHUNK) chunks.push({ $id: { $in: sel.ids.slice(i, i + IN_CHUNK) } });
      parts.push(chunks.length === 1 ? chunks[0] : { $or: chunks });
    }
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { $and: parts };
}
