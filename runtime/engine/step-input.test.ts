import { expect } from 'chai';
import { decodeInput, prefillInput } from './step-input.ts';
import type { KvBlock } from './kv-block.ts';

const block = (rows: number, columns: number): KvBlock => ({ rows, columns, data: [] });
const plain = (a: BigInt64Array) => [...a].map(Number);

describe('decodeInput', () => {
  it("masks each row's left padding and continues its own positions", () => {
    // Row 0 has 4 real positions, row 1 has 1 (3 padding columns).
    const input = decodeInput([11, 22], [0, 3], block(2, 4));
    expect(input.length).to.equal(1);
    expect(plain(input.inputIds)).to.deep.equal([11, 22]);
    expect(plain(input.attentionMask)).to.deep.equal([1, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
    expect(plain(input.positionIds)).to.deep.equal([4, 1]);
  });
});

describe('prefillInput', () => {
  it('starts at position 0 on an empty cache', () => {
    const input = prefillInput([5, 6, 7], block(1, 0));
    expect(plain(input.attentionMask)).to.deep.equal([1, 1, 1]);
    expect(plain(input.positionIds)).to.deep.equal([0, 1, 2]);
  });

  it('continues after the cached part of a prompt', () => {
    const input = prefillInput([8, 9], block(1, 3));
    expect(plain(input.inputIds)).to.deep.equal([8, 9]);
    expect(plain(input.attentionMask)).to.deep.equal([1, 1, 1, 1, 1]);
    expect(plain(input.positionIds)).to.deep.equal([3, 4]);
  });
});
