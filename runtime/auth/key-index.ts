// What the runtime knows about keys at one moment: a snapshot built from the mounted files,
// replaced whole on every reload so a request never sees half of an update.

import type { KeyObject, webcrypto } from 'node:crypto';
import { hashApiKey, parseApiKey } from '../../common/api-key.ts';
import {
  type ApiKeyVerifier,
  type KeyState,
  SCOPES,
  type Scope,
} from '../../common/runtime-secrets.ts';

/** The key id a standalone API_KEY has when it is not a ClawBot-format key. */
export const STANDALONE_KEY_ID = 'standalone';

/** Who a request acts as, once authenticated. */
export interface Principal {
  keyId: string;
  /** The name of the ApiKey resource the key belongs to ("standalone" for API_KEY). */
  apiKeyName: string;
  scopes: readonly Scope[];
  requestsPerMinute: number;
}

/** A key the runtime can verify; times in epoch milliseconds. */
export interface KnownKey extends Principal {
  hash: string;
  state: KeyState;
  notBefore: number;
  notAfter: number;
  retireAfter?: number;
}

/** A token signing key; times in epoch milliseconds. */
export interface LoadedSigningKey {
  kid: string;
  createdAt: number;
  retireAfter?: number;
  key: webcrypto.CryptoKey;
}

export interface KeySnapshot {
  /** The HMAC key API key hashes are made with. */
  pepper: KeyObject;
  signingKeys: readonly LoadedSigningKey[];
  /** Every verifiable key, by key id. */
  keys: ReadonlyMap<string, KnownKey>;
}

export interface StandaloneKey {
  apiKey: string;
  requestsPerMinute: number;
}

/**
 * Indexes the verifier files' keys by key id. A key id listed by two files is left out (and
 * reported): refusing it is safer than guessing which ApiKey's scopes and limits apply.
 */
export function indexKeys(
  verifiers: Iterable<ApiKeyVerifier>,
  standalone: StandaloneKey | undefined,
  pepper: KeyObject,
): { keys: Map<string, KnownKey>; conflicts: string[] } {
  const keys = new Map<string, KnownKey>();
  const conflicts = new Set<string>();
  for (const verifier of verifiers) {
    for (const key of verifier.keys) {
      if (keys.has(key.keyId)) conflicts.add(key.keyId);
      keys.set(key.keyId, {
        keyId: key.keyId,
        apiKeyName: verifier.apiKey,
        scopes: verifier.scopes,
        requestsPerMinute: verifier.requestsPerMinute,
        hash: key.hash,
        state: key.state,
        notBefore: Date.parse(key.notBefore),
        notAfter: Date.parse(key.notAfter),
        ...(key.retireAfter === undefined ? {} : { retireAfter: Date.parse(key.retireAfter) }),
      });
    }
  }
  for (const keyId of conflicts) keys.delete(keyId);

  if (standalone) {
    const parsed = parseApiKey(standalone.apiKey);
    const keyId = parsed.ok ? parsed.keyId : STANDALONE_KEY_ID;
    keys.set(keyId, {
      keyId,
      apiKeyName: 'standalone',
      scopes: SCOPES,
      requestsPerMinute: standalone.requestsPerMinute,
      hash: hashApiKey(pepper, standalone.apiKey),
      state: 'Active',
      notBefore: -Infinity,
      notAfter: Infinity,
    });
  }
  return { keys, conflicts: [...conflicts] };
}
