// Per-key exponential backoff for retries: base, 2·base, 4·base, … up to max, counted per key and
// forgotten on success, like client-go's ItemExponentialFailureRateLimiter.

export interface BackoffOptions {
  /** The first retry's delay; 5 ms by default. */
  baseMs?: number;
  /** The longest delay; 5 minutes by default (the delay stops doubling there). */
  maxMs?: number;
}

export class KeyBackoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly failures = new Map<string, number>();

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 5;
    this.maxMs = options.maxMs ?? 5 * 60_000;
    if (!(this.baseMs > 0 && this.maxMs >= this.baseMs)) {
      throw new Error(`backoff needs 0 < baseMs <= maxMs, got ${this.baseMs} and ${this.maxMs}`);
    }
  }

  /** Records one more failure of key and returns how long to wait before its next attempt. */
  next(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2 ** 1024 is Infinity, so min() also caps a key that has failed for a very long time.
    return Math.min(this.baseMs * 2 ** failures, this.maxMs);
  }

  /** How many failures in a row key has had. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Success: the next failure starts again from the base delay. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}
