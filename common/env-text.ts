// Readers of environment-variable text, each throwing a message that says what the variable
// accepts; the caller prefixes the variable's name and value. Shared by the runtime's settings
// table (runtime-env.ts) so every variable is judged by one rule wherever it is read.
import { formatDuration, parseDuration } from './duration.ts';
import { parseQuantity } from './quantity.ts';

export type ParseText<T> = (text: string) => T;

export const anyText: ParseText<string> = (text) => text;

export function integer(min: number, max: number): ParseText<number> {
  return (text) => {
    const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A decimal from `min` (exclusive when asked) to `max`. */
export function decimal(min: number, max: number, minExclusive = false): ParseText<number> {
  return (text) => {
    const n = /^[0-9]*\.?[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!((minExclusive ? n > min : n >= min) && n <= max)) {
      throw new Error(
        minExclusive
          ? `must be a number above ${min} and at most ${max}`
          : `must be a number from ${min} to ${max}`,
      );
    }
    return n;
  };
}

export function oneOf<const T extends string>(choices: readonly T[]): ParseText<T> {
  return (text) => {
    if (!(choices as readonly string[]).includes(text)) {
      throw new Error(`must be one of ${choices.join(', ')}`);
    }
    return text as T;
  };
}

export const boolean: ParseText<boolean> = (text) => {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error('must be "true" or "false"');
};

/** A duration ("24h", "90m") above zero, in milliseconds. */
export const positiveDuration: ParseText<number> = (text) => {
  const ms = parseDuration(text);
  if (ms <= 0) throw new Error('must be a positive duration such as "24h" or "90m"');
  return ms;
};

/** A duration of at least `minMs`, in milliseconds. */
export function durationAtLeast(minMs: number): ParseText<number> {
  return (text) => {
    const ms = parseDuration(text);
    if (ms < minMs) throw new Error(`must be at least ${formatDuration(minMs)}`);
    return ms;
  };
}

/** A byte count, plain or as a Kubernetes quantity ("10Gi"). */
export const byteCount: ParseText<number> = (text) => {
  const bytes = parseQuantity(text);
  if (bytes === undefined || bytes <= 0 || !Number.isSafeInteger(bytes)) {
    throw new Error('must be a positive byte count such as "10737418240" or "10Gi"');
  }
  return bytes;
};
