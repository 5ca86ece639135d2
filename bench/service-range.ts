// The control plane allocates Service IPs from 10.0.0.0/24 (tools/cluster/control-plane.ts): about
// 250 Services, and every ChatBot has one. The benchmark's thousands of ChatBots get a second,
// larger range through a ServiceCIDR object (networking.k8s.io/v1, on by default since 1.33). The
// API server allocates only from Ready ranges, and Ready is reported by the controller-manager's
// service-CIDR controller, which this control plane does not run: the benchmark reports it.

import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  isConditionTrue,
  kubeTime,
  type Condition,
  type ObjectClient,
  type ResourceType,
} from '../operator/kit/index.ts';

const serviceCidrs: ResourceType = {
  group: 'networking.k8s.io',
  version: 'v1',
  plural: 'servicecidrs',
  kind: 'ServiceCIDR',
  namespaced: false,
};

type ServiceCidr = KubernetesObject & {
  spec: { cidrs: string[] };
  status?: { conditions?: Condition[] };
};

/** Adds 10.96.0.0/16 (65 534 addresses) and waits until the API server allocates from it. */
export async function widenServiceRange(client: ObjectClient): Promise<void> {
  const range: ServiceCidr = {
    metadata: { name: 'clawbot-bench' },
    spec: { cidrs: ['10.96.0.0/16'] },
  };
  await client.apply(serviceCidrs, range);
  const ready: Condition = {
    type: 'Ready',
    status: 'True',
    reason: 'ReportedByBenchmark',
    message: 'no service-CIDR controller runs on this control plane',
    lastTransitionTime: kubeTime(new Date()),
  };
  await client.applyStatus(serviceCidrs, { ...range, status: { conditions: [ready] } });
  const deadline = performance.now() + 30_000;
  for (;;) {
    const live = await client.get<ServiceCidr>(serviceCidrs, 'clawbot-bench');
    if (isConditionTrue(live?.status?.conditions, 'Ready')) return;
    if (performance.now() > deadline) throw new Error('ServiceCIDR clawbot-bench is not Ready');
    await sleep(200);
  }
}
