// The ChatBot controller: applies the desired children of each ChatBot (only the ones that
// differ from the cache, so an idle operator writes nothing) and reports what the pods are really
// doing in status. Token signing keys have their own controller (signing-keys-controller.ts).

import type {
  KubernetesObject,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from '../../common/log.ts';
import type { ChatBot, ChatBotStatus } from '../api/types.generated.ts';
import {
  findCondition,
  NotLeaderError,
  objectKey,
  setCondition,
  type Condition,
  type Manager,
  type ResourceType,
} from '../kit/index.ts';
import { resources } from '../resources.ts';
import { chatBotChildren } from './children.ts';
import { endpointOf } from './desired-network.ts';
import { chatBotLabel, managedSelector } from './names.ts';
import { observe, type ObservedCondition } from './observe.ts';
import { resolveChatBot } from './resolve.ts';

export interface ChatBotControllerOptions {
  defaultRuntimeImage: string;
  logger: Logger;
  now?: () => Date;
}

export function addChatBotController(manager: Manager, options: ChatBotControllerOptions): void {
  const now = options.now ?? (() => new Date());
  const informer = <T extends KubernetesObject>(resource: ResourceType) =>
    manager.informer<T>(resource, { labelSelector: managedSelector });
  const bots = manager.informer<ChatBot>(resources.chatBots);
  const children = chatBotChildren.map((child) => ({
    ...child,
    informer: informer(child.resource),
  }));
  const deployments = informer<V1Deployment>(resources.deployments);
  // Claims kept on deletion have no owner, and pods belong to ReplicaSets: both map back to
  // their ChatBot by label.
  const claims = informer<V1PersistentVolumeClaim>(resources.claims);
  const pods = informer<V1Pod>(resources.pods);
  const byLabel = (object: KubernetesObject) => {
    const name = object.metadata?.labels?.[chatBotLabel];
    return name ? [`${object.metadata!.namespace}/${name}`] : [];
  };
  pods.addIndex('chatbot', byLabel);

  manager.addController<ChatBot>({
    name: 'chatbot',
    for: bots,
    owns: children.filter((c) => c.informer !== claims).map((c) => c.informer),
    watches: [
      { informer: claims, map: byLabel },
      { informer: pods, map: byLabel },
    ],
    reconcile: async (key) => {
      const cb = bots.get(key);
      // Deleted: the garbage collector removes the owned children. Nothing to retry.
      if (!cb) return undefined;
      // Being deleted: the operator holds no finalizer, so there is nothing left for it to do.
      if (cb.metadata.deletionTimestamp) return undefined;

      const bot = resolveChatBot(cb);
      const ns = cb.metadata.namespace!;
      // Observed as they are before this reconcile writes: what the writes change comes back as
      // watch events, and the reconcile they trigger reports it.
      const liveDeployment = deployments.get(`${ns}/${bot.names.deployment}`);
      const liveClaim = claims.get(`${ns}/${bot.claim.name}`);
      // Each child is written on its own: one the API server refuses (say, a claim whose storage
      // class cannot grow) must not hold back the others. Failures are reported, then retried.
      const failures: string[] = [];
      for (const child of children) {
        const current = child.informer.get(`${ns}/${child.name(bot)}`);
        const desired = child.desired(bot, current, options);
        try {
          if (desired) await manager.client.applyIfChanged(child.resource, desired, current);
          else if (!child.keepUnwanted) await deleteChild(manager, child.resource, current);
        } catch (err) {
          if (err instanceof NotLeaderError) throw err;
          failures.push(`${child.resource.kind} ${child.name(bot)}: ${(err as Error).message}`);
        }
      }

      const observation = observe(bot, {
        deployment: liveDeployment,
        pods: pods.byIndex('chatbot', key),
        claim: liveClaim,
        applyFailures: failures,
      });
      const status: ChatBotStatus = {
        observedGeneration: cb.metadata.generation,
        conditions: conditionsFor(cb, observation.conditions, now()),
        replicas: observation.replicas,
        readyReplicas: observation.readyReplicas,
        endpoint: endpointOf(bot),
        modelPath: bot.model.path,
      };
      const wrote = await manager.client.applyStatusIfChanged(resources.chatBots, cb, status);
      if (wrote)
        await recordTransitions(manager, cb, status.conditions as Condition[], options.logger);
      // Retried with backoff; the status already says what failed.
      if (failures.length) throw new Error(failures.join('; '));
      // Every change that matters (children, pods, claims) wakes this key; no polling.
      return undefined;
    },
  });
}

/** An optional child no longer wanted (autoscaler, budget, policy): deleted if it exists. */
async function deleteChild(
  manager: Manager,
  resource: ResourceType,
  live: KubernetesObject | undefined,
): Promise<void> {
  if (!live) return;
  const { name, namespace, uid } = live.metadata!;
  // The uid precondition never deletes a same-named object created after our read.
  await manager.client.delete(resource, { name: name!, namespace }, { preconditions: { uid } });
}

function conditionsFor(cb: ChatBot, observed: ObservedCondition[], now: Date): Condition[] {
  let conditions = (cb.status?.conditions ?? []) as Condition[];
  for (const c of observed) {
    conditions = setCondition(
      conditions,
      { ...c, observedGeneration: cb.metadata.generation },
      now,
    );
  }
  return conditions;
}

/** Events for the transitions a person should hear about: readiness and degradation. */
async function recordTransitions(
  manager: Manager,
  cb: ChatBot,
  next: Condition[],
  logger: Logger,
): Promise<void> {
  const before = (cb.status?.conditions ?? []) as Condition[];
  for (const type of ['Ready', 'Degraded'] as const) {
    const was = findCondition(before, type);
    const is = findCondition(next, type);
    if (!is || (was?.status === is.status && was.reason === is.reason)) continue;
    const bad =
      (type === 'Ready' && is.status !== 'True') || (type === 'Degraded' && is.status === 'True');
    logger.info('condition changed', {
      chatbot: objectKey(cb),
      type,
      status: is.status,
      reason: is.reason,
    });
    await manager.events.record(cb, bad ? 'Warning' : 'Normal', is.reason, is.message);
  }
}
