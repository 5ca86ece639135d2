// Judging a presented API key, or the key behind a token, against the current snapshot. Pure:
// the time comes in as an argument.

import { apiKeyMatchesHash, looksLikeApiKey, parseApiKey } from '../../common/api-key.ts';
import type { HttpError } from '../http-errors.ts';
import { authErrors } from './errors.ts';
import { type KeySnapshot, type KnownKey, type Principal, STANDALONE_KEY_ID } from './key-index.ts';

export type Verdict =
  | { ok: true; principal: Principal }
  /** keyId: the key id the credential claimed, when it had one (for the audit log). */
  | { ok: false; error: HttpError; keyId?: string };

/**
 * A ClawBot key's checksum is checked before any lookup, its hash before its state is revealed
 * (only the key's holder learns that it was revoked or rotated out).
 */
export function authenticateApiKey(presented: string, snapshot: KeySnapshot, now: number): Verdict {
  let keyId = STANDALONE_KEY_ID;
  if (looksLikeApiKey(presented) || !snapshot.keys.has(STANDALONE_KEY_ID)) {
    const parsed = parseApiKey(presented);
    if (!parsed.ok) return { ok: false, error: authErrors.malformedKey(parsed.message) };
    keyId = parsed.keyId;
  }
  const known = snapshot.keys.get(keyId);
  if (!known || !apiKeyMatchesHash(snapshot.pepper, presented, known.hash)) {
    return {
      ok: false,
      error: authErrors.unknownKey(keyId === STANDALONE_KEY_ID ? undefined : keyId),
      keyId,
    };
  }
  return standingOf(known, now);
}

/** Whether a known key may be used at `now`; expiry works even while the operator is down. */
export function standingOf(key: KnownKey, now: number): Verdict {
  const refuse = (error: HttpError): Verdict => ({ ok: false, error, keyId: key.keyId });
  if (key.state === 'Revoked') return refuse(authErrors.revokedKey(key.keyId, key.apiKeyName));
  if (now < key.notBefore) return refuse(authErrors.keyNotYetValid(key.keyId, key.notBefore));
  if (key.retireAfter !== undefined && now >= key.retireAfter) {
    return refuse(authErrors.retiredKey(key.keyId, key.retireAfter));
  }
  if (now >= key.notAfter) return refuse(authErrors.expiredKey(key.keyId, key.notAfter));
  const { keyId, apiKeyName, scopes, requestsPerMinute } = key;
  return { ok: true, principal: { keyId, apiKeyName, scopes, requestsPerMinute } };
}
