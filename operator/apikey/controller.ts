// The ApiKey controller: issues each ApiKey's key into its consumer Secret, publishes hashes to
// the ChatBot's verifier Secret, and rotates keys on schedule or on request without losing one.
// Planning is pure (plan.ts, and events.ts for what each step tells); this file reads state,
// carries out one step at a time, records its Events, and repeats until nothing is left to do.

import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import type { ApiKey, ChatBot } from '../api/types.generated.ts';
import { chatBotLabel, managedSelector } from '../chatbot/names.ts';
import { failpoint } from '../failpoint.ts';
import { metricsRegistry, objectKey, type Manager, type ResourceType } from '../kit/index.ts';
import { resources } from '../resources.ts';
import { stepEvents } from './events.ts';
import { executeStep } from './execute.ts';
import { planApiKey } from './plan.ts';
import { readWorld, type Getter } from './read-world.ts';

export interface ApiKeyControllerOptions {
  logger: Logger;
  now?: () => Date;
}

/** A rotation is five writes; more steps than this in one reconcile means something fights us. */
const maxStepsPerReconcile = 12;

const expiry = new Gauge({
  name: 'clawbot_apikey_expiry_timestamp_seconds',
  help: 'When the current key of each ApiKey expires (Unix seconds).',
  labelNames: ['namespace', 'apikey'],
  registers: [metricsRegistry],
});
const renewal = new Gauge({
  name: 'clawbot_apikey_renewal_timestamp_seconds',
  help: 'When each ApiKey is due to rotate (Unix seconds); an alert fires when this is well past.',
  labelNames: ['namespace', 'apikey'],
  registers: [metricsRegistry],
});

export function addApiKeyController(manager: Manager, options: ApiKeyControllerOptions): void {
  const now = options.now ?? (() => new Date());
  const apiKeys = manager.informer<ApiKey>(resources.apiKeys);
  const bots = manager.informer<ChatBot>(resources.chatBots);
  const secrets = manager.informer<V1Secret>(resources.secrets, { labelSelector: managedSelector });
  const byChatBot = 'chatbot';
  apiKeys.addIndex(byChatBot, (k) => [`${k.metadata.namespace}/${k.spec.chatBotRef.name}`]);
  const keysOf = (chatBotKey: string) => apiKeys.byIndex(byChatBot, chatBotKey).map(objectKey);

  const fromCache: Getter = async <T extends KubernetesObject>(
    r: ResourceType,
    ns: string,
    name: string,
  ) => {
    const key = `${ns}/${name}`;
    if (r === resources.chatBots) return bots.get(key) as T | undefined;
    if (r === resources.apiKeys) return apiKeys.get(key) as T | undefined;
    // Secrets the operator does not manage (a user's Fernet key) are not in the cache.
    return (secrets.get(key) as T | undefined) ?? (await manager.client.get<T>(r, name, ns));
  };
  const fromServer: Getter = (r, ns, name) => manager.client.get(r, name, ns);

  manager.addController<ApiKey>({
    name: 'apikey',
    for: apiKeys,
    owns: [secrets],
    watches: [
      // A ChatBot appearing, or its key Secrets changing (even deleted and recreated), can
      // change what every ApiKey of that ChatBot must do.
      { informer: bots, map: (cb: ChatBot) => keysOf(objectKey(cb)) },
      {
        informer: secrets,
        map: (s: V1Secret) => {
          const chatBot = s.metadata?.labels?.[chatBotLabel];
          const role = s.metadata?.labels?.['clawbot.dev/role'];
          return chatBot && (role === 'apikey-verifier' || role === 'signing-keys')
            ? keysOf(`${s.metadata!.namespace}/${chatBot}`)
            : [];
        },
      },
    ],
    reconcile: async (key) => {
      const cached = apiKeys.get(key);
      // Deleted (its finalizer already released): nothing left to do, nothing to retry.
      if (!cached) {
        const [namespace, name] = key.split('/');
        expiry.remove({ namespace, apikey: name });
        renewal.remove({ namespace, apikey: name });
        return undefined;
      }
      let apiKey: ApiKey = cached;
      let get = fromCache;
      for (let steps = 0; steps < maxStepsPerReconcile; steps++) {
        const world = await readWorld(apiKey, get, now());
        const step = planApiKey(world);
        if (step.kind === 'done') {
          exportTimes(apiKey);
          // The next rotation or retirement is known: come back then, no polling.
          return step.revisitAt
            ? { requeueAfter: Math.max(1000, step.revisitAt.getTime() - Date.now()) }
            : undefined;
        }
        options.logger.info('apikey step', {
          apikey: key,
          step: step.kind,
          ...(step.kind === 'status' ? { why: step.why } : {}),
        });
        await executeStep(step, apiKey, manager.client, fromServer);
        // Only now: a step whose write failed is planned again, and told once it is written.
        for (const event of stepEvents(world, step)) {
          await manager.events.record(apiKey, event.type, event.reason, event.message);
        }
        failpoint(step.kind === 'status' ? `apikey:status:${step.why}` : `apikey:${step.kind}`);
        // Plan the next step from the server, not the cache, which may not show our write yet.
        get = fromServer;
        const fresh: ApiKey | undefined = await manager.client.get<ApiKey>(
          resources.apiKeys,
          apiKey.metadata.name!,
          apiKey.metadata.namespace,
        );
        // Gone after its finalizer was removed: done, nothing to retry.
        if (!fresh) return undefined;
        apiKey = fresh;
      }
      // Retried with backoff: something keeps changing under us.
      throw new Error(`ApiKey ${key} still had work after ${maxStepsPerReconcile} steps`);
    },
  });
}

function exportTimes(apiKey: ApiKey): void {
  const labels = { namespace: apiKey.metadata.namespace!, apikey: apiKey.metadata.name! };
  const { expiresAt, renewalTime } = apiKey.status ?? {};
  if (expiresAt) expiry.set(labels, Date.parse(expiresAt) / 1000);
  if (renewalTime) renewal.set(labels, Date.parse(renewalTime) / 1000);
}
