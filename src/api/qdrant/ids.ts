// Owns how Qdrant point ids map onto Quiver document ids, so that both kinds round-trip as their
// type and never collide: an unsigned integer is stored as its decimal string ("42"), a UUID in
// its canonical lower-case hyphenated form. Any other string is refused, as Qdrant refuses it, so
// "42" the string can never be mistaken for 42 the integer. Documents written through /v1 with
// other ids still show up here, as string ids.
import { createError } from '../../errors/index.js';

export type PointId = number | string;

const UUID_FORMS = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

function bad(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

/** The document id of a point id as a client sends it (a number, or a UUID string in any form Qdrant accepts). */
export function toDocumentId(id: unknown, field: string): string {
  if (typeof id === 'number') {
    if (!Number.isInteger(id) || id < 0) bad(field, `point ids are unsigned integers or UUIDs; got ${id}`);
    // JSON numbers past 2^53 have already lost digits when parsed: the id would not be the one sent.
    if (!Number.isSafeInteger(id)) bad(field, `integer point ids above ${Number.MAX_SAFE_INTEGER} are not supported (they cannot be kept exactly)`);
    return String(id);
  }
  if (typeof id === 'string') {
    const m = UUID_FORMS.exec(id);
    if (!m) bad(field, `point ids are unsigned integers or UUIDs; "${id.length > 64 ? `${id.slice(0, 64)}…` : id}" is neither`);
    return m.slice(1, 6).join('-').toLowerCase();
  }
  return bad(field, 'expected a point id (an unsigned integer or a UUID string)');
}

/** The point id a document id stands for: an integer for a canonical decimal, else the string itself. */
export function toPointId(documentId: string): PointId {
  if (DECIMAL.test(documentId)) {
    const n = Number(documentId);
    if (Number.isSafeInteger(n)) return n;
  }
  return documentId;
}
