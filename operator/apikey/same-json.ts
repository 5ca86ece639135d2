// The one equality for what the ApiKey controller stores: verifier entries (a JSON file in a
// Secret) and statuses (JSON on the API server). The entry parsed from the Secret and the one the
// planner builds need not list their fields in the same order, and JSON drops undefined fields,
// so neither counts as a difference; the order of list items does.

import { isDeepStrictEqual } from 'node:util';

export function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(asJson(a), asJson(b));
}

function asJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
