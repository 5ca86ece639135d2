// Go-style duration strings ("24h", "90m", "1h30m", "500ms"). The CRDs validate these fields
// with CEL's duration(), which follows Go's time.ParseDuration, so this parser walks the same
// grammar — `[-+]?([0-9]*(\.[0-9]*)?unit)+`, or a bare "0" — with the same int64-nanosecond
// overflow limit. Only the units the API documents are accepted: h, m, s and ms.

const NANOS_PER_MS = 1_000_000n;

const units: Record<string, bigint> = {
  ms: NANOS_PER_MS,
  s: 1000n * NANOS_PER_MS,
  m: 60n * 1000n * NANOS_PER_MS,
  h: 60n * 60n * 1000n * NANOS_PER_MS,
};

// Go knows these too; naming them in the error is kinder than calling them unknown.
const goOnlyUnits = new Set(['ns', 'us', 'µs', 'μs']);

const MAX_NANOS = 2n ** 63n; // Go's limit: |d| fits an int64 of nanoseconds (magnitude 2^63 only when negative).

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

function invalid(text: string, why: string): Error {
  return new Error(
    `invalid duration "${text}": ${why}; write it like "24h", "90m", "1h30m", "45s" or "500ms"`,
  );
}

/** Parses a Go duration string into milliseconds (fractions of a millisecond are kept). */
export function parseDuration(text: string): number {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid(text, 'it is empty');

  let total = 0n;
  while (rest !== '') {
    if (!(rest[0] === '.' || isDigit(rest[0]))) throw invalid(text, 'expected a number');

    let i = 0;
    while (isDigit(rest[i])) i++;
    const whole = rest.slice(0, i);
    let fraction = '';
    if (rest[i] === '.') {
      const start = ++i;
      while (isDigit(rest[i])) i++;
      fraction = rest.slice(start, i);
    }
    if (whole === '' && fraction === '') throw invalid(text, 'a "." needs digits');

    const unitStart = i;
    while (i < rest.length && rest[i] !== '.' && !isDigit(rest[i])) i++;
    const unit = rest.slice(unitStart, i);
    rest = rest.slice(i);
    if (unit === '')
      throw invalid(text, `the number ${whole}${fraction && '.'}${fraction} has no unit`);
    const scale = units[unit];
    if (scale === undefined) {
      const hint = goOnlyUnits.has(unit) ? 'is not supported here' : 'is unknown';
      throw invalid(text, `unit "${unit}" ${hint} (use h, m, s or ms)`);
    }

    total += BigInt(whole || '0') * scale + fractionNanos(fraction, scale);
    if (total > MAX_NANOS)
      throw invalid(text, 'it is longer than Go durations allow (about 292 years)');
  }
  if (!negative && total === MAX_NANOS) {
    throw invalid(text, 'it is longer than Go durations allow (about 292 years)');
  }
  const ms = Number(total) / Number(NANOS_PER_MS);
  return negative && ms !== 0 ? -ms : ms;
}

// Go scales the fraction in float64 and truncates to whole nanoseconds, and stops taking digits
// once they would overflow an int64. Doing the same keeps "1.0000000001s" equal to "1s", as in Go.
function fractionNanos(digits: string, scale: bigint): bigint {
  let value = 0n;
  let divisor = 1;
  for (const digit of digits) {
    if (value > (MAX_NANOS - 1n) / 10n) break;
    const next = value * 10n + BigInt(digit);
    if (next > MAX_NANOS) break;
    value = next;
    divisor *= 10;
  }
  return BigInt(Math.trunc(Number(value) * (Number(scale) / divisor)));
}

/**
 * Formats milliseconds as the shortest duration string parseDuration reads back to the same
 * value ("1h30m", "2160h", "1s500ms", "0s"). Go's own String() ("1h30m0s") parses too.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format ${ms} as a duration`);
  let nanos = BigInt(Math.round(Math.abs(ms) * Number(NANOS_PER_MS)));
  if (nanos === 0n) return '0s';
  let out = ms < 0 ? '-' : '';
  for (const unit of ['h', 'm', 's'] as const) {
    const scale = units[unit]!;
    if (nanos >= scale) out += `${nanos / scale}${unit}`;
    nanos %= scale;
  }
  if (nanos > 0n) {
    const whole = nanos / NANOS_PER_MS;
    const part = (nanos % NANOS_PER_MS).toString().padStart(6, '0').replace(/0+$/, '');
    out += part === '' ? `${whole}ms` : `${whole}.${part}ms`;
  }
  return out;
}
