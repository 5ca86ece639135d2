// The control plane's kube-controller-manager turns every new Deployment into a ReplicaSet and
// pods (which stay Pending: there is no scheduler). For 1000 Deployments that work trails a phase
// by minutes at its default API rate limit, so the next phase waits for it; otherwise it would
// measure the controller-manager's load as well as its own.

import type { ObjectClient, ResourceType } from '../operator/kit/index.ts';
import { resources } from '../operator/resources.ts';
import { progress } from './progress.ts';

/** How many objects of a type a namespace holds, from one single-item page of a list. */
export async function countObjects(
  client: ObjectClient,
  resource: ResourceType,
  namespace: string,
): Promise<number> {
  const page = await client.list(resource, { namespace, limit: 1 });
  const remaining = (page.metadata as { remainingItemCount?: number }).remainingItemCount ?? 0;
  return page.items.length + remaining;
}

/** Waits until the namespace holds `pods` pods (every Deployment's replicas created). */
export async function waitForPods(
  client: ObjectClient,
  namespace: string,
  pods: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const count = await countObjects(client, resources.pods, namespace);
    if (count >= pods) return;
    if (performance.now() > deadline) {
      throw new Error(`${namespace}: ${count} of ${pods} pods after ${timeoutMs / 1000} s`);
    }
    if (count !== last) progress(`controller-manager: ${count}/${pods} pods in ${namespace}`);
    last = count;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}
