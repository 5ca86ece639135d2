// Single-stream speed, contestants interleaved: in every round each prompt goes to every
// contestant in turn (the order rotated per round), so load from other jobs on the shared machine
// falls on all of them alike, and each ratio compares figures of the same round.
import type { ChatMessage } from '../../runtime/engine/types.ts';
import { progress } from '../progress.ts';
import type { BenchPrompt, TimedGeneration } from './generator.ts';
import { decodeTokensPerSecond } from './generator.ts';
import { singleStreamPrompts } from './prompts.ts';
import { rotated } from './stats.ts';

export interface Contestant {
  name: string;
  generate(prompt: BenchPrompt, maxTokens: number): Promise<TimedGeneration>;
}

export interface SingleStreamRun {
  contestant: string;
  prompt: 'short' | 'long';
  round: number;
  result: TimedGeneration;
}

export async function runSingleStream(
  contestants: Contestant[],
  render: (messages: ChatMessage[]) => string,
  rounds: number,
  maxTokens: number,
): Promise<SingleStreamRun[]> {
  const promptOf = (id: string, messages: (id: string) => ChatMessage[]): BenchPrompt => {
    const m = messages(id);
    return { messages: m, text: render(m) };
  };
  // Warm-up: first runs pay for lazy allocations and kernel choices that later ones do not.
  for (const c of contestants) {
    await c.generate(promptOf('warm-up', singleStreamPrompts[0]!.messages), 16);
  }
  const runs: SingleStreamRun[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const p of singleStreamPrompts) {
      const prompt = promptOf(`${round + 1}-${p.name}`, p.messages);
      for (const c of rotated(contestants, round)) {
        const result = await c.generate(prompt, maxTokens);
        runs.push({ contestant: c.name, prompt: p.name, round, result });
        progress(
          `single stream, round ${round + 1}/${rounds}, ${p.name} prompt, ${c.name}: ` +
            `${result.tokens} tokens, first after ${result.firstTokenMs.toFixed(0)} ms, ` +
            `${decodeTokensPerSecond(result).toFixed(1)} tokens/s`,
        );
      }
    }
  }
  return runs;
}
