// Owns how text becomes keyword-search terms, for the FTS5 index and for queries alike: runs of
// CJK characters are segmented into words with jieba (FTS5's unicode61 tokenizer would keep a
// whole run as one token), every word is case-folded (NFKC, lower case) and stripped of
// diacritics, and words of Latin letters are reduced to their Porter stem ("colors" and "color"
// are one term). The index stores the terms already normalised (space-separated), so FTS5's
// tokenizer only splits them again and a term looked up in the index is exactly the string made
// here. Stopwords (English and Chinese) stay in the index but are dropped from a query that has
// other terms: "how long to cook spaghetti" ranks by long, cook and spaghetti.
// Why jieba and not FTS5's trigram tokenizer: most Chinese words are two characters, and a
// trigram index cannot match a term shorter than three characters, so `如何重置密码` would never
// find `重置您的密码的步骤` (measured: no hit with trigram; a hit with jieba).
import { createRequire } from 'node:module';
import type * as JiebaModule from '@node-rs/jieba';
import type { Jieba } from '@node-rs/jieba';
import { eng, zho } from 'stopword';
import { stemmer } from 'stemmer';

const require = createRequire(import.meta.url);
let jieba: Jieba | undefined;

function segmenter(): Jieba {
  // Loaded on first use: the dictionary costs ~0.2 s and collections without Chinese never need it.
  if (!jieba) {
    const { Jieba: JiebaClass } = require('@node-rs/jieba') as typeof JiebaModule;
    const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array };
    jieba = JiebaClass.withDict(dict);
  }
  return jieba;
}

// Han, Hiragana, Katakana, Hangul: scripts written without spaces between words.
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
const TERM = /[\p{L}\p{N}\p{M}]+/gu;
const MARKS = /\p{M}+/gu;
const LATIN_WORD = /^[a-z]+$/;

/** Stopwords of English and Chinese (the `stopword` package's lists, plus a few question words). */
const STOPWORDS: ReadonlySet<string> = new Set([...eng, ...zho, 'what', 'how', 'why', 'when', 'does', 'use', 'using', '如何', '怎么', '什么', '为什么']);

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

/** The text with CJK runs split into space-separated words. */
function segmented(text: string): string {
  return text.replace(CJK_RUN, (run) => ` ${segmenter().cut(run, true).join(' ')} `);
}

/** Lower-cased words of a text, unstemmed, CJK runs segmented (cluster labels are read by people). */
export function words(text: string): string[] {
  return segmented(text).normalize('NFKC').toLowerCase().match(TERM) ?? [];
}

/** A word as the index stores it: no diacritics, Latin words stemmed. */
function normalise(word: string): string {
  const bare = /[\u0300-\u036f]/.test(word.normalize('NFD')) ? word.normalize('NFD').replace(MARKS, '').normalize('NFC') : word;
  return LATIN_WORD.test(bare) ? stemmer(bare) : bare;
}

// One-entry memo: the FTS triggers ask for a chunk's text and its term count one after the other.
let lastText: string | undefined;
let lastTerms: string[] = [];

/** Every term of a text in order, stopwords included: what the index holds for it. */
export function indexTerms(text: string): string[] {
  if (text === lastText) return lastTerms;
  const out = words(text).map(normalise);
  lastText = text;
  lastTerms = out;
  return out;
}

/** The text as the FTS index stores it: its terms, space-separated. */
export function ftsText(text: string): string {
  return indexTerms(text).join(' ');
}

// A quoted phrase: straight, curly or CJK corner quotes.
const QUOTED = /"([^"]+)"|\u201c([^\u201d]+)\u201d|\u300c([^\u300d]+)\u300d/gu;

/**
 * The quoted phrases of a query as term lists, at most maxPhrases. Stopwords stay in, as in the
 * index: "the end" is matched as written. (Identifier-looking tokens such as `max_retries` or
 * `Agent.dispatch` were tried as exact sequences too and lowered MRR@10 on every judged set by
 * 0.002–0.009: BENCHMARKS.md, issue 14 second slice.)
 */
export function queryPhrases(text: string, maxPhrases = 8): string[][] {
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(QUOTED)) {
    const terms = indexTerms(m[1] ?? m[2] ?? m[3] ?? '');
    if (terms.length > 0) out.set(terms.join(' '), terms);
  }
  return [...out.values()].slice(0, maxPhrases);
}

/**
 * The distinct terms a query ranks by, at most maxTerms: stopwords are left out unless the
 * query has nothing else ("the who" still finds what it can).
 */
export function queryTerms(text: string, maxTerms = 64): string[] {
  const all = words(text);
  const content = all.filter((w) => !isStopword(w));
  return [...new Set((content.length > 0 ? content : all).map(normalise))].slice(0, maxTerms);
}
