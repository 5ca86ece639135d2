// Replica management beyond the Deployment: the autoscaler (guide: 2–10 replicas at 70 % CPU) and
// a disruption budget so node drains never take every replica at once.

import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ResolvedChatBot } from './resolve.ts';

/** Undefined with a fixed replica count: the plan then deletes any previous autoscaler. */
export function desiredAutoscaler(bot: ResolvedChatBot): V2HorizontalPodAutoscaler | undefined {
  const { scaling, names } = bot;
  if (scaling.mode !== 'autoscaling') return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: names.autoscaler,
      namespace: bot.cb.metadata.namespace,
      labels: bot.labels,
      ownerReferences: [bot.owner],
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
export function desiredDisruptionBudget(bot: ResolvedChatBot): V1PodDisruptionBudget | undefined {
  const { scaling } = bot;
  const floor = scaling.mode === 'fixed' ? scaling.replicas : scaling.minReplicas;
  if (floor < 2) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: bot.names.disruptionBudget,
      namespace: bot.cb.metadata.namespace,
      labels: bot.labels,
      ownerReferences: [bot.owner],
    },
    spec: { maxUnavailable: 1, selector: { matchLabels: bot.selectorLabels } },
  };
}
