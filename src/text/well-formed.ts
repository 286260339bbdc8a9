// Owns which strings Quiver can store and find again unchanged. SQLite keeps TEXT as UTF-8, and a
// JavaScript string holding a lone UTF-16 surrogate (valid in JSON as "\ud800") has no UTF-8
// form: better-sqlite3 writes the surrogate's three bytes anyway, which read back as three
// U+FFFD. The value stored is then not the value sent: an id can no longer be found by itself,
// two different ids read back the same, and offsets into a text no longer fit it. Such strings are
// refused where they enter (a 400 naming the field), never stored altered.
//
// One check per kind of string, used by every request schema and by the filter compiler:
//   every stored or compared string   well-formed Unicode (no lone surrogate)
//   text (documents, queries)         also no NUL: SQLite's text functions stop at it, so the
//                                     keyword index would silently lose the rest of the text
//   metadata keys, filter field names also no control characters: a filter names a key inside a
//                                     JSON path ($."key"), which SQLite refuses to parse with NUL
// Other control characters in text and values (tabs, newlines, even NUL in ids and metadata
// values) round-trip through SQLite and are matched exactly, so they are left alone.
import { z } from 'zod';

// Node 20 has String.prototype.isWellFormed (ES2024); the project compiles against the ES2022
// lib, so it is typed here rather than by widening the lib for every file.
const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

export function isWellFormed(s: string): boolean {
  return nativeIsWellFormed.call(s);
}

/** "U+D800 at index 3", for messages: which character, and where (in UTF-16 units, as JS counts). */
function at(s: string, index: number): string {
  return `U+${s.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0')} at index ${index}`;
}

function loneSurrogateIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/** Why a string cannot be stored unchanged, or undefined when it can. */
export function wellFormedProblem(s: string): string | undefined {
  // The native check is fast; the scan for the position runs only for a string being refused.
  if (isWellFormed(s)) return undefined;
  return `contains a lone UTF-16 surrogate (${at(s, loneSurrogateIndex(s))}), which is not valid Unicode and cannot be stored unchanged`;
}

/** Why a text (document or query) cannot be stored and indexed unchanged, or undefined. */
export function textProblem(s: string): string | undefined {
  const nul = s.indexOf('\0');
  if (nul >= 0) return `must not contain NUL (${at(s, nul)}): the keyword index would lose everything after it`;
  return wellFormedProblem(s);
}

// Unicode's control characters (general category Cc): U+0000-U+001F and U+007F-U+009F.
const CONTROL = /\p{Cc}/u;

/** Why a string cannot name a metadata key in a filter, or undefined ("what" names it in the message). */
export function keyProblem(s: string, what: string): string | undefined {
  const m = CONTROL.exec(s);
  if (m) return `${what} must not contain control characters (${at(s, m.index)})`;
  return wellFormedProblem(s);
}

/** Adds the problem `check` finds, if any, as the string's issue. */
function refuse(check: (s: string) => string | undefined) {
  return (s: string, ctx: z.core.$RefinementCtx<string>) => {
    const message = check(s);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  };
}

/** A string that is stored or compared with stored strings (ids, metadata values): well-formed. */
export const wellFormedString = () => z.string().superRefine(refuse(wellFormedProblem));

/** A text that is stored, indexed or matched against the index: well-formed, no NUL. */
export const textString = () => z.string().superRefine(refuse(textProblem));

/** A metadata key: well-formed, no control characters, so that a filter can name it. */
export const metadataKeyString = () => z.string().superRefine(refuse((k) => keyProblem(k, 'metadata keys')));
