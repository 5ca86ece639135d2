import { expect } from 'chai';
import { bfloat16ToFloat, floatToHalf, halfToFloat } from './half.ts';

describe('half precision', () => {
  it('decodes normal, subnormal and special halves', () => {
    expect(halfToFloat(0x3c00)).to.equal(1);
    expect(halfToFloat(0xc000)).to.equal(-2);
    expect(halfToFloat(0x7bff)).to.equal(65504);
    expect(halfToFloat(0x0001)).to.equal(2 ** -24);
    expect(halfToFloat(0x7c00)).to.equal(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).to.equal(true);
  });

  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const f = halfToFloat(h);
      if (Number.isNaN(f)) continue;
      expect(floatToHalf(f), `half 0x${h.toString(16)}`).to.equal(h);
    }
  });

  it('rounds to the nearest half, ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and the next half 1 + 2^-10: ties go to the even mantissa.
    expect(floatToHalf(1 + 2 ** -11)).to.equal(0x3c00);
    expect(floatToHalf(1 + 3 * 2 ** -11)).to.equal(0x3c02);
    expect(floatToHalf(1 + 2 ** -11 + 2 ** -20)).to.equal(0x3c01);
    expect(floatToHalf(1e6)).to.equal(0x7c00);
    expect(floatToHalf(2 ** -26)).to.equal(0);
    expect(floatToHalf(3 * 2 ** -26)).to.equal(0x0001);
  });

  it('decodes bfloat16 as the upper half of a float', () => {
    expect(bfloat16ToFloat(0x3f80)).to.equal(1);
    expect(bfloat16ToFloat(0xc040)).to.equal(-3);
  });
});
