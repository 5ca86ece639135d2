// Repacks ggml block-quantized matrices into the inputs of onnxruntime's com.microsoft MatMulNBits,
// which computes x · dequant(B)ᵀ with dequant(q) = (q - zero_point) * scale per block of 32 values
// along each row. Rows are output features (N), blocks run along the input features (K).
import { halfToFloat } from '../gguf/half.ts';
import { forEachQ4kSubBlock, Q6K_D, Q6K_SCALES, q6kQuant } from '../gguf/k-quants.ts';

export interface NBitsMatrix {
  bits: 4 | 8;
  /** [N, K/32, 32·bits/8]: element 2i of a block in the low nibble of byte i, 2i+1 in the high. */
  packed: Uint8Array;
  /** [N, K/32] */
  scales: Float32Array;
  /** Packed 4-bit zero points, [N, ceil(K/32 / 2)]; absent means the default 2^(bits-1). */
  zeroPoints?: Uint8Array;
  /** [K/32, N] block minimums the graph adds as Σ_block min·(Σ x over the block). */
  mins?: Float32Array;
  /** The matrix spans the input features this many times over; the graph repeats x to match. */
  inputCopies: 1 | 2;
  /** Values per block along K: 32, or 16 for Q6_K's sub-blocks. */
  blockSize: 16 | 32;
}

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
  return { bits: 4, packed, scales, inputCopies: 1, blockSize: 32 };
}

/** Q8_0 (value = q·d, q signed) is 8-bit MatMulNBits with q+128 and the default zero point 128. */
export function convertQ8_0(data: Uint8Array, blocks: number): NBitsMatrix {
  const packed = new Uint8Array(blocks * 32);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    scales[b] = half(data, b * 34);
    for (let j = 0; j < 32; j++) packed[b * 32 + j] = (data[b * 34 + 2 + j]! + 128) & 0xff;
  }
  return { bits: 8, packed, scales, inputCopies: 1, blockSize: 32 };
}

/**
 * Q8_0 as 4-bit MatMulNBits, exactly: each q splits into q = 16·hi + lo with lo = q mod 16 in
 * [0, 15] and hi in [-8, 7], so d·q = (16d)·hi + d·lo. Per row, the K/32 "hi" blocks (zero point
 * 8, scale 16d) come first and the K/32 "lo" blocks (zero point 0, scale d) after them; fed
 * [x, x], one MatMulNBits sums both halves. For SmolLM2's 576×49152 head that is as fast as a
 * float32 MatMul at a quarter of the bytes (and much faster when other work saturates memory
 * bandwidth), while onnxruntime's 8-bit path is only fast with int8 activations.
 */
export function convertQ8_0AsNibblePairs(
  data: Uint8Array,
  rows: number,
  blocksPerRow: number,
): NBitsMatrix {
  const blocks = 2 * blocksPerRow;
  const packed = new Uint8Array(rows * blocks * 16);
  const scales = new Float32Array(rows * blocks);
  const zeroPointBytes = Math.ceil(blocks / 2);
  const zeroPoints = new Uint8Array(rows * zeroPointBytes);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocksPerRow; b++) {
      const src = (r * blocksPerRow + b) * 34;
      const d = half(data, src);
      const hiBlock = r * blocks + b;
      const loBlock = hiBlock + blocksPerRow;
      scales[hiBlock] = 16 * d;
      scales[loBlock] = d;
      for (let j = 0; j < 32; j += 2) {
        const nibbles = (k: number) => {
          const q = (data[src + 2 + k]! << 24) >> 24; // sign-extend the int8
          return [(q >> 4) + 8, q & 0x0f] as const; // hi stored with its zero point 8
        };
        const [hi0, lo0] = nibbles(j);
        const [hi1, lo1] = nibbles(j + 1);
        packed[hiBlock * 16 + j / 2] = hi0 | (hi1 << 4);
        packed[loBlock * 16 + j / 2] = lo0 | (lo1 << 4);
      }
      // Zero points pack two blocks to a byte, even block in the low nibble; "lo" blocks keep 0.
      zeroPoints[r * zeroPointBytes + (b >> 1)]! |= 8 << ((b & 1) * 4);
    }
  }
  return { bits: 4, packed, scales, zeroPoints, inputCopies: 2, blockSize: 32 };
}

