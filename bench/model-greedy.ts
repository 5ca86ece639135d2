// Greedy generation straight on an imported model folder, timing prefill and decode: a check that a
// converted model talks sense, and the model-only speed figure (no engine, no server).
//
//   npm run bench:model -- <model-dir> [prompt] [max-new-tokens]
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const [dir, prompt = 'What is the capital of France?', maxNew = '64'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: npm run bench:model -- <model-dir> [prompt] [max-new-tokens]');
  process.exit(2);
}
const json = async (name: string) => JSON.parse(await readFile(join(dir, name), 'utf8'));
const config = await json('config.json');
const tokenizerConfig = await json('tokenizer_config.json');
const tokenizer = new Tokenizer(await json('tokenizer.json'), tokenizerConfig);
const text = new Template(tokenizerConfig.chat_template).render({
  messages: [{ role: 'user', content: prompt }],
  add_generation_prompt: true,
});
const promptIds: number[] = tokenizer.encode(text).ids;

const threads = Number(process.env.THREADS ?? 2);
const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), {
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
});

const i64 = (values: number[], dims: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
let past: Record<string, ort.Tensor> = {};
for (let i = 0; i < config.num_hidden_layers; i++) {
  for (const kind of ['key', 'value']) {
    past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
      1,
      config.num_key_value_heads,
      0,
      config.head_dim,
    ]);
  }
}

async function step(ids: number[], start: number): Promise<number> {
  const out = await session.run({
    input_ids: i64(ids, [1, ids.length]),
    attention_mask: i64(Array(start + ids.length).fill(1), [1, start + ids.length]),
    position_ids: i64(
      ids.map((_, i) => start + i),
      [1, ids.length],
    ),
    num_logits_to_keep: i64([1], []),
    ...past,
  });
  past = Object.fromEntries(
    Object.keys(past).map((name) => [name, out[name.replace('past_key_values', 'present')]!]),
  );
  const logits = out.logits!.data as Float32Array;
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
  return best;
}

const t0 = performance.now();
let next = await step(promptIds, 0);
const firstTokenMs = performance.now() - t0;
const generated = [next];
const t1 = performance.now();
while (generated.length < Number(maxNew) && next !== config.eos_token_id) {
  next = await step([next], promptIds.length + generated.length - 1);
  generated.push(next);
}
const decodeMs = performance.now() - t1;
const decoded = generated.length - 1;

console.log(tokenizer.decode(generated, { skip_special_tokens: true }));
console.log(
  JSON.stringify({
    promptTokens: promptIds.length,
    generatedTokens: generated.length,
    firstTokenMs: Math.round(firstTokenMs),
    decodeTokensPerSecond: Number(((decoded * 1000) / decodeMs).toFixed(1)),
    threads,
  }),
);
await session.release();
