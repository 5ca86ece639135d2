// Fuzzing of the GGUF importer on mutated tiny models (21 KB). Runs RUNS cases of mutated
// model values and STRUCTURE_RUNS of mutations of any kind, with a fixed seed; FUZZ_RUNS and
// FUZZ_SEED change them (see test/support/fuzz.ts).
//
// Each case must either import a model the engine can use (its folder read and its chat
// encoded as the engine does, an end-of-sequence id the model can emit, and one step of the
// ONNX model giving logits for every token, finite while the weights are the original ones),
// or refuse with a plain Error saying why (never a TypeError, a RangeError or a crash) and
// leave nothing behind; and end within CASE_MS, growing the JS heap and ArrayBuffers by less
// than CASE_MEMORY_BYTES (a coarse check: a collection inside the case can hide an allocation,
// never invent one).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { fuzzParameters, fuzzRuns } from '../../test/support/fuzz.ts';
import { ggufFields, type Mutation, mutate, mutations } from '../../test/support/gguf-mutations.ts';
import { createChatCodec } from '../engine/chat-codec.ts';
import { readModelFolder } from '../engine/model-folder.ts';
import { UnsupportedModelError } from '../engine/model-io.ts';
import { importGguf } from './import-gguf.ts';
import type { LlamaConfig } from './llama/config.ts';
import { tinyGguf } from './tiny/tiny-gguf.ts';

const RUNS = fuzzRuns(1000);
const STRUCTURE_RUNS = fuzzRuns(300);
const CASE_MS = 2000;
const CASE_MEMORY_BYTES = 64 * 2 ** 20;

const memoryInUse = () => {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

const original = tinyGguf({
  tensorType: 'Q4_0',
  embeddingType: 'Q8_0',
  hiddenSize: 32,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
});
const fields = ggufFields(original);
// The values a model is built from: the mutations that most often make a file that still
// reads, and so reach the importer's own checks.
const MODEL_FIELDS = [
  'value',
  'array length',
  'dimension',
  'dimension count',
  'tensor type',
] as const;

/** Mutations that leave every tensor's bytes where they were, read as the same type. */
const keepsWeights = (changes: readonly Mutation[]) =>
  changes.every(
    (c) => c.kind === 'set' && !['tensor type', 'tensor offset'].includes(fields[c.field]!.kind),
  );

/**
 * The ids of a chat as the engine encodes it, from the folder as the engine reads it. A GGUF
 * without a chat template, or with one that does not parse, imports into a folder the engine
 * refuses with its own message (it serves chat models only): then any one id.
 */
async function chatIds(out: string, config: LlamaConfig): Promise<bigint[]> {
  const codec = await readModelFolder(out)
    .then(createChatCodec)
    .catch((e: Error) => e);
  if (codec instanceof Error) {
    expect(codec).to.be.instanceOf(UnsupportedModelError);
    expect(codec.message).to.match(/has no chat template|the chat template cannot be parsed/);
    return [0n];
  }
  const chat = codec.encodeChat([{ role: 'user', content: 'hi' }]);
  expect(chat.every((id) => id < config.vocabSize)).to.equal(true);
  // A generation must be able to end: the model can emit an end-of-sequence id.
  expect(
    codec.eosTokenIds.every((id) => id < config.vocabSize),
    'eos ids',
  ).to.equal(true);
  return chat.slice(0, config.maxPositions).map(BigInt);
}

/** One step of the imported ONNX model over `ids`, from an empty cache. */
async function expectOneStep(out: string, config: LlamaConfig, ids: bigint[], finite: boolean) {
  const session = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'));
  try {
    const int64 = (values: bigint[], dims: number[]) =>
      new ort.Tensor('int64', BigInt64Array.from(values), dims);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids, [1, ids.length]),
      attention_mask: int64(
        ids.map(() => 1n),
        [1, ids.length],
      ),
      position_ids: int64(
        ids.map((_, i) => BigInt(i)),
        [1, ids.length],
      ),
      num_logits_to_keep: int64([0n], []),
    };
    const emptyCache = [1, config.numKvHeads, 0, config.headDim];
    for (const name of session.inputNames.filter((n) => n.startsWith('past_key_values.'))) {
      feeds[name] = new ort.Tensor('float32', new Float32Array(0), emptyCache);
    }
    const { logits } = await session.run(feeds);
    expect(logits!.dims).to.deep.equal([1, ids.length, config.vocabSize]);
    if (finite) {
      expect((logits!.data as Float32Array).every(Number.isFinite), 'finite logits').to.equal(true);
    }
  } finally {
    await session.release();
  }
}

describe('GGUF importer fuzzing', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'import-fuzz-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  /** One case: the mutated file imported, and the outcome judged. */
  async function importCase(changes: Mutation[]): Promise<void> {
    const gguf = join(dir, 'mutated.gguf');
    const out = join(dir, 'model');
    await writeFile(gguf, mutate(original, fields, changes));
    await rm(out, { recursive: true, force: true });
    const started = performance.now();
    const memoryBefore = memoryInUse();
    const outcome = await importGguf(gguf, out).then(
      ({ config }) => ({ config }),
      (error: unknown) => ({ error }),
    );
    expect(performance.now() - started, 'ms').to.be.below(CASE_MS);
    expect(memoryInUse() - memoryBefore, 'memory growth').to.be.below(CASE_MEMORY_BYTES);
    if ('config' in outcome) {
      const ids = await chatIds(out, outcome.config);
      return expectOneStep(out, outcome.config, ids, keepsWeights(changes));
    }
    const { error } = outcome;
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).name, (error as Error).stack).to.equal('Error');
    expect((error as Error).message).to.have.length.above(0);
    expect(await readdir(dir)).to.deep.equal(['mutated.gguf']);
  }

  it(`imports a model of mutated values or says why not, within bounds (${RUNS} cases)`, () =>
    fc.assert(
      fc.asyncProperty(mutations(original, fields, MODEL_FIELDS), importCase),
      fuzzParameters(RUNS),
    ));

  it(`does the same for a file mutated anywhere (${STRUCTURE_RUNS} cases)`, () =>
    fc.assert(
      fc.asyncProperty(mutations(original, fields), importCase),
      fuzzParameters(STRUCTURE_RUNS),
    ));
});
