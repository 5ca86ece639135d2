// One contestant in a process of its own, so each runtime has the machine's threads and memory to
// itself and its peak RSS is its own: `node bench/runtime/generator-process.ts <kind> <config>`.
// It loads the model once, then answers one generation request at a time: requests are JSON lines
// on stdin, answers JSON lines on stdout marked with PROTOCOL_MARK (libraries may print too).
import { createInterface } from 'node:readline';
import type { Generator } from './generator.ts';
import {
  PROTOCOL_MARK,
  type GeneratorConfig,
  type GeneratorKind,
  type ToParent,
} from './generator-protocol.ts';

async function load(kind: GeneratorKind, config: GeneratorConfig): Promise<Generator> {
  switch (kind) {
    case 'clawbot-engine':
      return (await import('./clawbot-engine.ts')).clawbotEngine(
        config.onnxDir,
        config.maxConcurrency,
      );
    case 'node-llama-cpp':
      return (await import('../peers/llama-cpp.ts')).llamaCpp(config.gguf, config.threads);
    case 'transformers.js':
      return (await import('../peers/transformers.ts')).transformersJs(config.onnxDir);
  }
}

const send = (message: ToParent) =>
  process.stdout.write(`${PROTOCOL_MARK}${JSON.stringify(message)}\n`);

const [kind, config] = process.argv.slice(2) as [GeneratorKind, string];
const started = performance.now();
const generator = await load(kind, JSON.parse(config) as GeneratorConfig);
send({ type: 'ready', settings: generator.settings, loadMs: performance.now() - started });
for await (const line of createInterface({ input: process.stdin })) {
  const { prompt, maxTokens } = JSON.parse(line);
  try {
    send({ type: 'result', result: await generator.generate(prompt, maxTokens) });
  } catch (error) {
    send({ type: 'error', message: (error as Error).stack ?? String(error) });
  }
}
await generator.close();
