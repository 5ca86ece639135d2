import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dequantize } from './dequantize.ts';
import { GgmlType } from './ggml-type.ts';
import { quantize } from './quantize.ts';
import { openGguf } from './reader.ts';
import { encodeGguf } from './writer.ts';

describe('GGUF writer and reader', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'gguf-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips metadata and tensors of every supported type', async () => {
    const values = Float32Array.from({ length: 512 }, (_, i) => Math.cos(i) * 3);
    const tensors = Object.entries(GgmlType).map(([name, type]) => ({
      name: `t.${name}`,
      shape: [256, 2],
      type,
      data: quantize(type, values),
    }));
    const path = join(dir, 'a.gguf');
    await writeFile(
      path,
      encodeGguf(
        {
          'general.architecture': { type: 'string', value: 'llama' },
          'llama.block_count': { type: 'uint32', value: 3 },
          'llama.rope.freq_base': { type: 'float32', value: 10000 },
          'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
          'tokenizer.ggml.tokens': { type: 'string[]', value: ['a', 'ü', '<|x|>'] },
          'tokenizer.ggml.token_type': { type: 'int32[]', value: [1, 1, 3] },
        },
        tensors,
      ),
    );

    const file = await openGguf(path);
    try {
      expect(file.metadata).to.deep.equal({
        'general.architecture': 'llama',
        'llama.block_count': 3,
        'llama.rope.freq_base': 10000,
        'tokenizer.ggml.add_bos_token': false,
        'tokenizer.ggml.tokens': ['a', 'ü', '<|x|>'],
        'tokenizer.ggml.token_type': [1, 1, 3],
      });
      for (const t of tensors) {
        expect(file.tensors.get(t.name)).to.include({ type: t.type, elements: 512 });
        expect(file.tensors.get(t.name)!.shape).to.deep.equal([256, 2]);
        expect(Array.from(await file.readFloats(t.name)), t.name).to.deep.equal(
          Array.from(dequantize(t.type, t.data, 512)),
        );
      }
      await expectRejection(file.readFloats('missing'), /has no tensor named missing/);
    } finally {
      await file.close();
    }
  });

  it('names the file when it is not GGUF', async () => {
    const path = join(dir, 'b.gguf');
    await writeFile(path, 'not a gguf file at all');
    await expectRejection(openGguf(path), /b\.gguf is not a readable GGUF file/);
  });
});

async function expectRejection(p: Promise<unknown>, message: RegExp) {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(Error);
  expect((error as Error).message).to.match(message);
}
