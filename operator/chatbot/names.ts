// Names and labels of the objects a ChatBot owns. Every child name derives from the ChatBot's, so
// two ChatBots in one namespace never collide and a reader can tell what belongs to what.

import type { V1OwnerReference } from '@kubernetes/client-node';
import { apiVersion } from '../api/crds.ts';
import type { ChatBot } from '../api/types.generated.ts';

export const chatBotLabel = 'clawbot.dev/chatbot';
export const managedBy = 'clawbot-operator';
/** Selects every object the operator creates (children carry this label). */
export const managedSelector = `app.kubernetes.io/managed-by=${managedBy}`;

export const childNames = (name: string) => ({
  deployment: name,
  service: name,
  serviceAccount: name,
  autoscaler: name,
  disruptionBudget: name,
  networkPolicy: name,
  ingress: name,
  configMap: `${name}-config`,
  claim: `${name}-data`,
  /** Token signing keys and the API-key pepper. */
  keysSecret: `${name}-keys`,
  /** API-key verifier entries (hashes only), filled by the ApiKey controller. */
  apiKeysSecret: `${name}-apikeys`,
});

/** Labels on every child; the first two also select the pods. */
export function labels(cb: ChatBot): Record<string, string> {
  return {
    ...selectorLabels(cb),
    'app.kubernetes.io/managed-by': managedBy,
    'app.kubernetes.io/component': 'chat-runtime',
  };
}

export function selectorLabels(cb: ChatBot): Record<string, string> {
  return { 'app.kubernetes.io/name': 'clawbot', [chatBotLabel]: cb.metadata.name! };
}

/** Makes a child garbage-collected with its ChatBot and mapped back to it by the controller. */
export function ownerReference(cb: ChatBot): V1OwnerReference {
  return {
    apiVersion,
    kind: 'ChatBot',
    name: cb.metadata.name!,
    uid: cb.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}
