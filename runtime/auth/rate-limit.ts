// Per-key request limits: a token bucket per key id that holds up to a minute's allowance and
// refills continuously, so a key may burst to its per-minute limit but not sustain more.
// Buckets exist only for key ids that passed authentication, so their number is bounded by the
// keys the verifier lists (a stream of forged key ids cannot grow the map).

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Spends one request of `keyId`'s allowance at time `now` (ms), if there is one left. */
  take(keyId: string, perMinute: number, now: number): RateDecision {
    const perMs = perMinute / 60_000;
    const bucket = this.#buckets.get(keyId) ?? { tokens: perMinute, at: now };
    // A lowered limit takes effect at once; the clock never runs backwards for a bucket.
    bucket.tokens = Math.min(perMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = Math.max(bucket.at, now);
    this.#buckets.set(keyId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
    };
  }
}
