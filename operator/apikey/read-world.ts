// Assembles an ApiKeyWorld from Kubernetes objects, through any object getter: the informer
// caches for the first look (no requests when nothing changed), direct reads after a write (so
// the next step is planned from fresh state, not from a cache that has not caught up yet).

import { createSecretKey } from 'node:crypto';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { hashApiKey, parseApiKey } from '../../common/api-key.ts';
import { decryptFernet } from '../../common/fernet.ts';
import {
  APIKEY_PEPPER_FILE,
  parseApiKeyVerifier,
  parsePepper,
  verifierFileName,
} from '../../common/runtime-secrets.ts';
import type { ApiKey, ChatBot } from '../api/types.generated.ts';
import { childNames, managedBy } from '../chatbot/names.ts';
import type { ResourceType } from '../kit/index.ts';
import { resources } from '../resources.ts';
import { consumerData, stagedData, stagedSecretName } from './names.ts';
import type { ApiKeyWorld, IssuedKey } from './world.ts';

export type Getter = <T extends KubernetesObject>(
  resource: ResourceType,
  namespace: string,
  name: string,
) => Promise<T | undefined>;

const text = (secret: V1Secret | undefined, key: string) => {
  const data = secret?.data?.[key];
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
};

export async function readWorld(apiKey: ApiKey, get: Getter, now: Date): Promise<ApiKeyWorld> {
  const ns = apiKey.metadata.namespace!;
  const chatBotName = apiKey.spec.chatBotRef.name;
  const names = childNames(chatBotName);
  const [chatBot, keysSecret, verifierSecret, consumerSecret, stagedSecret] = await Promise.all([
    get<ChatBot>(resources.chatBots, ns, chatBotName),
    get<V1Secret>(resources.secrets, ns, names.keysSecret),
    get<V1Secret>(resources.secrets, ns, names.apiKeysSecret),
    get<V1Secret>(resources.secrets, ns, apiKey.spec.secretName),
    get<V1Secret>(resources.secrets, ns, stagedSecretName(apiKey)),
  ]);

  const pepperText = text(keysSecret, APIKEY_PEPPER_FILE);
  const pepper = pepperText === undefined ? undefined : createSecretKey(parsePepper(pepperText));
  const entryText = text(verifierSecret, verifierFileName(apiKey.metadata.name!));

  let deliveryProblem: string | undefined;
  let fernetKey: string | undefined;
  const fernetRef = apiKey.spec.delivery?.fernetKeySecretRef;
  if (fernetRef) {
    fernetKey = text(await get<V1Secret>(resources.secrets, ns, fernetRef.name), fernetRef.key);
    if (fernetKey === undefined) {
      deliveryProblem =
        `spec.delivery.fernetKeySecretRef: Secret ${fernetRef.name} with key ${fernetRef.key} does not exist; ` +
        'create it (e.g. with the output of `npm run clawbot -- fernet generate-key`)';
    }
  }
  if (
    consumerSecret &&
    consumerSecret.metadata?.labels?.['app.kubernetes.io/managed-by'] !== managedBy
  ) {
    deliveryProblem =
      `Secret ${apiKey.spec.secretName} already exists and was not created by ClawBot; ` +
      'choose another spec.secretName (the operator never overwrites a Secret it does not manage)';
  }

  const plain = (key: string | undefined): IssuedKey | undefined => {
    if (key === undefined) return undefined;
    const parsed = parseApiKey(key);
    return parsed.ok ? { key, keyId: parsed.keyId } : undefined;
  };
  // What the consumer Secret delivers, decrypted when delivery is Fernet-encrypted.
  const delivered = (stored: string | undefined): IssuedKey | undefined => {
    if (stored === undefined || text(consumerSecret, consumerData.encryption) !== 'fernet') {
      return plain(stored);
    }
    if (!fernetKey) return undefined;
    try {
      return plain(decryptFernet(fernetKey, stored).toString('utf8'));
    } catch {
      return undefined; // encrypted under another key: treated as lost, so a new key is issued
    }
  };

  const stagedKey = plain(text(stagedSecret, stagedData.key));
  return {
    apiKey,
    now,
    chatBot,
    hash: pepper ? (key) => hashApiKey(pepper, key) : undefined,
    verifierSecret: verifierSecret !== undefined,
    entry: entryText === undefined ? undefined : parseApiKeyVerifier(entryText),
    consumer: {
      exists: consumerSecret !== undefined,
      current: delivered(text(consumerSecret, consumerData.key)),
      previous: delivered(text(consumerSecret, consumerData.previousKey)),
    },
    staged:
      stagedKey && stagedSecret
        ? {
            ...stagedKey,
            notBefore: text(stagedSecret, stagedData.notBefore)!,
            notAfter: text(stagedSecret, stagedData.notAfter)!,
          }
        : undefined,
    deliveryProblem,
  };
}
