// The generation layer's public face: the conversation with a generation model (Bedrock Converse)
// and what is known of each model's limits. An engine like embedding/: it imports only the base.
export { ConverseGenerator, generationError, type Generator, type GenerationRequest, type Generation, type GenerationEvent, type UserPart, type Usage, type ConverseOptions } from './converse.js';
export { modelLimits, estimatePromptTokens, NOVA_MODELS, UNKNOWN_MODEL_LIMITS, type ModelLimits } from './models.js';
