// The ggml tensor types this importer understands, with their block layouts.

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 8,
  Q4_K: 12,
  Q6_K: 14,
  BF16: 30,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;
export type GgmlTypeId = (typeof GgmlType)[GgmlTypeName];

interface Layout {
  /** Elements per block along the row (ne0). */
  blockElements: number;
  blockBytes: number;
}

const layouts: Record<GgmlTypeId, Layout> = {
  [GgmlType.F32]: { blockElements: 1, blockBytes: 4 },
  [GgmlType.F16]: { blockElements: 1, blockBytes: 2 },
  [GgmlType.BF16]: { blockElements: 1, blockBytes: 2 },
  // One f16 scale and 32 signed bytes.
  [GgmlType.Q8_0]: { blockElements: 32, blockBytes: 34 },
  // One f16 scale and 32 nibbles.
  [GgmlType.Q4_0]: { blockElements: 32, blockBytes: 18 },
  // f16 scale, f16 minimum and 32 nibbles.
  [GgmlType.Q4_1]: { blockElements: 32, blockBytes: 20 },
  // Super-blocks of 256: f16 scale and min-scale, 6-bit scales and mins of eight sub-blocks of
  // 32, 256 nibbles.
  [GgmlType.Q4_K]: { blockElements: 256, blockBytes: 144 },
  // Super-blocks of 256: low nibbles, high 2-bit pairs, int8 scales of sixteen sub-blocks of 16,
  // f16 scale.
  [GgmlType.Q6_K]: { blockElements: 256, blockBytes: 210 },
};

const names = new Map<number, GgmlTypeName>(
  Object.entries(GgmlType).map(([name, id]) => [id, name as GgmlTypeName]),
);

export const SUPPORTED_TYPES = [...names.values()].join(', ');

// Other ggml types, named in error messages only.
const unsupportedNames: Record<number, string> = {
  6: 'Q5_0',
  7: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K',
  13: 'Q5_K',
  15: 'Q8_K',
};

export function isSupportedType(id: number): id is GgmlTypeId {
  return names.has(id);
}

export function ggmlTypeName(id: number): string {
  return names.get(id) ?? unsupportedNames[id] ?? `ggml type ${id}`;
}

export function blockElements(type: GgmlTypeId): number {
  return layouts[type].blockElements;
}

export function tensorByteSize(type: GgmlTypeId, elements: number): number {
  const { blockElements, blockBytes } = layouts[type];
  if (elements % blockElements !== 0) {
    throw new Error(
      `${ggmlTypeName(type)} needs a multiple of ${blockElements} elements, got ${elements}`,
    );
  }
  return (elements / blockElements) * blockBytes;
}
