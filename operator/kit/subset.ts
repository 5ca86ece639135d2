// "Is everything I asked for already there?" — desired ⊆ live, with the API server's ways of
// saying the same thing differently taken into account. Live objects carry more than was applied
// (defaults, status, fields other managers own), so equality would always fail; a subset test
// catches external edits to the fields we set, and nothing else.

import { quantitiesEqual } from '../../common/quantity.ts';

/**
 * True when every field of desired is present in live with the same meaning:
 * - objects: every desired key matches (live may have more keys);
 * - lists: same length, each desired item a subset of the live item at the same place;
 * - Go zero values (false, 0, "", [], {}, null) match a missing field, because the API server
 *   omits empty fields when it serialises;
 * - quantities compare numerically ("0.5" = "500m", "1Gi" = "1073741824"), and a number matches
 *   the same number written as a string (int-or-string fields keep whichever form was sent).
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  if (live === undefined || live === null) return isZeroValue(desired);
  if (desired === null) return false;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) &&
      desired.length === live.length &&
      desired.every((item, i) => isSubset(item, live[i]))
    );
  }
  if (isObject(desired)) {
    return (
      isObject(live) && Object.entries(desired).every(([key, value]) => isSubset(value, live[key]))
    );
  }
  return scalarsEqual(desired, live);
}

function scalarsEqual(desired: unknown, live: unknown): boolean {
  if (desired === live) return true;
  if (!isText(desired) || !isText(live)) return false;
  return String(desired) === String(live) || quantitiesEqual(desired, live);
}

function isZeroValue(value: unknown): boolean {
  if (value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.values(value).every(isZeroValue);
}

function isText(value: unknown): value is string | number {
  return typeof value === 'string' || typeof value === 'number';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
