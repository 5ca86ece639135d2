// The names an ApiKey's controller uses: its finalizer and annotation, and the names, labels and
// data keys of the Secrets it writes.

import type { ApiKey } from '../api/types.generated.ts';
import { managedBy } from '../chatbot/names.ts';

/** Held until the ApiKey's keys are gone from the verifier. */
export const finalizer = 'clawbot.dev/apikey-verifier';
/** A new value asks for a rotation now. */
export const rotateAnnotation = 'clawbot.dev/rotate';

export const apiKeyLabel = 'clawbot.dev/apikey';

/** The staged Secret holds the next key during a rotation. A dot keeps it apart from user names. */
export const stagedSecretName = (apiKey: ApiKey) => `${apiKey.metadata.name}.clawbot-staged-key`;

export function apiKeyLabels(apiKey: ApiKey, role: string): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': managedBy,
    'clawbot.dev/chatbot': apiKey.spec.chatBotRef.name,
    [apiKeyLabel]: apiKey.metadata.name!,
    'clawbot.dev/role': role,
  };
}

/** Data keys of the consumer Secret: what applications read. */
export const consumerData = {
  key: 'api-key',
  keyId: 'api-key-id',
  previousKey: 'previous-api-key',
  /** "fernet" when api-key and previous-api-key are Fernet tokens. */
  encryption: 'encryption',
} as const;

export const stagedData = {
  key: 'api-key',
  notBefore: 'not-before',
  notAfter: 'not-after',
} as const;
