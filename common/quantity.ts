// Kubernetes resource quantities ("500m", "1Gi", "1e3") as exact fractions, so two spellings of
// the same amount compare equal: the API server may return a quantity in a canonical form that
// differs from the one that was sent ("0.5" comes back as "500m").

export interface Fraction {
  numerator: bigint;
  denominator: bigint;
}

const binarySuffixes: Record<string, bigint> = {
  Ki: 2n ** 10n,
  Mi: 2n ** 20n,
  Gi: 2n ** 30n,
  Ti: 2n ** 40n,
  Pi: 2n ** 50n,
  Ei: 2n ** 60n,
};

const decimalSuffixes: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

// sign, digits with an optional fraction, then one suffix; an exponent ("e3", "E-2") is tried
// before the lone "E" (exa).
const grammar = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/;

/** The exact value of a quantity, or undefined when the text is not a quantity. */
export function quantityValue(text: string | number): Fraction | undefined {
  // String(1e21) is "1e+21", which the grammar reads; String(NaN) is not a quantity, as it should be.
  const match = grammar.exec(String(text));
  if (!match) return undefined;
  const [, sign, digits, suffix] = match as unknown as [string, string, string, string];
  const [whole, fraction = ''] = digits.split('.');
  let numerator = BigInt((whole || '0') + fraction) * (sign === '-' ? -1n : 1n);
  let denominator = 10n ** BigInt(fraction.length);
  let exponent = 0;
  if (suffix in binarySuffixes) numerator *= binarySuffixes[suffix]!;
  else if (suffix in decimalSuffixes) exponent = decimalSuffixes[suffix]!;
  else exponent = Number(suffix.slice(1));
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator *= 10n ** BigInt(-exponent);
  return { numerator, denominator };
}

export function quantitiesEqual(a: string | number, b: string | number): boolean {
  const x = quantityValue(a);
  const y = quantityValue(b);
  return (
    x !== undefined &&
    y !== undefined &&
    x.numerator * y.denominator === y.numerator * x.denominator
  );
}

/** Whole units (bytes, for memory and storage), rounded up; undefined when it is not a quantity. */
export function parseQuantity(text: string | number): number | undefined {
  const value = quantityValue(text);
  if (!value) return undefined;
  const { numerator: n, denominator: d } = value;
  return Number(n >= 0n ? (n + d - 1n) / d : n / d);
}
