// Owns RAG context: the best chunks for a question, deduplicated, in rank order, packed under a
// token budget, each with what a citation needs, plus the assembled context string.
import crypto from 'node:crypto';
import type { Collection } from '../collection/index.js';
import type { Metadata, SearchMode } from '../domain/types.js';
import { search } from './search.js';

export interface ContextInput {
  text: string;
  maxTokens: number;
  filter?: unknown;
  mode?: SearchMode;
  candidates: number;
}

export interface ContextChunk {
  documentId: string;
  chunkIndex: number;
  score: number;
  tokens: number;
  text: string;
  metadata: Metadata;
}

/**
 * A tokenizer-free estimate that errs high for English (~1.3 tokens a word, punctuation counted)
 * and counts each CJK character as one token, as BPE tokenizers of common LLMs roughly do.
 */
export function estimateTokens(text: string): number {
  const cjk = text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu)?.length ?? 0;
  const words = text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
  const punct = text.match(/[^\p{L}\p{N}\s]/gu)?.length ?? 0;
  return Math.ceil(words * 1.3 + punct * 0.5 + cjk);
}

const SEPARATOR = '\n\n';

export async function buildContext(c: Collection, q: ContextInput) {
  const res = await search(c, {
    text: q.text,
    k: q.candidates,
    include: ['text', 'metadata'],
    filter: q.filter,
    mode: q.mode,
    groupBy: 'none',
  });
  const chunks: ContextChunk[] = [];
  const seen = new Set<string>();
  let used = 0;
  for (const h of res.hits) {
    const text = (h.text ?? '').trim();
    if (text === '') continue;
    // The same passage stored under two ids (or overlapping re-ingests) would waste the budget.
    const key = crypto.createHash('sha256').update(text.replace(/\s+/g, ' ').toLowerCase()).digest('hex');
    if (seen.has(key)) continue;
    const label = `[${chunks.length + 1}] (${h.documentId}#${h.chunkIndex})\n`;
    const tokens = estimateTokens(label + text) + (chunks.length > 0 ? 1 : 0);
    // Skip what does not fit and keep going: a later, shorter chunk may still fit.
    if (used + tokens > q.maxTokens) continue;
    seen.add(key);
    used += tokens;
    chunks.push({ documentId: h.documentId, chunkIndex: h.chunkIndex, score: h.score, tokens, text, metadata: h.metadata ?? {} });
  }
  const context = chunks.map((ch, i) => `[${i + 1}] (${ch.documentId}#${ch.chunkIndex})\n${ch.text}`).join(SEPARATOR);
  return { context, chunks, tokens: used, mode: res.mode, ...(res.warning ? { warning: res.warning } : {}) };
}
