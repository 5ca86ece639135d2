import { expect } from 'chai';
import { PrefixCache } from './prefix-cache.ts';
import type { CachedSequence } from './prefix-cache.ts';

// One float per token column, so an entry of n tokens weighs 4n bytes.
const entry = (tokens: number[]): CachedSequence => ({
  tokens,
  kv: { rows: 1, columns: tokens.length, data: [new Float32Array(tokens.length)] },
});

describe('PrefixCache', () => {
  it('finds the entry sharing the longest prefix, within the limit', () => {
    const cache = new PrefixCache(1_000);
    const short = entry([1, 2, 3]);
    const long = entry([1, 2, 3, 4, 5, 9]);
    cache.insert(short);
    cache.insert(entry([7, 8]));
    cache.insert(long);
    expect(cache.lookup([1, 2, 3, 4, 5, 6], 100)).to.deep.equal({ entry: long, length: 5 });
    expect(cache.lookup([1, 2, 3, 4, 5, 6], 4)).to.deep.include({ length: 4 });
    expect(cache.lookup([9, 9], 100)).to.equal(undefined);
  });

  it('replaces an entry by one that extends it (the next turn of a chat)', () => {
    const cache = new PrefixCache(1_000);
    cache.insert(entry([1, 2, 3]));
    const next = entry([1, 2, 3, 4, 5]);
    cache.insert(next);
    expect(cache.size).to.equal(1);
    expect(cache.bytes).to.equal(20);
    cache.insert(entry([1, 2]));
    expect(cache.size).to.equal(1);
    expect(cache.lookup([1, 2, 3, 4, 5, 6], 100)?.entry).to.equal(next);
  });

  it('evicts the least recently used entries to stay within the byte budget', () => {
    const cache = new PrefixCache(40); // room for 10 token columns
    const a = entry([1, 1, 1, 1]);
    const b = entry([2, 2, 2, 2]);
    cache.insert(a);
    cache.insert(b);
    cache.lookup([1, 1], 100); // a becomes the most recently used
    cache.insert(entry([3, 3, 3, 3]));
    expect(cache.lookup([2, 2], 100)).to.equal(undefined);
    expect(cache.lookup([1, 1], 100)?.entry).to.equal(a);
    expect(cache.bytes).to.be.at.most(40);
  });

  it('does not keep an entry larger than the whole budget', () => {
    const cache = new PrefixCache(8);
    cache.insert(entry([1, 2, 3]));
    expect(cache.size).to.equal(0);
  });
});
