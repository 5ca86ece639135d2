// ggml tensor data -> float32, exactly as ggml itself dequantizes (each value is one rounding of
// the exact block formula, which is what ggml's float32 arithmetic produces too).
import type { GgmlTypeId } from './ggml-type.ts';
import { GgmlType, ggmlTypeName, tensorByteSize } from './ggml-type.ts';
import { bfloat16ToFloat, halfToFloat } from './half.ts';
import { forEachQ4kSubBlock, Q6K_D, Q6K_SCALES, q6kQuant, SUPER_BLOCK } from './k-quants.ts';

export function dequantize(type: GgmlTypeId, data: Uint8Array, elements: number): Float32Array {
  const expected = tensorByteSize(type, elements);
  if (data.length !== expected) {
    throw new Error(
      `${ggmlTypeName(type)} data for ${elements} elements must be ${expected} bytes, got ${data.length}`,
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const out = new Float32Array(elements);
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i < elements; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case GgmlType.F16:
      for (let i = 0; i < elements; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case GgmlType.BF16:
      for (let i = 0; i < elements; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
      break;
    case GgmlType.Q8_0:
      for (let b = 0, at = 0; b < elements; b += 32, at += 34) {
        const d = halfToFloat(view.getUint16(at, true));
        for (let j = 0; j < 32; j++) out[b + j] = d * view.getInt8(at + 2 + j);
      }
      break;
    case GgmlType.Q4_0:
      // Byte j holds element j in its low nibble and element j+16 in its high nibble.
      for (let b = 0, at = 0; b < elements; b += 32, at += 18) {
        const d = halfToFloat(view.getUint16(at, true));
        for (let j = 0; j < 16; j++) {
          const q = data[at + 2 + j]!;
          out[b + j] = ((q & 0x0f) - 8) * d;
          out[b + j + 16] = ((q >> 4) - 8) * d;
        }
      }
      break;
    case GgmlType.Q4_1:
      for (let b = 0, at = 0; b < elements; b += 32, at += 20) {
        const d = halfToFloat(view.getUint16(at, true));
        const m = halfToFloat(view.getUint16(at + 2, true));
        for (let j = 0; j < 16; j++) {
          const q = data[at + 4 + j]!;
          out[b + j] = (q & 0x0f) * d + m;
          out[b + j + 16] = (q >> 4) * d + m;
        }
      }
      break;
    case GgmlType.Q4_K:
      for (let b = 0, at = 0; b < elements; b += SUPER_BLOCK, at += 144) {
        forEachQ4kSubBlock(data, at, (j, scale, min, q) => {
          for (let l = 0; l < 32; l++) out[b + 32 * j + l] = scale * q(l) - min;
        });
      }
      break;
    case GgmlType.Q6_K:
      for (let b = 0, at = 0; b < elements; b += SUPER_BLOCK, at += 210) {
        const d = halfToFloat(view.getUint16(at + Q6K_D, true));
        for (let e = 0; e < SUPER_BLOCK; e++) {
          out[b + e] = d * view.getInt8(at + Q6K_SCALES + (e >> 4)) * (q6kQuant(data, at, e) - 32);
        }
      }
      break;
  }
  return out;
}
