// Owns how text becomes keyword-search terms, for the FTS5 index and for queries alike: runs of
// CJK characters are segmented into words with jieba (FTS5's unicode61 tokenizer would keep a
// whole run as one token), everything else is left to unicode61 (case folding, diacritics).
// Why jieba and not FTS5's trigram tokenizer: most Chinese words are two characters, and a
// trigram index cannot match a term shorter than three characters, so `如何重置密码` would never
// find `重置您的密码的步骤` (measured: no hit with trigram; a hit with jieba).
import { createRequire } from 'node:module';
import type * as JiebaModule from '@node-rs/jieba';
import type { Jieba } from '@node-rs/jieba';

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

/** The text as the FTS index stores it: CJK runs split into space-separated words. */
export function ftsText(text: string): string {
  return text.replace(CJK_RUN, (run) => ` ${segmenter().cut(run, true).join(' ')} `);
}

/** Lower-cased terms of a text, the way the FTS index sees them (for queries and term statistics). */
export function terms(text: string): string[] {
  return (ftsText(text).normalize('NFKC').toLowerCase().match(TERM) ?? []);
}

/** An FTS5 MATCH expression: any of the query's terms (BM25 ranks documents matching more, rarer terms first). */
export function ftsQuery(text: string, maxTerms = 64): string | undefined {
  const unique = [...new Set(terms(text))].slice(0, maxTerms);
  if (unique.length === 0) return undefined;
  return unique.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}
