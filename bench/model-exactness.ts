// Compares an imported model's logits with the float64 reference forward pass over its GGUF, for a
// chat prompt: the exactness figure for a real model (the unit tests cover the tiny ones).
//
//   npm run bench:exactness -- <file.gguf> <model-dir> [prompt]
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openGguf } from '../runtime/model/gguf/reader.ts';
import { llamaConfigFromGguf } from '../runtime/model/llama/config.ts';
import { referenceLogits } from '../test/support/llama-reference.ts';

const [ggufPath, dir, prompt = 'Hi!'] = process.argv.slice(2);
if (!ggufPath || !dir) {
  console.error('usage: npm run bench:exactness -- <file.gguf> <model-dir> [prompt]');
  process.exit(2);
}
const json = async (name: string) => JSON.parse(await readFile(join(dir, name), 'utf8'));
const tokenizerConfig = await json('tokenizer_config.json');
const tokenizer = new Tokenizer(await json('tokenizer.json'), tokenizerConfig);
const text = new Template(tokenizerConfig.chat_template).render({
  messages: [{ role: 'user', content: prompt }],
  add_generation_prompt: true,
});
const ids: number[] = tokenizer.encode(text).ids;

const file = await openGguf(ggufPath);
const config = llamaConfigFromGguf(file.metadata, file.tensors);
const tensors = new Map<string, Float32Array>();
for (const name of file.tensors.keys()) tensors.set(name, await file.readFloats(name));
await file.close();
const expected = referenceLogits(config, (name) => tensors.get(name)!, ids);

const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
const i64 = (values: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
const empty = new ort.Tensor('float32', new Float32Array(0), [
  1,
  config.numKvHeads,
  0,
  config.headDim,
]);
const out = await session.run({
  input_ids: i64(ids),
  attention_mask: i64(ids.map(() => 1)),
  position_ids: i64(ids.map((_, i) => i)),
  num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
  ...Object.fromEntries(
    Array.from({ length: config.numLayers }, (_, i) => [
      [`past_key_values.${i}.key`, empty],
      [`past_key_values.${i}.value`, empty],
    ]).flat(),
  ),
});
const logits = out.logits!.data as Float32Array;

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};
let maxDiff = 0;
let maxLogit = 0;
let sameArgmax = 0;
expected.forEach((row, p) => {
  const actual = logits.subarray(p * config.vocabSize, (p + 1) * config.vocabSize);
  row.forEach((v, j) => {
    maxDiff = Math.max(maxDiff, Math.abs(v - actual[j]!));
    maxLogit = Math.max(maxLogit, Math.abs(v));
  });
  if (argmax(row) === argmax(actual)) sameArgmax++;
});
console.log(
  JSON.stringify({ positions: ids.length, maxAbsDiff: maxDiff, maxAbsLogit: maxLogit, sameArgmax }),
);
await session.release();
