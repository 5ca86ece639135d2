// The runtime's configuration (a ConfigMap of environment variables) and its identity (a
// ServiceAccount that never gets an API token: the runtime has no business with the API server).

import type { V1ConfigMap, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { podPaths, runtimeEnv } from '../../common/runtime-env.ts';
import { parseQuantity } from '../../common/quantity.ts';
import type { ResolvedChatBot } from './resolve.ts';

export function runtimeConfig({ cb, model: location }: ResolvedChatBot): Record<string, string> {
  const { model, runtime, auth, conversationLog } = cb.spec;
  const config: Record<string, string> = {
    [runtimeEnv.modelPath]: location.path,
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

export function desiredConfigMap(bot: ResolvedChatBot): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: bot.names.configMap,
      namespace: bot.cb.metadata.namespace,
      labels: bot.labels,
      ownerReferences: [bot.owner],
    },
    data: runtimeConfig(bot),
  };
}

export function desiredServiceAccount(bot: ResolvedChatBot): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: bot.names.serviceAccount,
      namespace: bot.cb.metadata.namespace,
      labels: bot.labels,
      ownerReferences: [bot.owner],
    },
    automountServiceAccountToken: false,
  };
}

/**
 * The API-key verifier Secret, created empty so the pods can mount it before any ApiKey exists.
 * Its data belongs to the ApiKey controller; this applied configuration never lists data, so
 * server-side apply leaves the ApiKey controller's entries alone.
 */
export function desiredApiKeysSecret(bot: ResolvedChatBot): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: bot.names.apiKeysSecret,
      namespace: bot.cb.metadata.namespace,
      labels: { ...bot.labels, 'clawbot.dev/role': 'apikey-verifier' },
      ownerReferences: [bot.owner],
    },
    type: 'Opaque',
  };
}
