// node-llama-cpp (llama.cpp's own CPU build, the prebuilt binary from the npm package
// @node-llama-cpp/linux-x64) generating from the GGUF itself. It takes the conversation as the
// text the model's chat template renders and tokenizes it itself, inside the timed region, as
// ClawBot does.
//
// Imported by name at run time from bench/peers/node_modules (installed by bench/runtime/peers.ts),
// so the types below describe the few calls used here: the root project never depends on it.
import type { BenchPrompt, Generator, TimedGeneration } from '../runtime/generator.ts';

interface NodeLlamaCpp {
  getLlama(options: {
    gpu: false;
    /** 'never': use the prebuilt binary or fail; never download llama.cpp's source to build it. */
    build: 'never';
    logLevel: 'warn';
  }): Promise<Llama>;
}
interface Llama {
  buildType: string;
  loadModel(options: { modelPath: string }): Promise<LlamaModel>;
  dispose(): Promise<void>;
}
interface LlamaModel {
  tokenize(text: string, specialTokens: boolean): number[];
  /** Special tokens (the end-of-sequence one) are left out of the text. */
  detokenize(tokens: readonly number[]): string;
  isEogToken(token: number): boolean;
  createContext(options: {
    contextSize: number;
    threads: number;
    batchSize: number;
  }): Promise<LlamaContext>;
}
interface LlamaContext {
  getSequence(): LlamaSequence;
}
interface LlamaSequence {
  clearHistory(): Promise<void>;
  evaluate(
    tokens: number[],
    options: { temperature: 0; yieldEogToken: true },
  ): AsyncGenerator<number, void, void>;
}

const specifier = 'node-llama-cpp';

export async function llamaCpp(ggufPath: string, threads: number): Promise<Generator> {
  const { getLlama } = (await import(specifier)) as NodeLlamaCpp;
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'warn' });
  const model = await llama.loadModel({ modelPath: ggufPath });
  // batchSize 512: prompts are prefilled in one batch, as ClawBot's 256-token chunks do for these prompts.
  const context = await model.createContext({ contextSize: 4096, threads, batchSize: 512 });
  const sequence = context.getSequence();
  return {
    settings: { threads, build: llama.buildType, contextSize: 4096, batchSize: 512 },
    async generate(prompt: BenchPrompt, maxTokens: number): Promise<TimedGeneration> {
      await sequence.clearHistory();
      const started = performance.now();
      const promptTokens = model.tokenize(prompt.text, true);
      const tokens: number[] = [];
      let firstTokenMs = Number.NaN;
      for await (const token of sequence.evaluate(promptTokens, {
        temperature: 0,
        yieldEogToken: true,
      })) {
        if (tokens.length === 0) firstTokenMs = performance.now() - started;
        tokens.push(token);
        if (tokens.length >= maxTokens || model.isEogToken(token)) break;
      }
      const lastTokenMs = performance.now() - started;
      return {
        promptTokens: promptTokens.length,
        tokens: tokens.length,
        text: model.detokenize(tokens),
        firstTokenMs,
        lastTokenMs,
      };
    },
    close: () => llama.dispose(),
  };
}
