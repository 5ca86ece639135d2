// ChatBots for unit tests, defaulted exactly as the API server stores them.

import { chatBotSpec } from '../../operator/api/chatbot.ts';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { ChatBot, ChatBotSpec } from '../../operator/api/types.generated.ts';
import { type ResolvedChatBot, resolveChatBot } from '../../operator/chatbot/resolve.ts';

type SpecInput = Partial<Record<keyof ChatBotSpec, unknown>> & { model: unknown };

export function chatBot(spec: SpecInput, name = 'bot', namespace = 'ns'): ChatBot {
  return {
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ChatBot',
    metadata: { name, namespace, uid: '00000000-0000-0000-0000-000000000001', generation: 1 },
    spec: withDefaults(chatBotSpec, spec) as ChatBotSpec,
  };
}

/** The same, resolved as the controller resolves it before building children. */
export function resolvedChatBot(
  spec: SpecInput,
  name?: string,
  namespace?: string,
): ResolvedChatBot {
  return resolveChatBot(chatBot(spec, name, namespace));
}

export const ggufSource = {
  url: 'https://models.example.com/m.gguf',
  sha256: 'ab'.repeat(32),
};

/** The deployment guide's production example. */
export const productionSpec = {
  model: { source: ggufSource, format: 'gguf' },
  resources: { cpu: '2', memory: '4Gi', gpu: 1 },
  storage: { size: '100Gi', storageClassName: 'ssd' },
  scaling: { autoscaling: { minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 70 } },
  network: { allowedCIDRs: ['10.20.0.0/16'] },
};
