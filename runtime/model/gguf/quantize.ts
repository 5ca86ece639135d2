// float32 -> ggml tensor data, for writing test and tiny GGUF files. The rounding choices follow
// ggml's reference quantizers, but any valid encoding would do: readers only dequantize.
import type { GgmlTypeId } from './ggml-type.ts';
import { GgmlType, tensorByteSize } from './ggml-type.ts';
import { floatToHalf, halfToFloat } from './half.ts';
import { Q6K_D, Q6K_SCALES, setQ4kScaleMin, setQ6kQuant, SUPER_BLOCK } from './k-quants.ts';

export function quantize(type: GgmlTypeId, values: Float32Array): Uint8Array {
  const out = new Uint8Array(tensorByteSize(type, values.length));
  const view = new DataView(out.buffer);
  switch (type) {
    case GgmlType.F32:
      values.forEach((v, i) => view.setFloat32(i * 4, v, true));
      break;
    case GgmlType.F16:
      values.forEach((v, i) => view.setUint16(i * 2, floatToHalf(v), true));
      break;
    case GgmlType.BF16:
      values.forEach((v, i) => view.setUint16(i * 2, floatToBfloat16(v), true));
      break;
    case GgmlType.Q8_0:
      for (let b = 0, at = 0; b < values.length; b += 32, at += 34) {
        const block = values.subarray(b, b + 32);
        const d = halfToFloat(
          floatToHalf(block.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127),
        );
        view.setUint16(at, floatToHalf(d), true);
        block.forEach((v, j) =>
          view.setInt8(at + 2 + j, d ? clamp(Math.round(v / d), -128, 127) : 0),
        );
      }
      break;
    case GgmlType.Q4_0:
      for (let b = 0, at = 0; b < values.length; b += 32, at += 18) {
        const block = values.subarray(b, b + 32);
        // The value of largest magnitude maps to -8, so its sign picks which end of [-8, 7] is used.
        const extreme = block.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
        const d = halfToFloat(floatToHalf(extreme / -8));
        view.setUint16(at, floatToHalf(d), true);
        packNibbles(out, at + 2, block, (v) => (d ? Math.round(v / d) + 8 : 8));
      }
      break;
    case GgmlType.Q4_1:
      for (let b = 0, at = 0; b < values.length; b += 32, at += 20) {
        const block = values.subarray(b, b + 32);
        const min = halfToFloat(floatToHalf(Math.min(...block)));
        const d = halfToFloat(floatToHalf((Math.max(...block) - min) / 15));
        view.setUint16(at, floatToHalf(d), true);
        view.setUint16(at + 2, floatToHalf(min), true);
        packNibbles(out, at + 4, block, (v) => (d ? Math.round((v - min) / d) : 0));
      }
      break;
    case GgmlType.Q4_K:
      for (let b = 0, at = 0; b < values.length; b += SUPER_BLOCK, at += 144) {
        quantizeQ4kBlock(values.subarray(b, b + SUPER_BLOCK), out, at);
      }
      break;
    case GgmlType.Q6_K:
      for (let b = 0, at = 0; b < values.length; b += SUPER_BLOCK, at += 210) {
        quantizeQ6kBlock(values.subarray(b, b + SUPER_BLOCK), out, at);
      }
      break;
  }
  return out;
}

// Each sub-block of 32 gets value ≈ scale·q - min with q in [0, 15]; the sub-block scales and
// mins (min ≥ 0 here, so sub-blocks are shifted to start at or below zero) are themselves
// quantized to 6 bits against the super-block's d and dmin.
function quantizeQ4kBlock(block: Float32Array, out: Uint8Array, at: number) {
  const view = new DataView(out.buffer, out.byteOffset);
  const subs = Array.from({ length: 8 }, (_, j) => block.subarray(32 * j, 32 * j + 32));
  const mins = subs.map((s) => Math.max(0, -Math.min(...s)));
  const scales = subs.map((s, j) => (Math.max(...s) + mins[j]!) / 15);
  const d = halfToFloat(floatToHalf(Math.max(...scales) / 63));
  const dmin = halfToFloat(floatToHalf(Math.max(...mins) / 63));
  view.setUint16(at, floatToHalf(d), true);
  view.setUint16(at + 2, floatToHalf(dmin), true);
  subs.forEach((s, j) => {
    const sc = d ? clamp(Math.round(scales[j]! / d), 0, 63) : 0;
    const m = dmin ? clamp(Math.round(mins[j]! / dmin), 0, 63) : 0;
    setQ4kScaleMin(out, at + 4, j, sc, m);
    const scale = d * sc;
    const qs = at + 16 + 32 * (j >> 1);
    const shift = (j & 1) * 4;
    s.forEach((v, l) => {
      const q = scale ? clamp(Math.round((v + dmin * m) / scale), 0, 15) : 0;
      out[qs + l] = (out[qs + l]! & ~(0x0f << shift)) | (q << shift);
    });
  });
}

// Sixteen sub-blocks of 16, value = d·scale·(q - 32) with q in [0, 63] and int8 scales.
function quantizeQ6kBlock(block: Float32Array, out: Uint8Array, at: number) {
  const view = new DataView(out.buffer, out.byteOffset);
  const subScales = Array.from(
    { length: 16 },
    (_, j) => Math.max(...block.subarray(16 * j, 16 * j + 16).map(Math.abs)) / 31,
  );
  const d = halfToFloat(floatToHalf(Math.max(...subScales) / 127));
  view.setUint16(at + Q6K_D, floatToHalf(d), true);
  subScales.forEach((s, j) => {
    const sc = d ? clamp(Math.round(s / d), -128, 127) : 0;
    view.setInt8(at + Q6K_SCALES + j, sc);
    for (let l = 0; l < 16; l++) {
      const e = 16 * j + l;
      setQ6kQuant(out, at, e, d * sc ? clamp(Math.round(block[e]! / (d * sc)) + 32, 0, 63) : 32);
    }
  });
}

function packNibbles(
  out: Uint8Array,
  at: number,
  block: Float32Array,
  level: (v: number) => number,
) {
  for (let j = 0; j < 16; j++) {
    out[at + j] = clamp(level(block[j]!), 0, 15) | (clamp(level(block[j + 16]!), 0, 15) << 4);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

const scratch = new DataView(new ArrayBuffer(4));

function floatToBfloat16(v: number): number {
  scratch.setFloat32(0, v);
  const bits = scratch.getUint32(0);
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16; // round to nearest even
}
