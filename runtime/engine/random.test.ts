import { expect } from 'chai';
import { createRandom } from './random.ts';

const draws = (seed: number, n: number) => {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => random.next());
};

describe('createRandom', () => {
  it('repeats the same sequence for the same seed', () => {
    expect(draws(42, 100)).to.deep.equal(draws(42, 100));
  });

  it('gives unrelated sequences for neighbouring seeds', () => {
    const a = draws(1, 100);
    const b = draws(2, 100);
    expect(a.filter((x, i) => x === b[i])).to.have.length(0);
  });

  it('stays in [0, 1) and spreads evenly over it', () => {
    const values = draws(7, 20_000);
    const buckets = new Array<number>(10).fill(0);
    for (const v of values) {
      expect(v).to.be.at.least(0).and.below(1);
      buckets[Math.floor(v * 10)]!++;
    }
    for (const count of buckets) expect(count).to.be.within(1_800, 2_200);
  });
});
