import { expect } from 'chai';
import { parseQuantity, quantitiesEqual, quantityValue } from './quantity.ts';

describe('quantities', () => {
  it('reads every suffix family exactly', () => {
    expect(quantityValue('500m')).to.deep.equal({ numerator: 500n, denominator: 1000n });
    expect(quantityValue('1Gi')).to.deep.equal({ numerator: 2n ** 30n, denominator: 1n });
    expect(quantityValue('1.5k')).to.deep.equal({ numerator: 15000n, denominator: 10n });
    expect(quantityValue('2e3')).to.deep.equal({ numerator: 2000n, denominator: 1n });
    expect(quantityValue('-.5')).to.deep.equal({ numerator: -5n, denominator: 10n });
  });

  const same: Array<[string | number, string | number]> = [
    ['0.5', '500m'],
    ['1Gi', '1073741824'],
    ['1Gi', '1024Mi'],
    ['1k', '1000'],
    ['1e3', '1k'],
    ['1E', '1e18'],
    ['2', 2],
    [0.1, '100m'],
    ['100u', '100000n'],
    ['1.', '1'],
    ['+1', '1'],
  ];
  for (const [a, b] of same) {
    it(`${JSON.stringify(a)} equals ${JSON.stringify(b)}`, () => {
      expect(quantitiesEqual(a, b)).to.equal(true);
      expect(quantitiesEqual(b, a)).to.equal(true);
    });
  }

  const different: Array<[string, string]> = [
    ['1G', '1Gi'],
    ['1m', '1M'],
    ['500m', '0.05'],
    ['1', '-1'],
  ];
  for (const [a, b] of different) {
    it(`${a} differs from ${b}`, () => expect(quantitiesEqual(a, b)).to.equal(false));
  }

  it('refuses text that is not a quantity', () => {
    for (const text of ['', 'abc', '1 Gi', '1gi', '1Gii', '1e', '.', 'Gi', '1..2', 'NaN']) {
      expect(quantityValue(text), text).to.equal(undefined);
    }
    expect(quantitiesEqual('abc', 'abc')).to.equal(false);
  });

  it('gives whole units, rounded up', () => {
    expect(parseQuantity('4Gi')).to.equal(4 * 1024 ** 3);
    expect(parseQuantity('100Gi')).to.equal(100 * 1024 ** 3);
    expect(parseQuantity('10G')).to.equal(10e9);
    expect(parseQuantity('1e3')).to.equal(1000);
    expect(parseQuantity('500m')).to.equal(1);
    expect(parseQuantity(2)).to.equal(2);
    expect(parseQuantity('4GB')).to.equal(undefined);
  });
});
