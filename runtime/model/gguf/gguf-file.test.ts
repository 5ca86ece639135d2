import { expect } from 'chai';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
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

  describe('refuses at open a tensor the file cannot hold', () => {
    const tensors = [
      { name: 'f', shape: [4, 2], type: GgmlType.F32, data: new Uint8Array(32) },
      { name: 'q', shape: [32, 2], type: GgmlType.Q8_0, data: new Uint8Array(68) },
    ];
    /** The file with tensor `name`'s directory entry changed: its dims, then type and offset. */
    async function withEntry(name: string, change: (entry: DataView) => void) {
      const bytes = Buffer.from(encodeGguf({}, tensors));
      const at = bytes.indexOf(name, 24) + name.length;
      const dims = bytes.readUInt32LE(at);
      change(new DataView(bytes.buffer, bytes.byteOffset + at + 4, dims * 8 + 12));
      const path = join(dir, 'c.gguf');
      await writeFile(path, bytes);
      return path;
    }

    it('whose shape needs more bytes than follow its offset', async () => {
      // 2^31 x 2 floats: reading them once aborted the process (a read beyond 2 GiB).
      const path = await withEntry('f', (entry) => entry.setBigUint64(0, 2n ** 31n, true));
      await expectRejection(
        openGguf(path),
        /c\.gguf is not a readable GGUF file: tensor f \(shape \[2147483648, 2\]\) needs 17179869184 bytes from offset \d+, past the end of the file \(\d+ bytes\): the file is truncated or corrupt/,
      );
    });

    it('whose offset is past the end of the file', async () => {
      const path = await withEntry('q', (entry) => entry.setBigUint64(16 + 4, 2n ** 40n, true));
      await expectRejection(
        openGguf(path),
        /tensor q .* needs 68 bytes from offset 1099511627\d+, past the end/,
      );
    });

    it('whose rows are not whole quantization blocks', async () => {
      const path = await withEntry('q', (entry) => {
        entry.setBigUint64(0, 16n, true);
        entry.setBigUint64(8, 4n, true);
      });
      await expectRejection(
        openGguf(path),
        /tensor q is Q8_0 with rows of 16 values, not whole blocks of 32/,
      );
    });
  });

  describe('refuses a header the file cannot hold', () => {
    const header = encodeGguf(
      {
        'general.architecture': { type: 'string', value: 'llama' },
        'tokenizer.ggml.tokens': { type: 'string[]', value: ['a', 'b'] },
      },
      [{ name: 'f', shape: [4, 2], type: GgmlType.F32, data: new Uint8Array(32) }],
    );
    const path = () => join(dir, 'h.gguf');

    it('cut short anywhere inside it, instead of reading zeros past the end', async () => {
      const key = Buffer.from(header).indexOf('tokenizer');
      const name = Buffer.from(header).indexOf('f', key + 30);
      for (const end of [12, 20, key + 3, key + 30, name, name + 10]) {
        await writeFile(path(), header.subarray(0, end));
        await expectRejection(
          openGguf(path()),
          new RegExp(`needs \\d+ bytes, but the file ends at byte ${end}|hold at most`),
        );
      }
    });

    it('declaring more tensors than the file could list, without reading on', async () => {
      const bytes = Buffer.from(header);
      bytes.writeBigUInt64LE(10_000_000n, 8);
      await writeFile(path(), bytes);
      await expectRejection(
        openGguf(path()),
        /declares 10000000 tensors, but its remaining \d+ bytes hold at most \d+: the file is truncated or corrupt; download it again/,
      );
    });

    it('longer than any real header, without reading it', async () => {
      // A 100 MiB sparse file whose first key claims 80 MiB.
      const bytes = Buffer.from(header.subarray(0, 32));
      bytes.writeBigUInt64LE(80n * 2n ** 20n, 24);
      await writeFile(path(), bytes);
      await truncate(path(), 100 * 2 ** 20);
      await expectRejection(
        openGguf(path()),
        /past the first 64 MiB, longer than any model's header/,
      );
    });

    it('naming a tensor twice', async () => {
      const twice = { name: 'f', shape: [8], type: GgmlType.F32, data: new Uint8Array(32) };
      await writeFile(path(), encodeGguf({}, [twice, twice]));
      await expectRejection(openGguf(path()), /tensor "f" appears twice/);
    });
  });

  it('reads a header longer than its first read', async () => {
    const template = 'x'.repeat(3 * 2 ** 20);
    const path = join(dir, 'long.gguf');
    await writeFile(
      path,
      encodeGguf({ 'tokenizer.chat_template': { type: 'string', value: template } }, []),
    );
    const file = await openGguf(path);
    await file.close();
    expect(file.metadata['tokenizer.chat_template']).to.equal(template);
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
