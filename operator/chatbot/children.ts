// The objects a ChatBot owns, as one table: each kind of child, its name, and how to build the
// desired object from the resolved ChatBot. The controller applies the table in its order, and
// the benchmarks build the same children from it.

import type {
  KubernetesObject,
  V1Deployment,
  V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import type { ResourceType } from '../kit/index.ts';
import { resources } from '../resources.ts';
import { desiredApiKeysSecret, desiredConfigMap, desiredServiceAccount } from './desired-config.ts';
import { type DeploymentContext, desiredDeployment } from './desired-deployment.ts';
import { desiredIngress, desiredNetworkPolicy, desiredService } from './desired-network.ts';
import { desiredAutoscaler, desiredDisruptionBudget } from './desired-scaling.ts';
import { desiredClaim } from './desired-storage.ts';
import type { ResolvedChatBot } from './resolve.ts';

export type ChildContext = Pick<DeploymentContext, 'defaultRuntimeImage'>;

export interface ChildKind {
  resource: ResourceType;
  name: (bot: ResolvedChatBot) => string;
  /** Undefined: the spec does not want this child, and an existing one is deleted. */
  desired: (
    bot: ResolvedChatBot,
    live: KubernetesObject | undefined,
    ctx: ChildContext,
  ) => KubernetesObject | undefined;
  /** Left alone when unwanted: with storage.existingClaim the claim is the user's, not ours. */
  keepUnwanted?: true;
}

/** Typed per kind where it is written, so `live` is the child's own type. */
function kind<T extends KubernetesObject>(child: {
  resource: ResourceType;
  name: (bot: ResolvedChatBot) => string;
  desired: (bot: ResolvedChatBot, live: T | undefined, ctx: ChildContext) => T | undefined;
  keepUnwanted?: true;
}): ChildKind {
  return child as ChildKind;
}

/**
 * In the order they are written: what the pods use (identity, configuration, the verifier
 * Secret, the claim) exists before the Deployment that starts them.
 */
export const chatBotChildren: readonly ChildKind[] = [
  kind({
    resource: resources.serviceAccounts,
    name: (bot) => bot.names.serviceAccount,
    desired: desiredServiceAccount,
  }),
  kind({
    resource: resources.configMaps,
    name: (bot) => bot.names.configMap,
    desired: desiredConfigMap,
  }),
  kind({
    resource: resources.secrets,
    name: (bot) => bot.names.apiKeysSecret,
    desired: desiredApiKeysSecret,
  }),
  kind<V1PersistentVolumeClaim>({
    resource: resources.claims,
    name: (bot) => bot.claim.name,
    desired: desiredClaim,
    keepUnwanted: true,
  }),
  kind({ resource: resources.services, name: (bot) => bot.names.service, desired: desiredService }),
  kind<V1Deployment>({
    resource: resources.deployments,
    name: (bot) => bot.names.deployment,
    desired: (bot, live, ctx) => desiredDeployment(bot, { ...ctx, live }),
  }),
  kind({
    resource: resources.autoscalers,
    name: (bot) => bot.names.autoscaler,
    desired: desiredAutoscaler,
  }),
  kind({
    resource: resources.disruptionBudgets,
    name: (bot) => bot.names.disruptionBudget,
    desired: desiredDisruptionBudget,
  }),
  kind({
    resource: resources.networkPolicies,
    name: (bot) => bot.names.networkPolicy,
    desired: desiredNetworkPolicy,
  }),
  kind({
    resource: resources.ingresses,
    name: (bot) => bot.names.ingress,
    desired: desiredIngress,
  }),
];
