// `npm run bench:repetition [-- --out <file.json>]`: how often the real default model
// (SmolLM2-135M-Instruct) loops, at the demo's sampling (temperature 0.2, top_p 0.9, 256 tokens),
// without a repetition penalty and with 1.1, 1.2 and 1.3. Every setting answers the same
// questions with the same seeds, all in one engine, so the rows differ by the penalty alone.
//
// Per setting: answers cut by the token limit (a looping answer never ends by itself), the share
// of words that repeat a 4-word sequence already in the same answer, and mean answer length.
// Quality is not measured: read the answers the JSON keeps.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createLogger } from '../common/log.ts';
import { createEngine } from '../runtime/engine/engine.ts';
import { ensureSmolLM2 } from '../tools/models/smollm2.ts';
import { progress } from './progress.ts';

const QUESTIONS = [
  'What is Kubernetes?',
  'Hello! What can you do?',
  'Explain what an API key is in two sentences.',
  'Give me three tips for writing clear emails.',
  'Why is the sky blue?',
  'What should I cook for dinner tonight?',
  'Summarise the plot of Romeo and Juliet.',
  'How do I keep a houseplant alive?',
];
const SEEDS = [1, 2, 3];
const PENALTIES = [1, 1.1, 1.2, 1.3];
const MAX_TOKENS = 256;

const { values: flags } = parseArgs({ options: { out: { type: 'string' } } });

/** Words that complete a 4-word sequence seen earlier in the same text, as a share of all words. */
function repeatedFourGramShare(text: string): number {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const seen = new Set<string>();
  let repeated = 0;
  for (let i = 3; i < words.length; i++) {
    const gram = words.slice(i - 3, i + 1).join(' ');
    if (seen.has(gram)) repeated++;
    else seen.add(gram);
  }
  return words.length === 0 ? 0 : repeated / words.length;
}

const model = await ensureSmolLM2();
const engine = await createEngine({
  modelPath: model.onnxDir,
  maxConcurrency: 16,
  // Every answer is asked for at once; the engine queues what does not fit the batch.
  maxQueue: 1000,
  logger: createLogger('engine', { level: 'warn' }),
});
const started = performance.now();
progress(`${QUESTIONS.length * SEEDS.length * PENALTIES.length} answers, 16 at a time`);

interface Answer {
  penalty: number;
  question: string;
  seed: number;
  text: string;
  finishReason: string;
  tokens: number;
}

const jobs = PENALTIES.flatMap((penalty) =>
  QUESTIONS.flatMap((question) => SEEDS.map((seed) => ({ penalty, question, seed }))),
);
const answers: Answer[] = await Promise.all(
  jobs.map(async ({ penalty, question, seed }) => {
    const generation = await engine.generate({
      messages: [{ role: 'user', content: question }],
      maxTokens: MAX_TOKENS,
      temperature: 0.2,
      topP: 0.9,
      repetitionPenalty: penalty,
      seed,
    });
    const result = await generation.result;
    return {
      penalty,
      question,
      seed,
      text: result.text,
      finishReason: result.finishReason,
      tokens: result.usage.completionTokens,
    };
  }),
);
await engine.close();
progress(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
console.log(
  `SmolLM2-135M-Instruct, temperature 0.2, top_p 0.9, ${MAX_TOKENS} tokens at most; ` +
    `${QUESTIONS.length} questions x ${SEEDS.length} seeds per row`,
);
console.log('repetition_penalty  cut by the limit  repeated 4-grams  mean tokens');
const rows = PENALTIES.map((penalty) => {
  const mine = answers.filter((a) => a.penalty === penalty);
  const row = {
    penalty,
    cutByLimit: mine.filter((a) => a.finishReason === 'length').length,
    answers: mine.length,
    repeatedFourGrams: mean(mine.map((a) => repeatedFourGramShare(a.text))),
    meanTokens: mean(mine.map((a) => a.tokens)),
  };
  console.log(
    `${String(penalty).padEnd(18)}  ${`${row.cutByLimit}/${row.answers}`.padEnd(16)}  ` +
      `${(row.repeatedFourGrams * 100).toFixed(1).padStart(5)} %           ${row.meanTokens.toFixed(0)}`,
  );
  return row;
});
if (flags.out) {
  await writeFile(flags.out, JSON.stringify({ rows, answers }, null, 2));
  console.log(`answers: ${flags.out}`);
}
