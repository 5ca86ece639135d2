// The protobuf wire format, only as much as writing ONNX needs: varints, length-delimited fields
// and little-endian 32-bit floats. Messages are encoded bottom-up into byte arrays, which is fine
// because an ONNX graph is small once the weights live in an external data file.

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Base-128 varint; negative int64 values take the 10-byte two's-complement form protobuf uses. */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Uint8Array.from(bytes);
}

function tag(field: number, wireType: number): Uint8Array {
  return varint((field << 3) | wireType);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function intField(field: number, value: number | bigint): Uint8Array {
  return concat([tag(field, WIRE_VARINT), varint(value)]);
}

export function floatField(field: number, value: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setFloat32(0, value, true);
  return concat([tag(field, WIRE_FIXED32), body]);
}

export function bytesField(field: number, value: Uint8Array): Uint8Array {
  return concat([tag(field, WIRE_LENGTH_DELIMITED), varint(value.length), value]);
}

export function stringField(field: number, value: string): Uint8Array {
  return bytesField(field, utf8.encode(value));
}

/** An embedded message: its already-encoded fields, length-prefixed. */
export function messageField(field: number, fields: readonly Uint8Array[]): Uint8Array {
  return bytesField(field, concat(fields));
}
