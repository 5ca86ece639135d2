// The ggml tensor types this importer understands, with their block layouts.

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 8,
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
};

const names = new Map<number, GgmlTypeName>(
  Object.entries(GgmlType).map(([name, id]) => [id, name as GgmlTypeName]),
);

export const SUPPORTED_TYPES = [...names.values()].join(', ');

export function isSupportedType(id: number): id is GgmlTypeId {
  return names.has(id);
}

export function ggmlTypeName(id: number): string {
  return names.get(id) ?? `ggml type ${id}`;
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
