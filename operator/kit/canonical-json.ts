// One notion of "the same JSON" for everything the operator stores or hashes: fields in any
// order and fields left undefined make no difference (JSON drops them); the order of list items
// does. Objects parsed from the API server and the ones the planners build rarely list their
// fields in the same order.

/** JSON with every object's keys sorted: equal for equal content, whatever the key order. */
export function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
