// Key/value caches laid out the way the model reads and writes them: one tensor per cache input
// (past_key_values.N.key / .value), each [rows, heads, columns, headDim], float32.
//
// A running batch is one block whose rows are left-padded to a common column count: row r's real
// positions are its last (columns - pad[r]) columns, the attention mask hides the rest. A single
// sequence's cache is a block with one row and no padding.

export interface KvShape {
  /** Key/value heads (fewer than attention heads under grouped-query attention). */
  heads: number;
  headDim: number;
  /** How many cache tensors the model has: two (key, value) per layer. */
  tensors: number;
}

export interface KvBlock {
  rows: number;
  columns: number;
  /** In the model's cache input order; each holds rows * heads * columns * headDim floats. */
  data: Float32Array[];
}

/** Where a row's real positions come from. */
export interface RowSource {
  block: KvBlock;
  row: number;
  /** First real column of that row in `block`. */
  start: number;
  /** Number of real columns. */
  length: number;
}

export interface GatheredRows {
  block: KvBlock;
  /** Left padding of each new row, in `sources` order. */
  pads: number[];
}

export function emptyBlock(shape: KvShape): KvBlock {
  return {
    rows: 1,
    columns: 0,
    data: Array.from({ length: shape.tensors }, () => new Float32Array(0)),
  };
}

export function blockBytes(block: KvBlock): number {
  return block.data.reduce((sum, d) => sum + d.byteLength, 0);
}

/**
 * Builds a new left-padded block from rows of other blocks: just wide enough for the longest row,
 * so columns that every row pads are dropped. This one copy serves every change of batch
 * membership: a sequence joining, sequences leaving, a row taken out on its own, a prefix cut.
 */
export function gatherRows(sources: readonly RowSource[], shape: KvShape): GatheredRows {
  const columns = Math.max(0, ...sources.map((s) => s.length));
  const rows = sources.length;
  const { heads, headDim } = shape;
  const data = Array.from(
    { length: shape.tensors },
    () => new Float32Array(rows * heads * columns * headDim),
  );
  const pads = sources.map((s) => columns - s.length);

  sources.forEach((source, row) => {
    const { block } = source;
    if (source.start + source.length > block.columns) {
      throw new RangeError(
        `row source ${source.start}+${source.length} exceeds ${block.columns} columns`,
      );
    }
    for (let t = 0; t < shape.tensors; t++) {
      const from = block.data[t]!;
      const to = data[t]!;
      for (let h = 0; h < heads; h++) {
        const fromOffset = ((source.row * heads + h) * block.columns + source.start) * headDim;
        const toOffset = ((row * heads + h) * columns + pads[row]!) * headDim;
        to.set(from.subarray(fromOffset, fromOffset + source.length * headDim), toOffset);
      }
    }
  });
  return { block: { rows, columns, data }, pads };
}
