// The bare loop the operator is compared with: no informers, no queue, no decisions — for every
// ChatBot of a namespace it writes what the operator writes for a new ChatBot, as fast as it can,
// with the operator's concurrency: one worker for what the chatbot controller writes (the
// children, server-side applied, then the status) and one for what the signing-keys controller
// writes (the keys Secret, created). Its transport is the kit's KubeClient, as the operator's.
// Run as a child process of bench/operator.ts:
//
//   KUBECONFIG=… node bench/bare-apply.ts <namespace> <runtime image>
//
// It prints one JSON line when done: { seconds, chatBots, writes: { PATCH, POST } }.

import { KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { parseDuration } from '../common/duration.ts';
import {
  APIKEY_PEPPER_FILE,
  serializeSigningKeys,
  SIGNING_KEYS_FILE,
} from '../common/runtime-secrets.ts';
import type { ChatBot, ChatBotStatus } from '../operator/api/types.generated.ts';
import { endpointOf } from '../operator/chatbot/desired-network.ts';
import { childNames, labels, ownerReference } from '../operator/chatbot/names.ts';
import { observe } from '../operator/chatbot/observe.ts';
import { resolveChatBot } from '../operator/chatbot/resolve.ts';
import { pepperFor, planSigningKeys } from '../operator/chatbot/signing-keys.ts';
import { KubeClient, ObjectClient, setCondition, type Condition } from '../operator/kit/index.ts';
import { resources } from '../operator/resources.ts';
import { desiredChildren } from './chatbot-children.ts';

const [namespace, runtimeImage] = process.argv.slice(2);
if (!namespace || !runtimeImage) {
  console.error('usage: node bench/bare-apply.ts <namespace> <runtime image>');
  process.exit(2);
}

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const client = new ObjectClient(new KubeClient(kubeConfig));
const started = performance.now();
const writes = { PATCH: 0, POST: 0 };

async function listChatBots(): Promise<ChatBot[]> {
  const all: ChatBot[] = [];
  let next: string | undefined;
  do {
    // Pages of 500, as the operator's informers list.
    const page = await client.list<ChatBot>(resources.chatBots, {
      namespace,
      limit: 500,
      continue: next,
    });
    all.push(...page.items);
    next = page.metadata.continue || undefined;
  } while (next);
  return all;
}

/** What the chatbot controller writes on a new ChatBot's first reconcile. */
async function applyChildrenAndStatus(cb: ChatBot): Promise<void> {
  for (const { resource, object } of desiredChildren(cb, runtimeImage!)) {
    await client.apply(resource, object);
    writes.PATCH++;
  }
  // Nothing is observed yet on a first reconcile: no Deployment status, no pods, no claim phase.
  const bot = resolveChatBot(cb);
  const observation = observe(bot, { pods: [], applyFailures: [] });
  const now = new Date();
  const conditions = observation.conditions.reduce<Condition[]>(
    (list, c) => setCondition(list, { ...c, observedGeneration: cb.metadata.generation }, now),
    [],
  );
  const status: ChatBotStatus = {
    observedGeneration: cb.metadata.generation,
    conditions,
    replicas: observation.replicas,
    readyReplicas: observation.readyReplicas,
    endpoint: endpointOf(bot),
    modelPath: bot.model.path,
  };
  await client.applyStatus(resources.chatBots, { ...cb, status });
  writes.PATCH++;
}

/**
 * What the signing-keys controller writes for a new ChatBot: the same Secret (its builder is
 * inline in signing-keys-controller.ts, so this repeats its shape), made from the same key plan.
 */
async function createKeysSecret(cb: ChatBot): Promise<void> {
  const plan = planSigningKeys(
    undefined,
    new Date(),
    parseDuration(cb.spec.auth.signingKeyRotationInterval),
    parseDuration(cb.spec.auth.tokenTTL),
  );
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const secret: V1Secret = {
    metadata: {
      name: childNames(cb.metadata.name!).keysSecret,
      namespace: cb.metadata.namespace,
      labels: { ...labels(cb), 'clawbot.dev/role': 'signing-keys' },
      ownerReferences: [ownerReference(cb)],
    },
    type: 'Opaque',
    data: {
      [SIGNING_KEYS_FILE]: b64(serializeSigningKeys(plan.next!)),
      [APIKEY_PEPPER_FILE]: b64(pepperFor(undefined)),
    },
  };
  await client.create(resources.secrets, secret);
  writes.POST++;
}

const chatBots = await listChatBots();
const lane = async (write: (cb: ChatBot) => Promise<void>) => {
  for (const cb of chatBots) await write(cb);
};
await Promise.all([lane(applyChildrenAndStatus), lane(createKeysSecret)]);
console.log(
  JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    chatBots: chatBots.length,
    writes,
  }),
);
