// Kubernetes resource quantities ("500m", "4Gi", "1e3") as exact numbers. Kept exact with bigint
// milli-units, so "0.5" and "500m" compare equal the way the API server sees them.

const binary: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const decimal: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const pattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/**
 * The quantity in thousandths of its unit (so "500m" CPU → 500n, "1Gi" → 1073741824000n),
 * rounded up like the API server rounds sub-milli values. Undefined when it is not a quantity.
 */
export function parseQuantityMillis(value: string | number): bigint | undefined {
  const match = pattern.exec(String(value).trim());
  if (!match) return undefined;
  const [, sign, number, suffix = '', exponent] = match;
  const [whole = '0', fraction = ''] = number!.split('.');
  // digits × 10^scale is the plain number; then apply the suffix.
  let digits = BigInt((whole || '0') + fraction);
  let scale = -fraction.length + 3; // +3: count in milli-units
  let factor = 1n;
  if (suffix in binary) factor = binary[suffix]!;
  else if (exponent !== undefined) scale += Number(exponent);
  else scale += decimal[suffix]!;
  digits *= factor;
  let millis: bigint;
  if (scale >= 0) millis = digits * 10n ** BigInt(scale);
  else {
    const divisor = 10n ** BigInt(-scale);
    millis = (digits + divisor - 1n) / divisor;
  }
  return sign === '-' ? -millis : millis;
}

/** Whole units (bytes for memory and storage), rounded up. */
export function parseQuantity(value: string | number): number | undefined {
  const millis = parseQuantityMillis(value);
  if (millis === undefined) return undefined;
  return Number((millis + 999n) / 1000n);
}
