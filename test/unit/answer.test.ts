// The parts of answers that are pure functions: reading citations out of an answer, a model's
// limits (also through inference profiles and ARNs), and the token estimate erring high.
import { describe, expect, it } from 'vitest';
import { estimatePromptTokens, modelLimits, UNKNOWN_MODEL_LIMITS } from '../../src/generation/index.js';
import { citations, type ContextChunk } from '../../src/query/index.js';

const chunk = (documentId: string): ContextChunk => ({ documentId, chunkIndex: 0, score: 1, tokens: 1, text: `text of ${documentId}`, metadata: {} });
const passages = [chunk('a'), chunk('b'), chunk('c')];
const cited = (answer: string) => citations(answer, passages).map((c) => `${c.n}:${c.documentId}`);

describe('citations', () => {
  it('reads [n], [n][m] and [n, m], in the order first cited, once each', () => {
    expect(cited('B is true [2]. A and C too [1][3]. Again [2, 1].')).toEqual(['2:b', '1:a', '3:c']);
    expect(cited('All three [1, 2,3].')).toEqual(['1:a', '2:b', '3:c']);
  });
  it('ignores numbers that name no passage and brackets that are not citations', () => {
    expect(cited('See [4] and [0], the list [a] and [1.5].')).toEqual([]);
    expect(cited('I do not know.')).toEqual([]);
  });
});

describe('model limits', () => {
  it('knows Nova by id, inference profile and ARN', () => {
    expect(modelLimits('amazon.nova-micro-v1:0')).toEqual({ contextTokens: 128_000, maxOutputTokens: 5_120, documents: false });
    expect(modelLimits('us.amazon.nova-lite-v1:0').documents).toBe(true);
    expect(modelLimits('arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0').contextTokens).toBe(300_000);
  });
  it('gives any other model the safe default', () => {
    expect(modelLimits('acme.unknown-v1:0')).toEqual(UNKNOWN_MODEL_LIMITS);
  });
  it('estimates more tokens than characters / 4 for English and one a CJK character at least', () => {
    const english = 'Boil the pasta in salted water for ten minutes, then drain it.';
    expect(estimatePromptTokens(english)).toBeGreaterThan(english.length / 4);
    expect(estimatePromptTokens('重置您的密码的步骤')).toBeGreaterThanOrEqual(9);
  });
});
