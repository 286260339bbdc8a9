// Owns how a document's text becomes chunks: the strategies ("none", "fixed", "sentence"), the
// size units (characters, or tokens counted on Intl.Segmenter word segments) and overlap.
// Intl.Segmenter (ICU, built into Node) finds sentence ends in any script — including 。！？ in
// Chinese, which has no spaces — and word boundaries inside CJK runs, so no dictionary ships here.
import type { ChunkingSpec } from '../domain/types.js';

/** Used when neither the request nor the collection names a chunking: ~1 short paragraph. */
export const DEFAULT_CHUNKING: ChunkingSpec = { strategy: 'sentence', unit: 'tokens', max: 256, overlap: 0 };

/** A chunk is text[start, end). */
export interface TextSpan {
  start: number;
  end: number;
}

interface Atom extends TextSpan {
  size: number;
}

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const SPACE = /\s/;

/**
 * Tokens are approximated as word-like segments, each CJK character counting as one (subword
 * tokenizers give CJK about one token per character), punctuation as one, whitespace as none.
 */
function tokenSize(segment: string, isWordLike: boolean | undefined): number {
  if (!isWordLike) return segment.trim() === '' ? 0 : 1;
  const cjk = segment.match(CJK)?.length ?? 0;
  return cjk > 0 ? cjk : 1;
}

/**
 * Segments text window by window. V8 copies the whole input string into every segment object it
 * returns, so segmenting a long text in one go costs O(length × segments) memory and time (a
 * 1 MB text took minutes); windows of a few thousand characters make it linear. A window's last
 * segment may have been cut by the window's end, so the next window starts at it again.
 */
function* segmentInWindows(segmenter: Intl.Segmenter, text: string, offset: number): Generator<{ start: number; segment: string; isWordLike?: boolean }> {
  let from = 0;
  let size = WINDOW;
  while (from < text.length) {
    const to = Math.min(text.length, from + size);
    const window = text.slice(from, to);
    let last: { start: number; segment: string; isWordLike?: boolean } | undefined;
    for (const seg of segmenter.segment(window)) {
      if (last) yield last;
      last = { start: offset + from + seg.index, segment: seg.segment, isWordLike: seg.isWordLike };
    }
    if (!last) break;
    const lastStart = last.start - offset;
    if (to === text.length) {
      yield last;
      from = to;
    } else if (lastStart === from) {
      // One segment fills the window: it may go on past it. Look again with a window twice as
      // large rather than cut a sentence or a word at an arbitrary point (each retry holds one
      // segment, so the cost stays linear in the text).
      size *= 2;
    } else {
      from = lastStart;
      size = WINDOW;
    }
  }
}
const WINDOW = 4096;

function wordAtoms(text: string, offset: number, unit: ChunkingSpec['unit']): Atom[] {
  const atoms: Atom[] = [];
  for (const s of segmentInWindows(wordSegmenter, text, offset)) {
    atoms.push({ start: s.start, end: s.start + s.segment.length, size: unit === 'chars' ? s.segment.length : tokenSize(s.segment, s.isWordLike) });
  }
  return atoms;
}

/**
 * How many tokens the chunker counts in a text (word-like segments, one per CJK character, one
 * per punctuation mark): the unit of `max_tokens`, and what the OpenAI surface reports as usage.
 */
export function countTokens(text: string): number {
  let n = 0;
  for (const a of wordAtoms(text, 0, 'tokens')) n += a.size;
  return n;
}

/** Splits atoms larger than max (a very long "word": a URL, base64) at code point boundaries. */
function splitOversized(text: string, atoms: Atom[], max: number): Atom[] {
  const out: Atom[] = [];
  for (const a of atoms) {
    if (a.size <= max || a.end - a.start <= 1) {
      out.push(a);
      continue;
    }
    const perChar = a.size / (a.end - a.start);
    const step = Math.max(1, Math.floor(max / perChar));
    let s = a.start;
    while (s < a.end) {
      let e = Math.min(a.end, s + step);
      // Never cut a surrogate pair in two: end before it (after it only when it alone is the step).
      if (e < a.end && /[\uD800-\uDBFF]/.test(text[e - 1]!)) e += e - 1 > s ? -1 : 1;
      out.push({ start: s, end: e, size: Math.max(1, Math.round((e - s) * perChar)) });
      s = e;
    }
  }
  return out;
}

/** Greedy packing: as many atoms as fit in max; the next chunk repeats up to `overlap` of the last. */
function pack(atoms: Atom[], max: number, overlap: number): TextSpan[] {
  const spans: TextSpan[] = [];
  let i = 0;
  while (i < atoms.length) {
    let size = 0;
    let j = i;
    while (j < atoms.length && (j === i || size + atoms[j]!.size <= max)) size += atoms[j++]!.size;
    spans.push({ start: atoms[i]!.start, end: atoms[j - 1]!.end });
    if (j >= atoms.length) break;
    let k = j;
    let carried = 0;
    while (k - 1 > i && carried + atoms[k - 1]!.size <= overlap) carried += atoms[--k]!.size;
    // The next chunk must bring new text: carry less when the next atom would not fit beside it.
    while (k < j && carried + atoms[j]!.size > max) carried -= atoms[k++]!.size;
    i = k;
  }
  return spans;
}

function trim(text: string, span: TextSpan): TextSpan | undefined {
  let { start, end } = span;
  while (start < end && SPACE.test(text[start]!)) start++;
  while (end > start && SPACE.test(text[end - 1]!)) end--;
  return end > start ? { start, end } : undefined;
}

/** The chunks of a text, in order; always at least one for non-blank text. */
export function chunkText(text: string, spec: ChunkingSpec): TextSpan[] {
  if (spec.strategy === 'none' || text.length === 0) return [{ start: 0, end: text.length }];
  let atoms: Atom[];
  if (spec.strategy === 'fixed') {
    atoms = wordAtoms(text, 0, spec.unit);
  } else {
    atoms = [];
    for (const s of segmentInWindows(sentenceSegmenter, text, 0)) {
      const size = spec.unit === 'chars' ? s.segment.length : wordAtoms(s.segment, 0, 'tokens').reduce((n, a) => n + a.size, 0);
      // A sentence longer than a chunk is cut at word boundaries, like the fixed strategy.
      if (size > spec.max) for (const a of wordAtoms(s.segment, s.start, spec.unit)) atoms.push(a);
      else atoms.push({ start: s.start, end: s.start + s.segment.length, size });
    }
  }
  const spans = pack(splitOversized(text, atoms, spec.max), spec.max, spec.overlap)
    .map((s) => trim(text, s))
    .filter((s): s is TextSpan => s !== undefined);
  return spans.length > 0 ? spans : [{ start: 0, end: text.length }];
}
