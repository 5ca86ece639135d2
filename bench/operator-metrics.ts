// Snapshots of the operator process's own metrics (rest_client_requests_total and friends, read
// from its /metrics), and the differences between two of them.

import type { OperatorProcess } from '../test/operator-process.ts';

export const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof methods)[number];

export interface OperatorSnapshot {
  /** performance.now() when taken. */
  at: number;
  requests: Record<Method, number>;
  reconciles: number;
  cpuSeconds: number;
  residentBytes: number;
  heapUsedBytes: number;
}

export async function snapshot(op: OperatorProcess): Promise<OperatorSnapshot> {
  const at = performance.now();
  const requests = {} as Record<Method, number>;
  for (const method of methods) {
    requests[method] = await op.metric('rest_client_requests_total', { method });
  }
  return {
    at,
    requests,
    reconciles: await op.metric('controller_runtime_reconcile_total'),
    cpuSeconds: await op.metric('process_cpu_seconds_total'),
    residentBytes: await op.metric('process_resident_memory_bytes'),
    heapUsedBytes: await op.metric('nodejs_heap_size_used_bytes'),
  };
}

export interface OperatorDelta {
  seconds: number;
  requests: Record<Method, number>;
  writes: number;
  reconciles: number;
  cpuSeconds: number;
}

export function delta(before: OperatorSnapshot, after: OperatorSnapshot): OperatorDelta {
  const requests = {} as Record<Method, number>;
  for (const method of methods) requests[method] = after.requests[method] - before.requests[method];
  return {
    seconds: (after.at - before.at) / 1000,
    requests,
    writes: writesOf(requests),
    reconciles: after.reconciles - before.reconciles,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
  };
}

export const writesOf = (requests: Record<Method, number>) =>
  requests.POST + requests.PUT + requests.PATCH + requests.DELETE;
