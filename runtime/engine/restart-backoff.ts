// How long the engine waits before starting a new inference worker after losing one. Pure.

/**
 * The first restart comes soon: a one-off crash should cost clients little more than the model's
 * reload.
 */
export const FIRST_RESTART_DELAY_MS = 1_000;
/**
 * Each quick failure doubles the wait up to this: a model that crashes at once, or cannot be
 * reloaded, must not keep a core busy loading it, yet a fault that went away is noticed within
 * half a minute.
 */
export const MAX_RESTART_DELAY_MS = 30_000;
/**
 * A worker that served this long was healthy, so its crash starts the backoff over: an occasional
 * crash should not be paid for with the waits of a crash loop long ago.
 */
export const HEALTHY_UPTIME_MS = 60_000;

/**
 * The wait before the next start, given the wait before the last one (undefined when the lost
 * worker was the first) and how long that worker served (0 when it never loaded the model).
 */
export function restartDelayMs(lastDelayMs: number | undefined, servedMs: number): number {
  if (lastDelayMs === undefined || servedMs >= HEALTHY_UPTIME_MS) return FIRST_RESTART_DELAY_MS;
  return Math.min(2 * lastDelayMs, MAX_RESTART_DELAY_MS);
}
