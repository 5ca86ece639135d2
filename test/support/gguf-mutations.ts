// Mutated GGUF files for the reader's and importer's fuzz tests. The fields of a valid file
// (from encodeGguf: version 3, little-endian) are located by a walk written here, apart from
// the reader under test; a mutation sets one of them to a value chosen to break something
// (zero, one, a power of two, the file's size, the largest u32 or u64...), cuts the file at a
// field's boundary or anywhere, flips bytes, or inserts or removes bytes at a boundary.
import fc from 'fast-check';

export type FieldKind =
  | 'count'
  | 'string length'
  | 'value type'
  | 'array item type'
  | 'array length'
  | 'value'
  | 'array item'
  | 'dimension count'
  | 'dimension'
  | 'tensor type'
  | 'tensor offset';

export interface Field {
  kind: FieldKind;
  at: number;
  size: 1 | 2 | 4 | 8;
}

const SCALAR_SIZES: Record<number, 1 | 2 | 4 | 8> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

/** Every field of a valid version-3 GGUF header, in file order. */
export function ggufFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  let at = 8;
  const field = (kind: FieldKind, size: Field['size']) => {
    fields.push({ kind, at, size });
    at += size;
    return size === 8 ? Number(view.getBigUint64(at - 8, true)) : view.getUint32(at - 4, true);
  };
  const string = () => {
    const length = field('string length', 8);
    at += length;
  };
  const value = (type: number, kind: 'value' | 'array item') => {
    if (type === 8) string();
    else if (type === 9) {
      const itemType = field('array item type', 4);
      const length = field('array length', 8);
      for (let i = 0; i < length; i++) value(itemType, 'array item');
    } else {
      fields.push({ kind, at, size: SCALAR_SIZES[type]! });
      at += SCALAR_SIZES[type]!;
    }
  };
  const tensors = field('count', 8);
  const entries = field('count', 8);
  for (let i = 0; i < entries; i++) {
    string();
    value(field('value type', 4), 'value');
  }
  for (let i = 0; i < tensors; i++) {
    string();
    const dims = field('dimension count', 4);
    for (let d = 0; d < dims; d++) field('dimension', 8);
    field('tensor type', 4);
    field('tensor offset', 8);
  }
  return fields;
}

export type Mutation =
  | { kind: 'set'; field: number; value: bigint }
  | { kind: 'cut'; at: number }
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'remove'; at: number; length: number };

/** Values that break sizes and counts, given the field's own value and the file's size. */
function breakingValues(own: bigint, fileSize: number, size: number): bigint[] {
  const max = (1n << BigInt(8 * size)) - 1n;
  const candidates = [0n, 1n, 2n, 3n, 4n, own / 2n, own - 1n, own + 1n, own * 2n];
  candidates.push(BigInt(fileSize));
  candidates.push(BigInt(fileSize) + 1n, 255n, 256n, 2n ** 16n, 2n ** 31n - 1n, 2n ** 31n);
  candidates.push(2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 63n, max);
  return candidates.filter((v) => v >= 0n && v <= max);
}

/**
 * Up to three mutations of `bytes`, each aimed at a field of `fields`, at a boundary between
 * fields, or anywhere in the file; with `only`, values set in fields of those kinds alone.
 */
export function mutations(
  bytes: Uint8Array,
  fields: readonly Field[],
  only?: readonly FieldKind[],
): fc.Arbitrary<Mutation[]> {
  // A kind first, so the many fields of a vocabulary do not crowd out the few of a shape.
  const byKind = new Map<FieldKind, number[]>();
  fields.forEach((f, i) => {
    if (!only || only.includes(f.kind)) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), i]);
  });
  const field = fc.constantFrom(...byKind.values()).chain((indices) => fc.constantFrom(...indices));
  const boundary = fc.oneof(
    field.chain((i) => fc.constantFrom(fields[i]!.at, fields[i]!.at + 1, fields[i]!.at - 1)),
    fc.nat(bytes.length),
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const set: fc.Arbitrary<Mutation> = field.chain((i) => {
    const { at, size } = fields[i]!;
    const own =
      size === 8
        ? view.getBigUint64(at, true)
        : BigInt(
            size === 4
              ? view.getUint32(at, true)
              : size === 2
                ? view.getUint16(at, true)
                : view.getUint8(at),
          );
    const max = (1n << BigInt(8 * size)) - 1n;
    return fc
      .oneof(
        { weight: 3, arbitrary: fc.constantFrom(...breakingValues(own, bytes.length, size)) },
        { weight: 1, arbitrary: fc.bigInt({ min: 0n, max }) },
      )
      .map((value) => ({ kind: 'set' as const, field: i, value }));
  });
  const mutation: fc.Arbitrary<Mutation> = only
    ? set
    : fc.oneof(
        { weight: 6, arbitrary: set },
        { weight: 2, arbitrary: boundary.map((at) => ({ kind: 'cut' as const, at })) },
        {
          weight: 1,
          arbitrary: fc
            .record({ at: fc.nat(bytes.length - 1), mask: fc.integer({ min: 1, max: 255 }) })
            .map((m) => ({ kind: 'flip' as const, ...m })),
        },
        {
          weight: 1,
          arbitrary: fc
            .record({ at: boundary, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) })
            .map((m) => ({ kind: 'insert' as const, ...m })),
        },
        {
          weight: 1,
          arbitrary: fc
            .record({ at: boundary, length: fc.integer({ min: 1, max: 16 }) })
            .map((m) => ({ kind: 'remove' as const, ...m })),
        },
      );
  return fc.array(mutation, { minLength: 1, maxLength: 3 });
}

/** `bytes` with the mutations applied in order (positions past a cut are skipped). */
export function mutate(
  bytes: Uint8Array,
  fields: readonly Field[],
  changes: readonly Mutation[],
): Uint8Array {
  let out = Buffer.from(bytes);
  const clamp = (at: number) => Math.max(0, Math.min(at, out.length));
  for (const change of changes) {
    switch (change.kind) {
      case 'set': {
        const { at, size } = fields[change.field]!;
        if (at + size > out.length) break;
        if (size === 8) out.writeBigUInt64LE(change.value, at);
        else out.writeUIntLE(Number(change.value), at, size);
        break;
      }
      case 'cut':
        out = out.subarray(0, clamp(change.at));
        break;
      case 'flip':
        if (change.at < out.length) out[change.at]! ^= change.mask;
        break;
      case 'insert':
        out = Buffer.concat([
          out.subarray(0, clamp(change.at)),
          change.bytes,
          out.subarray(clamp(change.at)),
        ]);
        break;
      case 'remove':
        out = Buffer.concat([
          out.subarray(0, clamp(change.at)),
          out.subarray(clamp(change.at + change.length)),
        ]);
        break;
    }
  }
  return out;
}
