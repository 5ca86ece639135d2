// The ClawBot engine in this process, configured as `serve` configures it for the benchmark's
// server, so the HTTP figures differ from these by the server alone.
import { createLogger } from '../../common/log.ts';
import { createEngine } from '../../runtime/engine/engine.ts';
import type { BenchPrompt, Generator, TimedGeneration } from './generator.ts';

export async function clawbotEngine(modelDir: string, maxConcurrency: number): Promise<Generator> {
  const engine = await createEngine({
    modelPath: modelDir,
    maxConcurrency,
    logger: createLogger('engine', { level: 'warn' }),
  });
  return {
    settings: {
      maxConcurrency,
      threads: 'onnxruntime default',
      executionProvider: engine.info.executionProvider,
    },
    async generate(prompt: BenchPrompt, maxTokens: number): Promise<TimedGeneration> {
      const started = performance.now();
      const generation = await engine.generate({
        messages: prompt.messages,
        maxTokens,
        temperature: 0,
      });
      // The first delta is the first token a caller of the engine can see.
      let firstTokenMs = Number.NaN;
      for await (const _ of generation.deltas) {
        if (Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - started;
      }
      const result = await generation.result;
      return {
        promptTokens: result.usage.promptTokens,
        tokens: result.usage.completionTokens,
        text: result.text,
        firstTokenMs,
        lastTokenMs: performance.now() - started,
      };
    },
    close: () => engine.close(),
  };
}
