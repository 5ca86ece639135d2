import { expect } from 'chai';
import { gatherRows } from './kv-block.ts';
import type { KvBlock, KvShape } from './kv-block.ts';

const shape: KvShape = { heads: 2, headDim: 3, tensors: 2 };

/** A block whose every float encodes where it is: tensor, row, head, column, dim. */
function labelledBlock(rows: number, columns: number, tag: number): KvBlock {
  const data = [0, 1].map((t) => {
    const d = new Float32Array(rows * shape.heads * columns * shape.headDim);
    for (let r = 0; r < rows; r++)
      for (let h = 0; h < shape.heads; h++)
        for (let c = 0; c < columns; c++)
          for (let i = 0; i < shape.headDim; i++)
            d[((r * shape.heads + h) * columns + c) * shape.headDim + i] =
              tag * 10_000 + t * 1000 + r * 100 + h * 10 + c + i / 10;
    return d;
  });
  return { rows, columns, data };
}

/** The floats at (tensor, row, head, column) of a block, as a plain array. */
function at(block: KvBlock, t: number, r: number, h: number, c: number): number[] {
  const offset = ((r * shape.heads + h) * block.columns + c) * shape.headDim;
  return [...block.data[t]!.subarray(offset, offset + shape.headDim)];
}

describe('gatherRows', () => {
  it('left-pads a shorter row next to a longer one', () => {
    const batch = labelledBlock(1, 4, 1);
    const joining = labelledBlock(1, 2, 2);
    const { block, pads } = gatherRows(
      [
        { block: batch, row: 0, start: 0, length: 4 },
        { block: joining, row: 0, start: 0, length: 2 },
      ],
      shape,
    );
    expect(block.rows).to.equal(2);
    expect(block.columns).to.equal(4);
    expect(pads).to.deep.equal([0, 2]);
    expect(at(block, 1, 1, 1, 0)).to.deep.equal([0, 0, 0]);
    expect(at(block, 1, 1, 1, 2)).to.deep.equal(at(joining, 1, 0, 1, 0));
    expect(at(block, 0, 0, 1, 3)).to.deep.equal(at(batch, 0, 0, 1, 3));
  });

  it('drops columns that became padding in every remaining row', () => {
    // Row 0 is the long one; row 1 pads its first 3 columns. When row 0 leaves, row 1 alone remains
    // and its block must shrink to its 2 real columns.
    const batch = labelledBlock(2, 5, 3);
    const { block, pads } = gatherRows([{ block: batch, row: 1, start: 3, length: 2 }], shape);
    expect(block.columns).to.equal(2);
    expect(pads).to.deep.equal([0]);
    for (let h = 0; h < shape.heads; h++) {
      expect(at(block, 0, 0, h, 0)).to.deep.equal(at(batch, 0, 1, h, 3));
      expect(at(block, 1, 0, h, 1)).to.deep.equal(at(batch, 1, 1, h, 4));
    }
  });

  it('cuts a cached sequence to a prefix', () => {
    const cached = labelledBlock(1, 6, 4);
    const { block } = gatherRows([{ block: cached, row: 0, start: 0, length: 4 }], shape);
    expect(block.columns).to.equal(4);
    expect(at(block, 1, 0, 1, 3)).to.deep.equal(at(cached, 1, 0, 1, 3));
  });

  it('refuses a source range beyond the block', () => {
    const cached = labelledBlock(1, 2, 5);
    expect(() => gatherRows([{ block: cached, row: 0, start: 1, length: 2 }], shape)).to.throw(
      RangeError,
    );
  });
});
