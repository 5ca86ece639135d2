// Encodes a GGUF (version 3) file in memory: for the tests' and the tiny model's small files.
import type { GgmlTypeId } from './ggml-type.ts';
import { tensorByteSize } from './ggml-type.ts';
import { GGUF_VALUE_TYPE as VALUE_TYPE } from './value-type.ts';

export type GgufValue =
  | { type: 'uint32' | 'int32' | 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'int32[]' | 'float32[]'; value: readonly number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] (the contiguous row length) first. */
  shape: readonly number[];
  type: GgmlTypeId;
  data: Uint8Array;
}

const ALIGNMENT = 32;
const SCALAR_TYPE = { uint32: 'UINT32', int32: 'INT32', float32: 'FLOAT32' } as const;

class ByteSink {
  private readonly parts: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array) {
    this.parts.push(b);
    this.length += b.length;
  }
  private fixed(size: number, write: (v: DataView) => void) {
    const b = new Uint8Array(size);
    write(new DataView(b.buffer));
    this.bytes(b);
  }
  u32 = (v: number) => this.fixed(4, (d) => d.setUint32(0, v, true));
  i32 = (v: number) => this.fixed(4, (d) => d.setInt32(0, v, true));
  f32 = (v: number) => this.fixed(4, (d) => d.setFloat32(0, v, true));
  u64 = (v: number) => this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  string = (s: string) => {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  };
  padTo(alignment: number) {
    this.bytes(new Uint8Array((alignment - (this.length % alignment)) % alignment));
  }
  concat(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

function writeValue(out: ByteSink, v: GgufValue) {
  switch (v.type) {
    case 'uint32':
    case 'int32':
    case 'float32':
      out.u32(VALUE_TYPE[SCALAR_TYPE[v.type]]);
      out[v.type === 'uint32' ? 'u32' : v.type === 'int32' ? 'i32' : 'f32'](v.value);
      break;
    case 'bool':
      out.u32(VALUE_TYPE.BOOL);
      out.bytes(Uint8Array.of(v.value ? 1 : 0));
      break;
    case 'string':
      out.u32(VALUE_TYPE.STRING);
      out.string(v.value);
      break;
    case 'string[]':
      out.u32(VALUE_TYPE.ARRAY);
      out.u32(VALUE_TYPE.STRING);
      out.u64(v.value.length);
      v.value.forEach(out.string);
      break;
    case 'int32[]':
    case 'float32[]':
      out.u32(VALUE_TYPE.ARRAY);
      out.u32(v.type === 'int32[]' ? VALUE_TYPE.INT32 : VALUE_TYPE.FLOAT32);
      out.u64(v.value.length);
      v.value.forEach(v.type === 'int32[]' ? out.i32 : out.f32);
      break;
  }
}

export function encodeGguf(
  metadata: Readonly<Record<string, GgufValue>>,
  tensors: readonly GgufTensor[],
): Uint8Array {
  const out = new ByteSink();
  out.bytes(new TextEncoder().encode('GGUF'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    out.string(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== tensorByteSize(t.type, elements)) {
      throw new Error(`tensor ${t.name}: ${t.data.length} bytes do not match its shape and type`);
    }
    out.string(t.name);
    out.u32(t.shape.length);
    t.shape.forEach(out.u64);
    out.u32(t.type);
    out.u64(offset);
    offset += Math.ceil(t.data.length / ALIGNMENT) * ALIGNMENT;
  }
  out.padTo(ALIGNMENT);
  for (const t of tensors) {
    out.bytes(t.data);
    out.padTo(ALIGNMENT);
  }
  return out.concat();
}
