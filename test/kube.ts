// Small helpers for tests that drive the control plane with kubectl, as a user would.

import { eventually } from '../tools/eventually.ts';
import type { TestCluster } from './cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function kube(cluster: TestCluster, namespace: string) {
  const get = async (kind: string, name: string): Promise<Json | undefined> => {
    try {
      return JSON.parse(
        await cluster.kubectl(['get', '-n', namespace, kind, name, '-o', 'json']),
      ) as Json;
    } catch (err) {
      if (/NotFound/.test((err as Error).message)) return undefined;
      throw err;
    }
  };
  return {
    get,
    apply: (object: unknown) =>
      cluster.kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(object)),
    patch: (kind: string, name: string, patch: unknown, extra: string[] = []) =>
      cluster.kubectl([
        'patch',
        '-n',
        namespace,
        kind,
        name,
        '--type=merge',
        '-p',
        JSON.stringify(patch),
        ...extra,
      ]),
    delete: (kind: string, name: string) =>
      cluster.kubectl(['delete', '-n', namespace, kind, name, '--wait=false']),
    kubectl: (args: string[], input?: string) => cluster.kubectl(['-n', namespace, ...args], input),
  };
}

/** What a kubelet reports for a pod whose containers started and passed their probes. */
export async function markReady(k: ReturnType<typeof kube>, pod: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await k.kubectl([
    'patch',
    'pod',
    pod,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
        ],
      },
    }),
  ]);
}

/** What the PV controller reports once it has bound a claim to a volume. */
export async function bindClaim(
  k: ReturnType<typeof kube>,
  claim: string,
  size: string,
): Promise<void> {
  const live = await eventually(`claim ${claim}`, () => k.get('pvc', claim));
  await k.kubectl([
    'patch',
    'pvc',
    claim,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: { phase: 'Bound', capacity: { storage: size }, accessModes: live.spec.accessModes },
    }),
  ]);
}

/**
 * ChatBot "bot" (one replica, its model on a claim) and an ApiKey for it whose key the operator
 * delivers into `secretName`: what the ApiKey tests start from.
 */
export async function applyBotWithApiKey(
  k: ReturnType<typeof kube>,
  apiKey: string,
  secretName: string,
): Promise<void> {
  await k.apply({
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ChatBot',
    metadata: { name: 'bot' },
    spec: { model: { source: { pvc: { claimName: 'models' } } }, scaling: { replicas: 1 } },
  });
  await k.apply({
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name: apiKey },
    spec: { chatBotRef: { name: 'bot' }, secretName },
  });
}
