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
function kind<T extends KubernetesObject>(
  resource: ResourceType,
  name: (bot: ResolvedChatBot) => string,
  desired: (bot: ResolvedChatBot, live: T | undefined, ctx: ChildContext) => T | undefined,
  options: { keepUnwanted?: true } = {},
): ChildKind {
  return { resource, name, desired, ...options } as ChildKind;
}

/** The child's name among the ChatBot's child names. */
const named =
  (child: keyof ResolvedChatBot['names']) =>
  (bot: ResolvedChatBot): string =>
    bot.names[child];

/**
 * In the order they are written: what the pods use (identity, configuration, the verifier
 * Secret, the claim) exists before the Deployment that starts them.
 */
export const chatBotChildren: readonly ChildKind[] = [
  kind(resources.serviceAccounts, named('serviceAccount'), desiredServiceAccount),
  kind(resources.configMaps, named('configMap'), desiredConfigMap),
  kind(resources.secrets, named('apiKeysSecret'), desiredApiKeysSecret),
  kind<V1PersistentVolumeClaim>(resources.claims, (bot) => bot.claim.name, desiredClaim, {
    keepUnwanted: true,
  }),
  kind(resources.services, named('service'), desiredService),
  kind<V1Deployment>(resources.deployments, named('deployment'), (bot, live, ctx) =>
    desiredDeployment(bot, { ...ctx, live }),
  ),
  kind(resources.autoscalers, named('autoscaler'), desiredAutoscaler),
  kind(resources.disruptionBudgets, named('disruptionBudget'), desiredDisruptionBudget),
  kind(resources.networkPolicies, named('networkPolicy'), desiredNetworkPolicy),
  kind(resources.ingresses, named('ingress'), desiredIngress),
];
