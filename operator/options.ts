// The operator's options, from flags (the chart's container args) or the environment (local runs).

import { parseArgs } from 'node:util';
import { parseDuration } from '../common/duration.ts';
import { parseLevel, type Level } from '../common/log.ts';

export interface OperatorOptions {
  /** Namespaces to watch; undefined watches all. */
  namespaces?: string[];
  /** The namespace of the leader-election Lease, or false to run without leader election. */
  leaderElection: false | { namespace: string };
  healthPort: number;
  logLevel: Level;
  /** Runtime image of ChatBots that do not name one. */
  runtimeImage: string;
  /** How often informers list everything again (a safety net for missed watch events). */
  relistPeriodMs: number;
}

/** Where the runtime released with this operator is published; its tag is the operator's version. */
export const runtimeImageRepository = 'ghcr.io/clawbot/runtime';

export const usage = `usage: npm run operator -- [options]   (or the operator image's entrypoint)

  --namespaces <a,b>           namespaces to watch (default: all)        env WATCH_NAMESPACES
  --leader-elect <true|false>  elect a leader through a Lease (default: false; the chart
                               turns it on for its replicas)              env LEADER_ELECT
  --lease-namespace <ns>       where the Lease lives (default: $POD_NAMESPACE) env POD_NAMESPACE
  --health-port <port>         /healthz, /readyz, /metrics (default: 8080) env HEALTH_PORT
  --log-level <level>          debug, info, warn or error (default: info)  env LOG_LEVEL
  --runtime-image <image>      runtime image for ChatBots without spec.runtime.image
                               (default: ${runtimeImageRepository}:<operator version>) env RUNTIME_IMAGE
  --relist-period <duration>   list everything again this often (default: 15m) env RELIST_PERIOD

Connects to the cluster through $KUBECONFIG, ~/.kube/config, or the in-cluster service account.`;

export class OptionsError extends Error {}

export function parseOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  version: string,
): OperatorOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        namespaces: { type: 'string' },
        'leader-elect': { type: 'string' },
        'lease-namespace': { type: 'string' },
        'health-port': { type: 'string' },
        'log-level': { type: 'string' },
        'runtime-image': { type: 'string' },
        'relist-period': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const namespacesText = values.namespaces ?? env.WATCH_NAMESPACES ?? '';
  const namespaces = namespacesText
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);

  // Off unless asked, as kubebuilder's operators do: one operator run by hand needs no Lease (and
  // has no POD_NAMESPACE to put it in); the chart's Deployment, which runs several, turns it on.
  const elect = (values['leader-elect'] ?? env.LEADER_ELECT ?? 'false').toLowerCase();
  if (elect !== 'true' && elect !== 'false') {
    throw new OptionsError(`--leader-elect must be true or false, not "${elect}"`);
  }
  const leaseNamespace = values['lease-namespace'] ?? env.POD_NAMESPACE;
  if (elect === 'true' && !leaseNamespace) {
    throw new OptionsError(
      'leader election needs the namespace of its Lease: set --lease-namespace (or POD_NAMESPACE), ' +
        'or run a single operator without --leader-elect=true',
    );
  }

  const portText = values['health-port'] ?? env.HEALTH_PORT ?? '8080';
  const healthPort = Number(portText);
  if (!Number.isInteger(healthPort) || healthPort < 0 || healthPort > 65535) {
    throw new OptionsError(
      `--health-port must be a port number (0 picks a free one), not "${portText}"`,
    );
  }

  let logLevel: Level;
  try {
    logLevel = parseLevel(values['log-level'] ?? env.LOG_LEVEL);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }

  const relistText = values['relist-period'] ?? env.RELIST_PERIOD ?? '15m';
  let relistPeriodMs: number;
  try {
    relistPeriodMs = parseDuration(relistText);
  } catch (err) {
    throw new OptionsError(`--relist-period: ${(err as Error).message}`);
  }
  if (relistPeriodMs < 1000) throw new OptionsError('--relist-period must be at least 1s');

  return {
    relistPeriodMs,
    namespaces: namespaces.length ? namespaces : undefined,
    leaderElection: elect === 'true' ? { namespace: leaseNamespace! } : false,
    healthPort,
    logLevel,
    runtimeImage:
      values['runtime-image'] ?? env.RUNTIME_IMAGE ?? `${runtimeImageRepository}:${version}`,
  };
}
