// Replica management beyond the Deployment: the autoscaler (guide: 2–10 replicas at 70 % CPU) and
// a disruption budget so node drains never take every replica at once.

import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ChatBot } from '../api/types.generated.ts';
import { childNames, labels, ownerReference, selectorLabels } from './names.ts';
import { scalingOf } from './settings.ts';

/** Undefined with a fixed replica count: the plan then deletes any previous autoscaler. */
export function desiredAutoscaler(cb: ChatBot): V2HorizontalPodAutoscaler | undefined {
  const scaling = scalingOf(cb);
  if (scaling.mode !== 'autoscaling') return undefined;
  const names = childNames(cb.metadata.name!);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: names.autoscaler,
      namespace: cb.metadata.namespace,
      labels: labels(cb),
      ownerReferences: [ownerReference(cb)],
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names.deployment },
      minReplicas: scaling.minReplicas,
      maxReplicas: scaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: scaling.targetCPU },
          },
        },
      ],
    },
  };
}

/** Only with at least two replicas: a budget on one replica would block every node drain. */
export function desiredDisruptionBudget(cb: ChatBot): V1PodDisruptionBudget | undefined {
  const scaling = scalingOf(cb);
  const floor = scaling.mode === 'fixed' ? scaling.replicas : scaling.minReplicas;
  if (floor < 2) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: childNames(cb.metadata.name!).disruptionBudget,
      namespace: cb.metadata.namespace,
      labels: labels(cb),
      ownerReferences: [ownerReference(cb)],
    },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(cb) } },
  };
}
