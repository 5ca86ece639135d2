// Real clusters for the tests, each started on first use and shared by the run; every test works
// in a namespace of its own, so tests never see each other's objects.
//
//   testCluster()  a control plane without a node: Pods stay Pending, for tests of the operator's
//                  own logic that set pod and claim status themselves
//   nodeCluster()  a whole cluster with a real node (tools/node), for tests of what really runs:
//                  see test/node/node-cluster.ts

import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { commandFor } from '../tools/cluster/command.ts';
import { ControlPlane, type StartOptions } from '../tools/cluster/control-plane.ts';

export interface TestCluster {
  controlPlane: ControlPlane;
  kubeconfig: string;
  kc: KubeConfig;
  /** Creates a fresh namespace (deleted when the control plane stops). */
  namespace(prefix?: string, labels?: Record<string, string>): Promise<string>;
  /** Runs kubectl against this cluster; rejects with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  helm(args: string[]): Promise<string>;
}

const started = new Map<string, Promise<TestCluster>>();

/** The run's cluster of this kind, started on first use. */
export function sharedCluster(kind: string, options: Omit<StartOptions, 'name'>) {
  let cluster = started.get(kind);
  if (!cluster) {
    cluster = start({ name: `test-${kind}-${process.pid}`, ...options });
    started.set(kind, cluster);
  }
  return cluster;
}

export function testCluster(): Promise<TestCluster> {
  return sharedCluster('plain', {});
}

export async function stopTestClusters(): Promise<void> {
  const all = [...started.values()];
  started.clear();
  for (const starting of all) {
    const cluster = await starting.catch(() => undefined);
    await cluster?.controlPlane.stop();
  }
}

async function start(options: StartOptions): Promise<TestCluster> {
  const controlPlane = await ControlPlane.start({ log: () => {}, ...options });
  const kc = new KubeConfig();
  kc.loadFromFile(controlPlane.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    controlPlane,
    kubeconfig: controlPlane.kubeconfig,
    kc,
    async namespace(prefix = 'test', labels = {}) {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name, labels } } });
      return name;
    },
    kubectl: commandFor(controlPlane.binaries.kubectl, controlPlane.kubeconfig),
    helm: commandFor(controlPlane.binaries.helm, controlPlane.kubeconfig),
  };
}
