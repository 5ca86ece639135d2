// The operator's Prometheus metrics, under the names controller-runtime and client-go use, so
// existing dashboards and alerts work unchanged. One registry for the whole process, served on
// /metrics by the manager.

import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  exponentialBuckets,
} from 'prom-client';

export const metricsRegistry = new Registry();

let defaultMetricsCollected = false;

/** Adds prom-client's process metrics (CPU, memory, event loop lag, …); safe to call again. */
export function collectProcessMetrics(): void {
  if (defaultMetricsCollected) return;
  defaultMetricsCollected = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

const registers = [metricsRegistry];
// 10 ns to ~1000 s, as controller-runtime's work-queue histograms.
const queueBuckets = exponentialBuckets(1e-8, 10, 12);

export const workQueueMetrics = {
  depth: new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'],
    registers,
  }),
  adds: new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'],
    registers,
  }),
  queueDuration: new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'],
    buckets: queueBuckets,
    registers,
  }),
  workDuration: new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name'],
    buckets: queueBuckets,
    registers,
  }),
  retries: new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'],
    registers,
  }),
};

export const reconcileMetrics = {
  total: new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers,
  }),
  errors: new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'],
    registers,
  }),
  terminalErrors: new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal reconciliation errors per controller',
    labelNames: ['controller'],
    registers,
  }),
  time: new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    buckets: [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
      1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
    ],
    registers,
  }),
};

export const restClientRequests = new Counter({
  name: 'rest_client_requests_total',
  help: 'Number of HTTP requests to the Kubernetes API server, partitioned by method and status code',
  labelNames: ['method', 'code'],
  registers,
});

export const leaderElectionStatus = new Gauge({
  name: 'leader_election_master_status',
  help: 'Whether this process holds the lease (1) or not (0)',
  labelNames: ['name'],
  registers,
});

/** What each running manager has cached: a count per resource type, summed over its informers. */
const cacheSources = new Set<() => Array<[resource: string, objects: number]>>();

/** Registers a manager's caches for `cached_objects`; returns the unregistering function. */
export function reportCacheSizes(source: () => Array<[string, number]>): () => void {
  cacheSources.add(source);
  return () => cacheSources.delete(source);
}

// Shows what the operator holds in memory, and that it holds only what it manages: the Secrets
// it caches are the ones it labels, whatever else a namespace keeps.
new Gauge({
  name: 'clawbot_operator_cached_objects',
  help: "Objects in the operator's informer caches, by resource",
  labelNames: ['resource'],
  registers,
  collect() {
    this.reset();
    for (const source of cacheSources) {
      for (const [resource, objects] of source()) this.inc({ resource }, objects);
    }
  },
});
