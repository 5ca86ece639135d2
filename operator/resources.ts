// The resource types the operator reads and writes (one place, so RBAC rules can be checked
// against it).

import type { ResourceType } from './kit/index.ts';

const core = (plural: string, kind: string): ResourceType => ({
  group: '',
  version: 'v1',
  plural,
  kind,
  namespaced: true,
});

export const resources = {
  chatBots: {
    group: 'clawbot.dev',
    version: 'v1alpha1',
    plural: 'chatbots',
    kind: 'ChatBot',
    namespaced: true,
  },
  apiKeys: {
    group: 'clawbot.dev',
    version: 'v1alpha1',
    plural: 'apikeys',
    kind: 'ApiKey',
    namespaced: true,
  },
  deployments: {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    kind: 'Deployment',
    namespaced: true,
  },
  autoscalers: {
    group: 'autoscaling',
    version: 'v2',
    plural: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    namespaced: true,
  },
  disruptionBudgets: {
    group: 'policy',
    version: 'v1',
    plural: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    namespaced: true,
  },
  networkPolicies: {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'networkpolicies',
    kind: 'NetworkPolicy',
    namespaced: true,
  },
  ingresses: {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
  },
  services: core('services', 'Service'),
  serviceAccounts: core('serviceaccounts', 'ServiceAccount'),
  configMaps: core('configmaps', 'ConfigMap'),
  secrets: core('secrets', 'Secret'),
  claims: core('persistentvolumeclaims', 'PersistentVolumeClaim'),
  pods: core('pods', 'Pod'),
} satisfies Record<string, ResourceType>;
