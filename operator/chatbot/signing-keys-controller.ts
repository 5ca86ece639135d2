// Keeps each ChatBot's keys Secret: the token signing keys (rotated on schedule, see
// signing-keys.ts) and the API-key pepper (made once). Every write is conditional on the
// Secret's resourceVersion, so two writers can never interleave a rotation.

import type { V1Secret } from '@kubernetes/client-node';
import { parseDuration } from '../../common/duration.ts';
import type { Logger } from '../../common/log.ts';
import {
  APIKEY_PEPPER_FILE,
  parseSigningKeys,
  serializeSigningKeys,
  SIGNING_KEYS_FILE,
  type SigningKeysFile,
} from '../../common/runtime-secrets.ts';
import type { ChatBot } from '../api/types.generated.ts';
import type { Manager } from '../kit/index.ts';
import { resources } from '../resources.ts';
import { childNames, labels, managedSelector, ownerReference } from './names.ts';
import { pepperFor, planSigningKeys } from './signing-keys.ts';

export interface SigningKeysControllerOptions {
  logger: Logger;
  now?: () => Date;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (data: string | undefined) =>
  data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');

export function addSigningKeysController(
  manager: Manager,
  options: SigningKeysControllerOptions,
): void {
  const now = options.now ?? (() => new Date());
  const bots = manager.informer<ChatBot>(resources.chatBots);
  const secrets = manager.informer<V1Secret>(resources.secrets, { labelSelector: managedSelector });

  manager.addController<ChatBot>({
    name: 'signing-keys',
    for: bots,
    owns: [secrets],
    reconcile: async (key) => {
      const cb = bots.get(key);
      // Deleted, or being deleted: the Secret goes with the ChatBot. Nothing to retry.
      if (!cb || cb.metadata.deletionTimestamp) return undefined;
      const name = childNames(cb.metadata.name!).keysSecret;
      const live = secrets.get(`${cb.metadata.namespace}/${name}`);

      let current: SigningKeysFile | undefined;
      const text = unb64(live?.data?.[SIGNING_KEYS_FILE]);
      if (text !== undefined) {
        try {
          current = parseSigningKeys(text);
        } catch (err) {
          // A hand-edited, broken file: replace it rather than leave the runtime without keys.
          options.logger.warn('signing keys unreadable; issuing new ones', {
            chatbot: key,
            error: err as Error,
          });
        }
      }
      const t = now();
      const plan = planSigningKeys(
        current,
        t,
        parseDuration(cb.spec.auth.signingKeyRotationInterval),
        parseDuration(cb.spec.auth.tokenTTL),
      );
      const pepper = unb64(live?.data?.[APIKEY_PEPPER_FILE]);
      if (plan.next || pepper === undefined) {
        const secret: V1Secret = {
          metadata: {
            name,
            namespace: cb.metadata.namespace,
            labels: { ...labels(cb), 'clawbot.dev/role': 'signing-keys' },
            ownerReferences: [ownerReference(cb)],
            resourceVersion: live?.metadata?.resourceVersion,
          },
          type: 'Opaque',
          data: {
            [SIGNING_KEYS_FILE]: b64(serializeSigningKeys(plan.next ?? current!)),
            [APIKEY_PEPPER_FILE]: b64(pepperFor(pepper)),
          },
        };
        if (live) {
          // A ConflictError (someone wrote since our read) is thrown and retried from fresh state.
          await manager.client.update(resources.secrets, secret);
        } else {
          // AlreadyExists means our cache is behind: the retry sees the Secret and plans again.
          await manager.client.create(resources.secrets, secret);
        }
        options.logger.info('signing keys written', {
          chatbot: key,
          keys: (plan.next ?? current!).keys.map((k) => k.kid),
        });
      }
      // The next rotation or retirement is known exactly: come back then, no polling.
      return { requeueAfter: Math.max(1000, plan.revisitAt.getTime() - t.getTime()) };
    },
  });
}
