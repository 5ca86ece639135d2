import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { dequantize } from './dequantize.ts';
import type { GgmlTypeName } from './ggml-type.ts';
import { GgmlType } from './ggml-type.ts';
import { quantize } from './quantize.ts';

function ramp(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)) - 0.3);
}

describe('ggml quantization', () => {
  // The worst error a correct encoder can make, relative to the block's value range.
  const tolerance: Record<GgmlTypeName, number> = {
    F32: 0,
    F16: 2 ** -11,
    BF16: 2 ** -8,
    Q8_0: 0.5 / 127 + 2 ** -11,
    Q4_0: 0.5 / 8 + 2 ** -11,
    Q4_1: 0.5 / 15 + 2 ** -10,
    // Sub-block scales are themselves rounded to 6 (Q4_K) or 8 (Q6_K) bits: a looser bound.
    Q4_K: 0.1,
    Q6_K: 0.05,
  };

  for (const [name, type] of Object.entries(GgmlType)) {
    it(`${name}: dequantize(quantize(x)) stays within the format's rounding error`, () => {
      const x = ramp(512);
      const y = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < x.length; b += 32) {
        const block = x.subarray(b, b + 32);
        const range = Math.max(...block.map(Math.abs));
        for (let j = b; j < b + 32; j++) {
          expect(Math.abs(y[j]! - x[j]!), `element ${j}`).to.be.at.most(
            tolerance[name as GgmlTypeName] * (name.startsWith('Q') ? 2 * range : Math.abs(x[j]!)),
          );
        }
      }
    });
  }

  it('dequantizes exactly as the gguf Python package does (golden blocks)', async () => {
    const golden = JSON.parse(
      await readFile(new URL('./testdata/golden-blocks.json', import.meta.url), 'utf8'),
    );
    for (const [name, block] of Object.entries(golden.blocks) as [
      GgmlTypeName,
      { hex: string; values: number[] },
    ][]) {
      const y = dequantize(GgmlType[name], Buffer.from(block.hex, 'hex'), block.values.length);
      expect(Array.from(y), name).to.deep.equal(block.values);
    }
  });

  it('Q4_0 decodes the documented layout: low nibbles first, then high nibbles, offset by 8', () => {
    const block = new Uint8Array(18);
    new DataView(block.buffer).setUint16(0, 0x4000, true); // d = 2
    block[2] = 0x9f; // element 0 -> (15-8)*2, element 16 -> (9-8)*2
    block.fill(0x88, 3);
    const y = dequantize(GgmlType.Q4_0, block, 32);
    expect([y[0], y[1], y[16], y[17]]).to.deep.equal([14, 0, 2, 0]);
  });

  it('Q4_1 decodes q * d + m', () => {
    const block = new Uint8Array(20);
    const view = new DataView(block.buffer);
    view.setUint16(0, 0x3800, true); // d = 0.5
    view.setUint16(2, 0xc000, true); // m = -2
    block[4] = 0x3a;
    const y = dequantize(GgmlType.Q4_1, block, 32);
    expect([y[0], y[16], y[1]]).to.deep.equal([3, -0.5, -2]);
  });

  it('rejects data whose size does not match the element count', () => {
    expect(() => dequantize(GgmlType.Q8_0, new Uint8Array(33), 32)).to.throw(/must be 34 bytes/);
  });
});
