// Everything the ApiKey planner looks at, read once per step. Plaintext keys appear here only
// because the consumer and staged Secrets hold them; they never leave the operator process
// except into those two Secrets.

import type { ApiKeyVerifier } from '../../common/runtime-secrets.ts';
import type { ApiKey, ChatBot } from '../api/types.generated.ts';

/** A key the operator issued, with its plaintext (from the staged or consumer Secret). */
export interface IssuedKey {
  key: string;
  keyId: string;
}

/** A key waiting in the staged Secret: the next one to be published and delivered. */
export interface StagedKey extends IssuedKey {
  notBefore: string;
  notAfter: string;
}

export interface ApiKeyWorld {
  apiKey: ApiKey;
  now: Date;
  /** Undefined when the ChatBot named by spec.chatBotRef does not exist. */
  chatBot: ChatBot | undefined;
  /** HMAC of a key under the ChatBot's pepper; undefined until the keys Secret exists. */
  hash: ((key: string) => string) | undefined;
  /** The ChatBot's verifier Secret exists (the ChatBot controller creates it). */
  verifierSecret: boolean;
  /** This ApiKey's file in the verifier Secret. */
  entry: ApiKeyVerifier | undefined;
  /** What the consumer Secret delivers now (decrypted when delivery is Fernet-encrypted). */
  consumer: { exists: boolean; current?: IssuedKey; previous?: IssuedKey };
  staged: StagedKey | undefined;
  /** Why the key cannot be delivered (e.g. the Fernet key Secret is missing), if so. */
  deliveryProblem?: string;
}
