// One real control plane per test run, started on first use and shared; every test works in a
// namespace of its own, so tests never see each other's objects.

import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { commandFor } from '../tools/cluster/command.ts';
import { ControlPlane } from '../tools/cluster/control-plane.ts';

export interface TestCluster {
  controlPlane: ControlPlane;
  kubeconfig: string;
  kc: KubeConfig;
  /** Creates a fresh namespace (deleted when the control plane stops). */
  namespace(prefix?: string): Promise<string>;
  /** Runs kubectl against this cluster; rejects with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  helm(args: string[]): Promise<string>;
}

let starting: Promise<TestCluster> | undefined;

export function testCluster(): Promise<TestCluster> {
  starting ??= start();
  return starting;
}

export async function stopTestCluster(): Promise<void> {
  if (!starting) return;
  const cluster = await starting.catch(() => undefined);
  starting = undefined;
  await cluster?.controlPlane.stop();
}

async function start(): Promise<TestCluster> {
  const controlPlane = await ControlPlane.start({ name: `test-${process.pid}`, log: () => {} });
  const kc = new KubeConfig();
  kc.loadFromFile(controlPlane.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    controlPlane,
    kubeconfig: controlPlane.kubeconfig,
    kc,
    async namespace(prefix = 'test') {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
    kubectl: commandFor(controlPlane.binaries.kubectl, controlPlane.kubeconfig),
    helm: commandFor(controlPlane.binaries.helm, controlPlane.kubeconfig),
  };
}
