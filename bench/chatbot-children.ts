// The children of one ChatBot, built with the operator's own desired-object functions: what the
// bare apply loop writes, and what the convergence watch waits for.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { ChatBot } from '../operator/api/types.generated.ts';
import { chatBotChildren } from '../operator/chatbot/children.ts';
import { resolveChatBot } from '../operator/chatbot/resolve.ts';
import type { ResourceType } from '../operator/kit/index.ts';
import { resources } from '../operator/resources.ts';

/** Every type a ChatBot's children can have. */
export const childTypes: ResourceType[] = chatBotChildren.map((child) => child.resource);

export interface DesiredChild {
  resource: ResourceType;
  object: KubernetesObject;
}

/**
 * The children the ChatBot controller applies to a new ChatBot, in its order; optional ones the
 * spec does not want (autoscaler, budget, policy, claim) are left out, as the controller does.
 */
export function desiredChildren(cb: ChatBot, runtimeImage: string): DesiredChild[] {
  const bot = resolveChatBot(cb);
  return chatBotChildren.flatMap(({ resource, desired }) => {
    const object = desired(bot, undefined, { defaultRuntimeImage: runtimeImage });
    return object ? [{ resource, object }] : [];
  });
}

/** Every child a converged ChatBot has: the controller's, plus the signing-keys Secret. */
export function expectedChildren(cb: ChatBot): Array<{ resource: ResourceType; name: string }> {
  // The runtime image changes no child's name or presence.
  return [
    ...desiredChildren(cb, '').map((c) => ({
      resource: c.resource,
      name: c.object.metadata!.name!,
    })),
    { resource: resources.secrets, name: resolveChatBot(cb).names.keysSecret },
  ];
}
