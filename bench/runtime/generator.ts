// What every contestant of `npm run bench:runtime` offers: one greedy generation at a time, timed
// where it runs (no IPC or HTTP in the figure unless HTTP is what is measured).
import type { ChatMessage } from '../../runtime/engine/types.ts';

export interface BenchPrompt {
  messages: ChatMessage[];
  /** The same conversation rendered by the model's own chat template, for runtimes that take text. */
  text: string;
}

export interface TimedGeneration {
  promptTokens: number;
  /** Generated tokens, the end-of-sequence token included when one was generated. */
  tokens: number;
  text: string;
  /** Milliseconds from the call to the first generated token: template, tokenizing, prefill. */
  firstTokenMs: number;
  /** Milliseconds from the call to the last generated token. */
  lastTokenMs: number;
}

export interface Generator {
  /** Settings worth reporting (threads, batch size, versions). */
  settings: Record<string, unknown>;
  /** Greedy; stops at the end-of-sequence token or after `maxTokens`. */
  generate(prompt: BenchPrompt, maxTokens: number): Promise<TimedGeneration>;
  close(): Promise<void>;
}

/** Decode rate: tokens after the first, over the time between the first and the last. */
export function decodeTokensPerSecond(g: TimedGeneration): number {
  return g.tokens < 2 ? Number.NaN : ((g.tokens - 1) * 1000) / (g.lastTokenMs - g.firstTokenMs);
}
