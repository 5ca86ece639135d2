// API requests of an idle operator: the difference of rest_client_requests_total (by method)
// over a measured interval, once the operator has nothing left to do. An idle operator should
// write nothing; its reads are the informers' watches and relists.

import { setTimeout as sleep } from 'node:timers/promises';
import type { OperatorProcess } from '../test/operator-process.ts';
import { delta, snapshot, type OperatorDelta, type OperatorSnapshot } from './operator-metrics.ts';
import { progress } from './progress.ts';

export interface IdleWindow extends OperatorDelta {
  relistPeriod: string;
  /** The operator's memory at the end of the window. */
  residentBytes: number;
  heapUsedBytes: number;
}

/**
 * Waits until the operator's writes and reconciles have not moved for quietMs (polled every 5 s),
 * so a window starts after the last change it reacted to, not during it.
 */
export async function waitUntilQuiet(
  op: OperatorProcess,
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const signature = (s: OperatorSnapshot) =>
    JSON.stringify([s.reconciles, s.requests.POST, s.requests.PUT, s.requests.PATCH]);
  let last = await snapshot(op);
  let quietSince = last.at;
  for (;;) {
    await sleep(5000);
    const now = await snapshot(op);
    if (signature(now) !== signature(last)) quietSince = now.at;
    last = now;
    if (now.at - quietSince >= quietMs) return;
    if (now.at > deadline)
      throw new Error(`the operator was not quiet within ${timeoutMs / 1000} s`);
    progress(`waiting for the operator to go quiet (${now.reconciles} reconciles so far)`);
  }
}

export async function measureIdleWindow(
  op: OperatorProcess,
  relistPeriod: string,
  seconds: number,
): Promise<IdleWindow> {
  progress(`measuring API requests for ${seconds} s (relist period ${relistPeriod})`);
  const before = await snapshot(op);
  await sleep(seconds * 1000);
  const after = await snapshot(op);
  return {
    relistPeriod,
    ...delta(before, after),
    residentBytes: after.residentBytes,
    heapUsedBytes: after.heapUsedBytes,
  };
}
