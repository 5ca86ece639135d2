// Carries out one planned step. Every write is conditional: updates carry the resourceVersion they
// were planned from (a concurrent change fails with ConflictError and is planned again), creates
// fail if the object appeared meanwhile, deletes name the exact object.

import type { V1Secret } from '@kubernetes/client-node';
import { generateApiKey } from '../../common/api-key.ts';
import { encryptFernet } from '../../common/fernet.ts';
import { serializeApiKeyVerifier, verifierFileName } from '../../common/runtime-secrets.ts';
import type { ApiKey } from '../api/types.generated.ts';
import { childNames } from '../chatbot/names.ts';
import { controllerReference, type ObjectClient } from '../kit/index.ts';
import { resources } from '../resources.ts';
import { apiKeyLabels, consumerData, finalizer, stagedData, stagedSecretName } from './names.ts';
import type { Step } from './plan.ts';
import type { Getter } from './read-world.ts';
import type { IssuedKey } from './world.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

export async function executeStep(
  step: Exclude<Step, { kind: 'done' }>,
  apiKey: ApiKey,
  client: ObjectClient,
  get: Getter,
): Promise<void> {
  const ns = apiKey.metadata.namespace!;
  const owner = [controllerReference(apiKey, resources.apiKeys)];
  switch (step.kind) {
    case 'add-finalizer':
    case 'remove-finalizer': {
      const finalizers = (apiKey.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      if (step.kind === 'add-finalizer') finalizers.push(finalizer);
      await client.update(resources.apiKeys, {
        ...apiKey,
        metadata: { ...apiKey.metadata, finalizers },
      });
      return;
    }
    case 'drop-verifier-entry':
    case 'publish': {
      const name = childNames(apiKey.spec.chatBotRef.name).apiKeysSecret;
      const verifier = await get<V1Secret>(resources.secrets, ns, name);
      // Gone with its ChatBot: then no runtime can accept the key anyway.
      if (!verifier) return;
      const file = verifierFileName(apiKey.metadata.name!);
      const { [file]: _dropped, ...others } = verifier.data ?? {};
      const data =
        step.kind === 'publish'
          ? { ...others, [file]: b64(serializeApiKeyVerifier(step.entry)) }
          : others;
      await client.update(resources.secrets, { ...verifier, data });
      return;
    }
    case 'stage': {
      const { key } = generateApiKey();
      await client.create(resources.secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: stagedSecretName(apiKey),
          namespace: ns,
          labels: apiKeyLabels(apiKey, 'staged-api-key'),
          ownerReferences: owner,
        },
        type: 'Opaque',
        data: {
          [stagedData.key]: b64(key),
          [stagedData.notBefore]: b64(step.notBefore),
          [stagedData.notAfter]: b64(step.notAfter),
        },
      });
      return;
    }
    case 'unstage': {
      const staged = await get<V1Secret>(resources.secrets, ns, stagedSecretName(apiKey));
      if (!staged) return;
      const { uid, resourceVersion } = staged.metadata!;
      await client.delete(
        resources.secrets,
        { name: staged.metadata!.name!, namespace: ns },
        { preconditions: { uid, resourceVersion } },
      );
      return;
    }
    case 'deliver': {
      const live = await get<V1Secret>(resources.secrets, ns, apiKey.spec.secretName);
      const secret: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: apiKey.spec.secretName,
          namespace: ns,
          labels: apiKeyLabels(apiKey, 'api-key'),
          ownerReferences: owner,
          resourceVersion: live?.metadata?.resourceVersion,
        },
        type: 'Opaque',
        data: await consumerContent(apiKey, step.current, step.previous, get),
      };
      if (live) await client.update(resources.secrets, secret);
      else await client.create(resources.secrets, secret);
      return;
    }
    case 'status':
      await client.update(
        resources.apiKeys,
        { ...apiKey, status: step.status },
        { subresource: 'status' },
      );
      return;
  }
}

async function consumerContent(
  apiKey: ApiKey,
  current: IssuedKey | undefined,
  previous: IssuedKey | undefined,
  get: Getter,
): Promise<Record<string, string>> {
  const ref = apiKey.spec.delivery?.fernetKeySecretRef;
  let seal = (key: string) => key;
  const data: Record<string, string> = {};
  if (ref) {
    const fernet = await get<V1Secret>(resources.secrets, apiKey.metadata.namespace!, ref.name);
    const fernetKey = Buffer.from(fernet!.data![ref.key]!, 'base64').toString('utf8').trim();
    seal = (key) => encryptFernet(fernetKey, key);
    data[consumerData.encryption] = b64('fernet');
  }
  if (!current) {
    // Revoked: nothing usable stays behind; the id tells which key that was.
    const id = apiKey.status?.currentKeyId;
    return id ? { [consumerData.keyId]: b64(id) } : {};
  }
  data[consumerData.key] = b64(seal(current.key));
  data[consumerData.keyId] = b64(current.keyId);
  if (previous) data[consumerData.previousKey] = b64(seal(previous.key));
  return data;
}