/**
 * Q4_1 (value = q·d + m) as MatMulNBits with zero point 0 and scale d, plus the block minimums
 * for the graph to add Σ_blocks m · (Σ x over the block): the same sum regrouped, so exact in
 * real arithmetic. (A float zero point -m/d would fold m in, but onnxruntime then dequantizes the
 * whole matrix on every call, over ten times slower.)
 */
export function convertQ4_1(data: Uint8Array, rows: number, blocksPerRow: number): NBitsMatrix {
  const blocks = rows * blocksPerRow;
  const packed = new Uint8Array(blocks * 16);
  const scales = new Float32Array(blocks);
  const mins = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    scales[b] = half(data, b * 20);
    mins[(b % blocksPerRow) * rows + Math.floor(b / blocksPerRow)] = half(data, b * 20 + 2);
    repackNibbles(data, b * 20 + 4, packed, b * 16);
  }
  const zeroPoints = new Uint8Array(rows * Math.ceil(blocksPerRow / 2));
  return { bits: 4, packed, scales, zeroPoints, mins, inputCopies: 1, blockSize: 32 };
}

/**
 * Q4_K: each sub-block of 32 is value = scale·q - min (scale = d·sc, min = dmin·m, both exact in
 * float32), the Q4_1 form with a negated minimum, so it takes the same route: zero point 0 plus
 * the block-minimum correction.
 */
export function convertQ4_K(data: Uint8Array, rows: number, blocksPerRow: number): NBitsMatrix {
  const blocks = rows * blocksPerRow;
  const packed = new Uint8Array(blocks * 16);
  const scales = new Float32Array(blocks);
  const mins = new Float32Array(blocks);
  for (let superBlock = 0; superBlock < blocks / 8; superBlock++) {
    forEachQ4kSubBlock(data, superBlock * 144, (j, scale, min, q) => {
      const b = superBlock * 8 + j;
      scales[b] = scale;
      mins[(b % blocksPerRow) * rows + Math.floor(b / blocksPerRow)] = -min;
      for (let i = 0; i < 16; i++) packed[b * 16 + i] = q(2 * i) | (q(2 * i + 1) << 4);
    });
  }
  const zeroPoints = new Uint8Array(rows * Math.ceil(blocksPerRow / 2));
  return { bits: 4, packed, scales, zeroPoints, mins, inputCopies: 1, blockSize: 32 };
}

/**
 * Q6_K as 4-bit MatMulNBits with blocks of 16, exactly, the same way as Q8_0: each sub-block of
 * 16 is value = s·(q - 32) with s = d·sc and q in [0, 63]; q = 16·hi + lo gives
 * value = (16s)·(hi - 2) + s·lo, "hi" blocks (zero point 2) first, then "lo" blocks (zero point 0).
 */
export function convertQ6_KAsNibblePairs(
  data: Uint8Array,
  rows: number,
  blocksPerRow: number,
): NBitsMatrix {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const blocks = 2 * blocksPerRow;
  const packed = new Uint8Array(rows * blocks * 8);
  const scales = new Float32Array(rows * blocks);
  const zeroPointBytes = Math.ceil(blocks / 2);
  const zeroPoints = new Uint8Array(rows * zeroPointBytes);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocksPerRow; b++) {
      const superBlock = (r * blocksPerRow + b) >> 4;
      const at = superBlock * 210;
      const sub = (r * blocksPerRow + b) & 15;
      const s = halfToFloat(view.getUint16(at + Q6K_D, true)) * view.getInt8(at + Q6K_SCALES + sub);
      const hiBlock = r * blocks + b;
      const loBlock = hiBlock + blocksPerRow;
      scales[hiBlock] = 16 * s;
      scales[loBlock] = s;
      for (let j = 0; j < 16; j += 2) {
        const q0 = q6kQuant(data, at, 16 * sub + j);
        const q1 = q6kQuant(data, at, 16 * sub + j + 1);
        packed[hiBlock * 8 + j / 2] = (q0 >> 4) | ((q1 >> 4) << 4);
        packed[loBlock * 8 + j / 2] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      }
      zeroPoints[r * zeroPointBytes + (b >> 1)]! |= 2 << ((b & 1) * 4);
    }
  }
  return { bits: 4, packed, scales, zeroPoints, inputCopies: 2, blockSize: 16 };
}
