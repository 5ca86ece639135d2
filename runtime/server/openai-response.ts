// OpenAI's response objects for chat completions and models, built from engine results. Pure.
import { randomUUID } from 'node:crypto';
import type { FinishReason, Usage } from '../engine/types.ts';

/** What every object of one completion shares. */
export interface CompletionMeta {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

export function completionMeta(model: string, now = Date.now()): CompletionMeta {
  return { id: `chatcmpl-${randomUUID()}`, created: Math.floor(now / 1000), model };
}

// OpenAI has no "cancelled": it only happens when the client has gone and reads nothing.
const finishReasons: Record<FinishReason, 'stop' | 'length'> = {
  stop: 'stop',
  length: 'length',
  cancelled: 'stop',
};

export function openAiUsage(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens ?? 0 },
  };
}

export function completion(
  meta: CompletionMeta,
  result: { text: string; finishReason: FinishReason; usage: Usage },
) {
  return {
    ...meta,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.text, refusal: null },
        logprobs: null,
        finish_reason: finishReasons[result.finishReason],
      },
    ],
    usage: openAiUsage(result.usage),
    system_fingerprint: null,
  };
}

/**
 * One streamed chunk. With stream_options.include_usage every chunk carries "usage": null and
 * the last one (with no choices) the usage, as OpenAI does it.
 */
export function chunk(
  meta: CompletionMeta,
  delta: { role?: 'assistant'; content?: string },
  finishReason: FinishReason | null,
  includeUsage: boolean,
) {
  return {
    ...meta,
    object: 'chat.completion.chunk',
    choices: [
      {
        index: 0,
        delta,
        logprobs: null,
        finish_reason: finishReason === null ? null : finishReasons[finishReason],
      },
    ],
    system_fingerprint: null,
    ...(includeUsage && { usage: null }),
  };
}

export function usageChunk(meta: CompletionMeta, usage: Usage) {
  return {
    ...meta,
    object: 'chat.completion.chunk',
    choices: [],
    system_fingerprint: null,
    usage: openAiUsage(usage),
  };
}

export function modelObject(id: string, created: number) {
  return { id, object: 'model', created, owned_by: 'clawbot' };
}
