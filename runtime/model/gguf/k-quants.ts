// The "K" super-block formats Q4_K and Q6_K (256 values per block), shared by the dequantizer,
// the test quantizer and the MatMulNBits conversion.
import { halfToFloat } from './half.ts';

export const SUPER_BLOCK = 256;

function half(data: Uint8Array, at: number): number {
  return halfToFloat(data[at]! | (data[at + 1]! << 8));
}

/**
 * Q4_K sub-block j (of 8): its 6-bit scale and min. Sub-blocks 0-3 keep them in the low six bits
 * of bytes j and j+4; sub-blocks 4-7 split them into a nibble of byte j+4 plus the top two bits
 * of bytes j-4 (scale) and j (min).
 */
export function q4kScaleMin(scales: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [scales[at + j]! & 63, scales[at + j + 4]! & 63];
  const low = scales[at + j + 4]!;
  return [
    (low & 0x0f) | ((scales[at + j - 4]! >> 6) << 4),
    (low >> 4) | ((scales[at + j]! >> 6) << 4),
  ];
}

export function setQ4kScaleMin(scales: Uint8Array, at: number, j: number, sc: number, m: number) {
  if (j < 4) {
    scales[at + j] = (scales[at + j]! & 0xc0) | sc;
    scales[at + j + 4] = (scales[at + j + 4]! & 0xc0) | m;
  } else {
    scales[at + j + 4] = (sc & 0x0f) | ((m & 0x0f) << 4);
    scales[at + j - 4] = (scales[at + j - 4]! & 0x3f) | ((sc >> 4) << 6);
    scales[at + j] = (scales[at + j]! & 0x3f) | ((m >> 4) << 6);
  }
}

/**
 * Visits a Q4_K block's 8 sub-blocks: value = scale·q - min for its 32 nibbles q. In each 64-value
 * chunk c, byte 32c+l holds value 64c+l in its low nibble and value 64c+32+l in its high nibble.
 */
export function forEachQ4kSubBlock(
  data: Uint8Array,
  at: number,
  visit: (j: number, scale: number, min: number, q: (l: number) => number) => void,
) {
  const d = half(data, at);
  const dmin = half(data, at + 2);
  for (let j = 0; j < 8; j++) {
    const [sc, m] = q4kScaleMin(data, at + 4, j);
    const qs = at + 16 + 32 * (j >> 1);
    const shift = (j & 1) * 4;
    visit(j, d * sc, dmin * m, (l) => (data[qs + l]! >> shift) & 0x0f);
  }
}

/**
 * Q6_K element e (0-255) of the block at `at`: its 6-bit q (stored offset by 32) and its
 * sub-block (of 16) scale index. Each 128-value half n uses ql[64n..], qh[32n..]: for l < 32,
 * values l, l+32, l+64, l+96 take the low/low/high/high nibbles of ql[l], ql[l+32], ql[l], ql[l+32]
 * and bit pairs 0, 2, 4, 6 of qh[l].
 */
export function q6kQuant(data: Uint8Array, at: number, e: number): number {
  const n = e >> 7;
  const local = e & 127;
  const group = local >> 5;
  const l = local & 31;
  const ql = data[at + 64 * n + l + (group & 1) * 32]!;
  const low = group < 2 ? ql & 0x0f : ql >> 4;
  const high = (data[at + 128 + 32 * n + l]! >> (2 * group)) & 3;
  return low | (high << 4);
}

export function setQ6kQuant(data: Uint8Array, at: number, e: number, q: number) {
  const n = e >> 7;
  const local = e & 127;
  const group = local >> 5;
  const l = local & 31;
  const qlAt = at + 64 * n + l + (group & 1) * 32;
  data[qlAt] =
    group < 2 ? (data[qlAt]! & 0xf0) | (q & 0x0f) : (data[qlAt]! & 0x0f) | ((q & 0x0f) << 4);
  const qhAt = at + 128 + 32 * n + l;
  data[qhAt] = (data[qhAt]! & ~(3 << (2 * group))) | ((q >> 4) << (2 * group));
}

export const Q6K_SCALES = 192;
export const Q6K_D = 208;
