import { expect } from 'chai';
import { canonicalJson, sameJson } from './canonical-json.ts';

describe('canonical JSON', () => {
  it('ignores the order of fields and fields that are undefined', () => {
    expect(sameJson({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).to.equal(true);
    expect(sameJson({ a: 1, retireAfter: undefined }, { a: 1 })).to.equal(true);
  });

  it('tells apart different values, list orders and a missing value', () => {
    expect(sameJson({ a: 1 }, { a: 2 })).to.equal(false);
    expect(sameJson({ keys: ['x', 'y'] }, { keys: ['y', 'x'] })).to.equal(false);
    expect(sameJson(undefined, { a: 1 })).to.equal(false);
  });

  it('hashes nested objects by content, keeping arrays in order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: 1 })).to.equal('{"a":1,"b":[{"c":2,"d":1}]}');
  });
});
