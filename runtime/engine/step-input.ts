// The tensors one model run needs besides the weights, as plain arrays. A run appends `length`
// new tokens to every row of the cache block `past`.
import type { KvBlock } from './kv-block.ts';

export interface StepInput {
  rows: number;
  /** New tokens per row. */
  length: number;
  /** [rows, length] */
  inputIds: BigInt64Array;
  /** [rows, past.columns + length]: 0 hides a padding column. */
  attentionMask: BigInt64Array;
  /** [rows, length]: each row counts positions from its own first real token. */
  positionIds: BigInt64Array;
  past: KvBlock;
}

/** One new token per row of a left-padded batch: the token each row sampled last. */
export function decodeInput(
  next: readonly number[],
  pads: readonly number[],
  past: KvBlock,
): StepInput {
  const rows = next.length;
  const width = past.columns + 1;
  const attentionMask = new BigInt64Array(rows * width);
  const positionIds = new BigInt64Array(rows);
  for (let r = 0; r < rows; r++) {
    attentionMask.fill(1n, r * width + pads[r]!, (r + 1) * width);
    positionIds[r] = BigInt(past.columns - pads[r]!);
  }
  return {
    rows,
    length: 1,
    inputIds: BigInt64Array.from(next, BigInt),
    attentionMask,
    positionIds,
    past,
  };
}

/** The next chunk of one sequence's prompt, continuing its unpadded cache. */
export function prefillInput(chunk: readonly number[], past: KvBlock): StepInput {
  const length = chunk.length;
  const positionIds = new BigInt64Array(length);
  for (let i = 0; i < length; i++) positionIds[i] = BigInt(past.columns + i);
  return {
    rows: 1,
    length,
    inputIds: BigInt64Array.from(chunk, BigInt),
    attentionMask: new BigInt64Array(past.columns + length).fill(1n),
    positionIds,
    past,
  };
}
