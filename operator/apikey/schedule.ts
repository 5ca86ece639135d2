// When an ApiKey's keys change hands: the current key renews renewBefore its expiry, and the key
// it replaces keeps working for the grace period. The planner acts on these times; the status
// reports them.

import { parseDuration } from '../../common/duration.ts';
import type { ApiKeyWorld } from './world.ts';

/** The runtime accepts tokens up to this long past expiry (clock skew). */
const clockToleranceMs = 60_000;

/** When a key with this expiry is due to be replaced. */
export function renewalTime(world: ApiKeyWorld, key: { notAfter: string }): Date {
  return new Date(Date.parse(key.notAfter) - parseDuration(world.apiKey.spec.rotation.renewBefore));
}

/**
 * The previous key must outlive every token issued with it, so the grace period is at least the
 * ChatBot's token TTL (plus clock skew) even when spec.rotation.gracePeriod asks for less.
 */
export function effectiveGraceMs(world: ApiKeyWorld): number {
  const asked = parseDuration(world.apiKey.spec.rotation.gracePeriod);
  const ttl = world.chatBot
    ? parseDuration(world.chatBot.spec.auth.tokenTTL) + clockToleranceMs
    : 0;
  return Math.max(asked, ttl);
}
