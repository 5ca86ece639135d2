// The children of one ChatBot, built with the operator's own desired-object functions: what the
// bare apply loop writes, and what the convergence watch waits for.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { ChatBot } from '../operator/api/types.generated.ts';
import {
  desiredApiKeysSecret,
  desiredConfigMap,
  desiredServiceAccount,
} from '../operator/chatbot/desired-config.ts';
import { desiredDeployment } from '../operator/chatbot/desired-deployment.ts';
import { desiredNetworkPolicy, desiredService } from '../operator/chatbot/desired-network.ts';
import { desiredAutoscaler, desiredDisruptionBudget } from '../operator/chatbot/desired-scaling.ts';
import { desiredClaim } from '../operator/chatbot/desired-storage.ts';
import { childNames } from '../operator/chatbot/names.ts';
import type { ResourceType } from '../operator/kit/index.ts';
import { resources } from '../operator/resources.ts';

/** Every type a ChatBot's children can have. */
export const childTypes: ResourceType[] = [
  resources.serviceAccounts,
  resources.configMaps,
  resources.secrets,
  resources.claims,
  resources.services,
  resources.deployments,
  resources.autoscalers,
  resources.disruptionBudgets,
  resources.networkPolicies,
];

export interface DesiredChild {
  resource: ResourceType;
  object: KubernetesObject;
}

/**
 * The children the ChatBot controller applies to a new ChatBot, in its order; optional ones the
 * spec does not want (autoscaler, budget, policy, claim) are left out, as the controller does.
 */
export function desiredChildren(cb: ChatBot, runtimeImage: string): DesiredChild[] {
  const wanted: Array<[ResourceType, KubernetesObject | undefined]> = [
    [resources.serviceAccounts, desiredServiceAccount(cb)],
    [resources.configMaps, desiredConfigMap(cb)],
    [resources.secrets, desiredApiKeysSecret(cb)],
    [resources.claims, desiredClaim(cb, undefined)],
    [resources.services, desiredService(cb)],
    [resources.deployments, desiredDeployment(cb, { defaultRuntimeImage: runtimeImage })],
    [resources.autoscalers, desiredAutoscaler(cb)],
    [resources.disruptionBudgets, desiredDisruptionBudget(cb)],
    [resources.networkPolicies, desiredNetworkPolicy(cb)],
  ];
  return wanted.flatMap(([resource, object]) => (object ? [{ resource, object }] : []));
}

/** Every child a converged ChatBot has: the controller's, plus the signing-keys Secret. */
export function expectedChildren(cb: ChatBot): Array<{ resource: ResourceType; name: string }> {
  // The runtime image changes no child's name or presence.
  return [
    ...desiredChildren(cb, '').map((c) => ({
      resource: c.resource,
      name: c.object.metadata!.name!,
    })),
    { resource: resources.secrets, name: childNames(cb.metadata.name!).keysSecret },
  ];
}
