// Owns what Quiver knows of each generation model before calling it: how many tokens its context
// holds, how many it may write, and whether it reads Converse `document` blocks. The numbers are
// the model cards' (Bedrock user guide, "Supported models and model features"; Amazon Nova user
// guide), rounded down; a model not listed gets a small, safe default, so any Converse model id
// works without ever being sent a prompt it cannot hold.

export interface ModelLimits {
  /** Tokens of prompt and answer together. */
  contextTokens: number;
  /** The most `max_tokens` may ask for. */
  maxOutputTokens: number;
  /** Reads `document` content blocks ("document chat"); the others get the passages as quoted text. */
  documents: boolean;
}

const NOVA_OUTPUT = 5_120;

const KNOWN: Record<string, ModelLimits> = {
  // Nova Micro is text only: no document chat.
  'amazon.nova-micro-v1:0': { contextTokens: 128_000, maxOutputTokens: NOVA_OUTPUT, documents: false },
  'amazon.nova-lite-v1:0': { contextTokens: 300_000, maxOutputTokens: NOVA_OUTPUT, documents: true },
  'amazon.nova-pro-v1:0': { contextTokens: 300_000, maxOutputTokens: NOVA_OUTPUT, documents: true },
  'anthropic.claude-3-haiku-20240307-v1:0': { contextTokens: 200_000, maxOutputTokens: 4_096, documents: true },
};

/** A model not in the table: a context every current Converse text model holds, passages as text. */
export const UNKNOWN_MODEL_LIMITS: ModelLimits = { contextTokens: 8_192, maxOutputTokens: 2_048, documents: false };

export const NOVA_MODELS = ['amazon.nova-micro-v1:0', 'amazon.nova-lite-v1:0', 'amazon.nova-pro-v1:0'] as const;

/**
 * The limits of a model id, also when it is named through a cross-Region inference profile
 * ("us.amazon.nova-lite-v1:0", "eu.", "apac.", "global.") or an ARN ending in one.
 */
export function modelLimits(modelId: string): ModelLimits {
  const base = modelId.split('/').pop()!.replace(/^(us|eu|apac|us-gov|ca|jp|au|global)\./, '');
  return KNOWN[base] ?? UNKNOWN_MODEL_LIMITS;
}

/**
 * Tokens a text may take, erring high: a third of its characters (English averages about four
 * characters a token in the Nova and Claude tokenizers; code, numbers and other scripts fewer),
 * and never fewer than one a CJK character or a word and a half a word.
 */
export function estimatePromptTokens(text: string): number {
  const byChars = Math.ceil(text.length / 3);
  const cjk = text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu)?.length ?? 0;
  const words = text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
  return Math.max(byChars, Math.ceil(cjk + words * 1.5));
}
