// The messages between bench/runtime.ts and a contestant's process (generator-process.ts).
import type { BenchPrompt, TimedGeneration } from './generator.ts';

export type GeneratorKind = 'clawbot-engine' | 'node-llama-cpp' | 'transformers.js';

export interface GeneratorConfig {
  gguf: string;
  onnxDir: string;
  /** The engine's batch slots, as MAX_CONCURRENCY sets them for the server. */
  maxConcurrency: number;
  /** llama.cpp's threads; the onnxruntime contestants use onnxruntime's default. */
  threads: number;
}

export interface GenerateRequest {
  prompt: BenchPrompt;
  maxTokens: number;
}

export type ToParent =
  | { type: 'ready'; settings: Record<string, unknown>; loadMs: number }
  | { type: 'result'; result: TimedGeneration }
  | { type: 'error'; message: string };

/** Starts every protocol line on stdout; other lines there are a library's own output. */
export const PROTOCOL_MARK = '@@bench ';
