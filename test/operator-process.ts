// Runs the real operator (`node operator/main.ts`) as a child process against the test control
// plane, as `npm run operator` would, and reads its metrics.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../tools/cluster/paths.ts';
import type { TestCluster } from './cluster.ts';
import { metricSum, seriesOf } from './support/prometheus.ts';

export interface OperatorProcess {
  child: ChildProcess;
  port: number;
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code when the process ends, however it ends. */
  exit: Promise<number | null>;
  /** The value of one Prometheus series, 0 when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Write requests (POST, PUT, PATCH, DELETE) counted by rest_client_requests_total. */
  writes(options?: { includeLeaseRenewals?: boolean }): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startOperator(
  cluster: TestCluster,
  args: string[],
  env: Record<string, string> = {},
): Promise<OperatorProcess> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'operator/main.ts'), '--health-port=0', ...args],
    {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfig, LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const logs: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        logs.push(record);
        if (record.msg === 'serving /healthz, /readyz and /metrics') resolve(record.port as number);
      } catch {
        logs.push({ msg: line });
      }
    });
    void exited.then((code) =>
      reject(
        new Error(
          `the operator exited (${code}) before serving:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`,
        ),
      ),
    );
  });

  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return {
    child,
    port,
    logs,
    exit: exited,
    async metric(name, labels = {}) {
      return metricSum(await scrape(), name, labels);
    },
    async writes(options = {}) {
      const methods = ['POST', 'PATCH', 'DELETE', ...(options.includeLeaseRenewals ? ['PUT'] : [])];
      const all = seriesOf(await scrape(), 'rest_client_requests_total');
      return all
        .filter((s) => methods.includes(s.labels.method!))
        .reduce((sum, s) => sum + s.value, 0);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
