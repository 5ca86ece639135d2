import { expect } from 'chai';
import { parseQuantity, parseQuantityMillis } from './quantity.ts';

describe('quantities', () => {
  it('reads decimal, binary and exponent suffixes exactly', () => {
    expect(parseQuantityMillis('500m')).to.equal(500n);
    expect(parseQuantityMillis('0.5')).to.equal(500n);
    expect(parseQuantityMillis('2')).to.equal(2000n);
    expect(parseQuantityMillis(2)).to.equal(2000n);
    expect(parseQuantity('4Gi')).to.equal(4 * 1024 ** 3);
    expect(parseQuantity('100Gi')).to.equal(100 * 1024 ** 3);
    expect(parseQuantity('1.5Gi')).to.equal(1.5 * 1024 ** 3);
    expect(parseQuantity('10G')).to.equal(10e9);
    expect(parseQuantity('1e3')).to.equal(1000);
    expect(parseQuantity('128974848')).to.equal(128974848);
  });

  it('rounds sub-milli values up, as the API server does', () => {
    expect(parseQuantityMillis('1u')).to.equal(1n);
    expect(parseQuantityMillis('0.0001')).to.equal(1n);
  });

  it('refuses what is not a quantity', () => {
    for (const bad of ['', 'two', '4GB', '1.2.3', 'Gi', '--1']) {
      expect(parseQuantityMillis(bad), bad).to.equal(undefined);
    }
  });
});
