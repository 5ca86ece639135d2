// Fuzzing of the GGUF reader on mutated tiny files (1.3 KB). Runs RUNS cases with a fixed
// seed; FUZZ_RUNS and FUZZ_SEED change both (see test/support/fuzz.ts).
//
// Bounds each case must keep: it ends within CASE_MS; every tensor the reader lists (of a
// supported type) lies inside the file, so reading it allocates at most the file's size, and its
// floats at most 8 times that (4 bytes per value of Q4_0's 18 bytes per 32 values is 7.1); and
// the JS heap and ArrayBuffers grow by less than CASE_MEMORY_BYTES over the case (a coarse check:
// a collection inside the case can hide an allocation, never invent one). Before the fixes such
// a file could cost 400 MB and 2.4 s, or abort the process.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { fuzzParameters, fuzzRuns } from '../../../test/support/fuzz.ts';
import { ggufFields, mutate, mutations } from '../../../test/support/gguf-mutations.ts';
import { GgmlType, isSupportedType, tensorByteSize } from './ggml-type.ts';
import { quantize } from './quantize.ts';
import { openGguf } from './reader.ts';
import { encodeGguf } from './writer.ts';

const RUNS = fuzzRuns(1000);
const CASE_MS = 1000;
const CASE_MEMORY_BYTES = 16 * 2 ** 20;
const FLOAT_BYTES_PER_FILE_BYTE = 8;

const memoryInUse = () => {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

const values = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i));
const original = encodeGguf(
  {
    'general.architecture': { type: 'string', value: 'llama' },
    'llama.block_count': { type: 'uint32', value: 1 },
    'llama.rope.freq_base': { type: 'float32', value: 10000 },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: true },
    'tokenizer.ggml.tokens': { type: 'string[]', value: ['a', 'bc', '<s>'] },
    'tokenizer.ggml.token_type': { type: 'int32[]', value: [1, 1, 3] },
  },
  (['F32', 'F16', 'Q8_0', 'Q4_K'] as const).map((type) => ({
    name: `t.${type}`,
    shape: [256],
    type: GgmlType[type],
    data: quantize(GgmlType[type], values),
  })),
);
const fields = ggufFields(original);

/** Opens the file and reads every tensor: each refusal must be a plain Error naming the file. */
async function readWhole(path: string, fileSize: number): Promise<void> {
  let file;
  try {
    file = await openGguf(path);
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).name, (error as Error).stack).to.equal('Error');
    expect((error as Error).message).to.match(/mutated\.gguf is not a readable GGUF file: \S/);
    return;
  }
  try {
    for (const info of file.tensors.values()) {
      if (!isSupportedType(info.type)) {
        const refusal = await file.readFloats(info.name).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(refusal?.message).to.match(/is not supported; supported types/);
        continue;
      }
      expect(info.offset + tensorByteSize(info.type, info.elements)).to.be.at.most(fileSize);
      const floats = await file.readFloats(info.name);
      expect(floats).to.have.length(info.elements);
      expect(floats.byteLength).to.be.at.most(FLOAT_BYTES_PER_FILE_BYTE * fileSize);
    }
  } finally {
    await file.close();
  }
}

describe('GGUF reader fuzzing', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'gguf-fuzz-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it(`reads a mutated file whole, or says why not, within bounds (${RUNS} cases)`, async () => {
    const path = join(dir, 'mutated.gguf');
    await fc.assert(
      fc.asyncProperty(mutations(original, fields), async (changes) => {
        const bytes = mutate(original, fields, changes);
        await writeFile(path, bytes);
        const started = performance.now();
        const memoryBefore = memoryInUse();
        await readWhole(path, bytes.length);
        expect(performance.now() - started, 'ms').to.be.below(CASE_MS);
        expect(memoryInUse() - memoryBefore, 'memory growth').to.be.below(CASE_MEMORY_BYTES);
      }),
      fuzzParameters(RUNS),
    );
  });
});
