// The runtime's configuration (a ConfigMap of environment variables) and its identity (a
// ServiceAccount that never gets an API token: the runtime has no business with the API server).

import type { V1ConfigMap, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { podPaths, runtimeEnv } from '../../common/runtime-env.ts';
import { parseQuantity } from '../../common/quantity.ts';
import type { ChatBot } from '../api/types.generated.ts';
import { childNames, labels, ownerReference } from './names.ts';
import { modelLocation } from './settings.ts';

export function runtimeConfig(cb: ChatBot): Record<string, string> {
  const { model, runtime, auth, conversationLog } = cb.spec;
  const config: Record<string, string> = {
    [runtimeEnv.modelPath]: modelLocation(cb).path,
    [runtimeEnv.modelId]: model.name ?? cb.metadata.name!,
    [runtimeEnv.maxTokens]: String(model.maxTokens),
    [runtimeEnv.port]: String(runtime.port),
    [runtimeEnv.healthPort]: String(runtime.healthPort),
    [runtimeEnv.executionProvider]: runtime.executionProvider,
    [runtimeEnv.maxConcurrency]: String(runtime.maxConcurrency),
    [runtimeEnv.maxQueue]: String(runtime.maxQueue),
    [runtimeEnv.logLevel]: runtime.logLevel,
    [runtimeEnv.tokenTTL]: auth.tokenTTL,
    [runtimeEnv.signingKeysDir]: podPaths.signingKeys,
    [runtimeEnv.apiKeysDir]: podPaths.apiKeys,
    [runtimeEnv.dataDir]: podPaths.data,
    [runtimeEnv.conversationLog]: String(conversationLog.enabled),
    [runtimeEnv.conversationLogDir]: podPaths.conversations,
    [runtimeEnv.conversationLogRetention]: conversationLog.retention,
    [runtimeEnv.conversationLogMaxBytes]: String(parseQuantity(conversationLog.maxSize)),
    [runtimeEnv.chatBotName]: cb.metadata.name!,
    [runtimeEnv.chatBotNamespace]: cb.metadata.namespace!,
  };
  if (model.contextLength !== undefined) {
    config[runtimeEnv.contextLength] = String(model.contextLength);
  }
  return config;
}

export function desiredConfigMap(cb: ChatBot): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: childNames(cb.metadata.name!).configMap,
      namespace: cb.metadata.namespace,
      labels: labels(cb),
      ownerReferences: [ownerReference(cb)],
    },
    data: runtimeConfig(cb),
  };
}

export function desiredServiceAccount(cb: ChatBot): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: childNames(cb.metadata.name!).serviceAccount,
      namespace: cb.metadata.namespace,
      labels: labels(cb),
      ownerReferences: [ownerReference(cb)],
    },
    automountServiceAccountToken: false,
  };
}

/**
 * The API-key verifier Secret, created empty so the pods can mount it before any ApiKey exists.
 * Its data belongs to the ApiKey controller; this applied configuration never lists data, so
 * server-side apply leaves the ApiKey controller's entries alone.
 */
export function desiredApiKeysSecret(cb: ChatBot): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: childNames(cb.metadata.name!).apiKeysSecret,
      namespace: cb.metadata.namespace,
      labels: { ...labels(cb), 'clawbot.dev/role': 'apikey-verifier' },
      ownerReferences: [ownerReference(cb)],
    },
    type: 'Opaque',
  };
}
