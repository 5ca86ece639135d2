// Whether a request can be admitted, and with how many tokens to generate. Pure.
import { EngineError } from './types.ts';

export interface Limits {
  /** MAX_TOKENS: the most tokens any request may generate. */
  maxTokens: number;
  contextLength: number;
}

/**
 * The number of tokens to generate for a prompt: what the request asked for (or MAX_TOKENS),
 * capped by MAX_TOKENS. A request that names maxTokens must fit the context with them; one that
 * does not gets whatever room the context leaves.
 */
export function tokensToGenerate(
  promptTokens: number,
  requested: number | undefined,
  limits: Limits,
): number {
  const { contextLength } = limits;
  if (promptTokens >= contextLength) {
    throw new EngineError(
      'context_length_exceeded',
      `the prompt is ${promptTokens} tokens but the model's context is ${contextLength} tokens, ` +
        'which must also hold at least one generated token; shorten the conversation',
    );
  }
  if (requested === undefined) return Math.min(limits.maxTokens, contextLength - promptTokens);
  const wanted = Math.max(1, Math.min(requested, limits.maxTokens));
  if (promptTokens + wanted > contextLength) {
    throw new EngineError(
      'context_length_exceeded',
      `the prompt is ${promptTokens} tokens and ${wanted} more were requested, ${promptTokens + wanted} in all, ` +
        `but the model's context is ${contextLength} tokens; shorten the conversation or ask for at most ` +
        `${contextLength - promptTokens} tokens`,
    );
  }
  return wanted;
}

/**
 * A Retry-After estimate for a full queue: the time for the batch to work through the requests
 * ahead, from the recent mean generation time. At least one second.
 */
export function queueRetryAfterSeconds(
  queued: number,
  maxConcurrency: number,
  meanGenerationSeconds: number,
): number {
  const rounds = Math.ceil(queued / Math.max(1, maxConcurrency));
  return Math.max(1, Math.ceil(rounds * meanGenerationSeconds));
}
