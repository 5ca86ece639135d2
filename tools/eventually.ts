// Waiting for something to come true by asking again: how the tests, the demo and the benchmarks
// wait on the API server, the operator and the runtime, none of which can push the news.

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` until it returns something other than undefined or false, and returns that.
 * A probe that throws counts as "not yet" (the API server may not serve a new resource yet);
 * after `timeoutMs` it fails with `what` and the last error.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError ? ` (last error: ${(lastError as Error).message ?? lastError})` : '';
      throw new Error(`${what}: not within ${timeoutMs / 1000} s${cause}`);
    }
    await sleep(intervalMs);
  }
}
