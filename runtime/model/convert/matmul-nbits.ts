// Repacks ggml block-quantized matrices into the inputs of onnxruntime's com.microsoft MatMulNBits,
// which computes x · dequant(B)ᵀ with dequant(q) = (q - zero_point) * scale per block of 32 values
// along each row. Rows are output features (N), blocks run along the input features (K).
import type { GgmlTypeId } from '../gguf/ggml-type.ts';
import { GgmlType } from '../gguf/ggml-type.ts';
import { halfToFloat } from '../gguf/half.ts';

export const NBITS_BLOCK = 32;

export interface NBitsMatrix {
  bits: 4 | 8;
  /** [N, K/32, 32·bits/8]: element 2i of a block in the low nibble of byte i, 2i+1 in the high. */
  packed: Uint8Array;
  /** [N, K/32] */
  scales: Float32Array;
  /** [N, K/32] float zero points; absent means the default 2^(bits-1). */
  zeroPoints?: Float32Array;
  /** [K/32, N] block minimums for the 'min-correction' Q4_1 encoding. */
  mins?: Float32Array;
}

/** How a Q4_1 block (q·d + m) becomes MatMulNBits input; see convertQ4_1. */
export type Q4_1Encoding = 'float-zero-point' | 'min-correction';

// The ggml nibble layout: value j of a block sits in the low nibble of byte j for j < 16, and in
// the high nibble of byte j-16 otherwise.
function ggmlNibble(qs: Uint8Array, at: number, j: number): number {
  return j < 16 ? qs[at + j]! & 0x0f : qs[at + j - 16]! >> 4;
}

function repackNibbles(src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number) {
  for (let i = 0; i < 16; i++) {
    dst[dstAt + i] = ggmlNibble(src, srcAt, 2 * i) | (ggmlNibble(src, srcAt, 2 * i + 1) << 4);
  }
}

function half(data: Uint8Array, at: number): number {
  return halfToFloat(data[at]! | (data[at + 1]! << 8));
}

/** Q4_0 (value = (q - 8)·d) is MatMulNBits' default zero point: an exact re-layout. */
export function convertQ4_0(data: Uint8Array, blocks: number): NBitsMatrix {
  const packed = new Uint8Array(blocks * 16);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    scales[b] = half(data, b * 18);
    repackNibbles(data, b * 18 + 2, packed, b * 16);
  }
  return { bits: 4, packed, scales };
}

/** Q8_0 (value = q·d, q signed) is 8-bit MatMulNBits with q+128 and the default zero point 128. */
export function convertQ8_0(data: Uint8Array, blocks: number): NBitsMatrix {
  const packed = new Uint8Array(blocks * 32);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    scales[b] = half(data, b * 34);
    for (let j = 0; j < 32; j++) packed[b * 32 + j] = (data[b * 34 + 2 + j]! + 128) & 0xff;
  }
  return { bits: 8, packed, scales };
}

/**
 * Q4_1 (value = q·d + m) two ways:
 * - 'float-zero-point': zero point -m/d, so (q + m/d)·d; exact up to float32 rounding of m/d.
 * - 'min-correction': zero point 0, with the block minimums returned separately as `mins`
 *   ([K/32, N], block-major) for the graph to add Σ_blocks m · (sum of x over the block), which
 *   is the same sum regrouped: exact in real arithmetic.
 */
export function convertQ4_1(
  data: Uint8Array,
  rows: number,
  blocksPerRow: number,
  encoding: Q4_1Encoding,
): NBitsMatrix {
  const blocks = rows * blocksPerRow;
  const packed = new Uint8Array(blocks * 16);
  const scales = new Float32Array(blocks);
  const zeroPoints = new Float32Array(blocks);
  const mins = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const d = half(data, b * 20);
    const m = half(data, b * 20 + 2);
    repackNibbles(data, b * 20 + 4, packed, b * 16);
    if (encoding === 'min-correction') {
      scales[b] = d;
      const row = Math.floor(b / blocksPerRow);
      mins[(b % blocksPerRow) * rows + row] = m;
    } else if (d === 0) {
      // Every value of the block is m: express it as (0 - (-1))·m.
      scales[b] = m;
      zeroPoints[b] = -1;
      packed.fill(0, b * 16, b * 16 + 16);
    } else {
      scales[b] = d;
      zeroPoints[b] = -m / d;
    }
  }
  return encoding === 'min-correction'
    ? { bits: 4, packed, scales, zeroPoints: new Float32Array(blocks), mins }
    : { bits: 4, packed, scales, zeroPoints };
}

export function nbitsEncodable(type: GgmlTypeId): boolean {
  return type === GgmlType.Q4_0 || type === GgmlType.Q4_1 || type === GgmlType.Q8_0;
}
