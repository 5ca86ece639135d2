// `npm run bench:prefill`: what the prefill budget (PREFILL_CHUNK_TOKENS) trades at 50 concurrent
// streams on the real default model: every decoding stream waits for the step's prefill, so a
// smaller budget means steadier streams (the guide's P99 < 500 ms) but a later first token for
// new requests. One engine per budget, in this process, all loaded before the first wave; rounds
// visit the budgets in rotated order so none always runs first. 50 streams of the runtime
// benchmark's conversations, greedy, 128 tokens each; each engine first runs one short unmeasured
// wave, so no measured wave pays for growing onnxruntime's buffers to batch 50. Environment:
// BENCH_ROUNDS (3).
import { loadavg } from 'node:os';
import { createLogger } from '../common/log.ts';
import { createEngine } from '../runtime/engine/engine.ts';
import type { Engine } from '../runtime/engine/types.ts';
import { ensureSmolLM2 } from '../tools/models/smollm2.ts';
import { percentile } from './http-load.ts';
import { progress } from './progress.ts';
import { streamMessages } from './runtime/prompts.ts';
import { rotated } from './runtime/stats.ts';

const BUDGETS = [256, 128, 64];
const STREAMS = 50;
const TOKENS = 128;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

interface WaveFigures {
  tokensPerSecond: number;
  gapMs: Float64Array;
  firstTokenMs: Float64Array;
}

async function wave(engine: Engine, tag: string, maxTokens = TOKENS): Promise<WaveFigures> {
  const gaps: number[] = [];
  const firsts: number[] = [];
  let tokens = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      const sent = performance.now();
      const generation = await engine.generate({
        messages: streamMessages(`${tag}-${i}`, i),
        maxTokens,
        temperature: 0,
      });
      let last = Number.NaN;
      for await (const _delta of generation.deltas) {
        const now = performance.now();
        if (Number.isNaN(last)) firsts.push(now - sent);
        else gaps.push(now - last);
        last = now;
      }
      const { usage } = await generation.result;
      tokens += usage.completionTokens;
    }),
  );
  const sorted = (values: number[]) => Float64Array.from(values).sort();
  return {
    tokensPerSecond: tokens / ((performance.now() - started) / 1000),
    gapMs: sorted(gaps),
    firstTokenMs: sorted(firsts),
  };
}

const model = await ensureSmolLM2();
const engines = new Map<number, Engine>();
for (const budget of BUDGETS) {
  progress(`loading an engine with PREFILL_CHUNK_TOKENS=${budget}, and warming it up`);
  const engine = await createEngine({
    modelPath: model.onnxDir,
    maxConcurrency: STREAMS,
    prefillChunkTokens: budget,
    logger: createLogger('engine', { level: 'warn' }),
  });
  await wave(engine, `warm-up-${budget}`, 16);
  engines.set(budget, engine);
}

console.log(
  `SmolLM2-135M-Instruct, ${STREAMS} concurrent streams x ${TOKENS} tokens, greedy, ` +
    `in-process engine; one line per wave`,
);
console.log('budget  round  tokens/s  gap p50 / p99 / max ms  first token p50 / p99 ms  load');
for (let round = 0; round < rounds; round++) {
  for (const budget of rotated(BUDGETS, round)) {
    const figures = await wave(engines.get(budget)!, `${budget}-${round}`);
    const { gapMs: gap, firstTokenMs: first } = figures;
    console.log(
      `${String(budget).padStart(6)}  ${String(round + 1).padStart(5)}  ` +
        `${figures.tokensPerSecond.toFixed(0).padStart(8)}  ` +
        `${`${percentile(gap, 0.5).toFixed(0)} / ${percentile(gap, 0.99).toFixed(0)} / ${gap.at(-1)!.toFixed(0)}`.padStart(22)}  ` +
        `${`${percentile(first, 0.5).toFixed(0)} / ${percentile(first, 0.99).toFixed(0)}`.padStart(24)}  ` +
        `${loadavg()[0]!.toFixed(1)}`,
    );
  }
}
for (const engine of engines.values()) await engine.close();
