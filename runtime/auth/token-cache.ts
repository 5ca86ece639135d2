// Tokens already verified, so a client that reuses its token (the normal case) costs one
// SHA-256 per request instead of a JWS verification through WebCrypto. An entry keeps only what
// verification established; a hit is honoured only while the token is unexpired and the very
// key object that verified it is still in force and not retired, so rotation and expiry work
// exactly as without the cache. Entries are keyed by the token's hash: no token is retained.

import { createHash, type webcrypto } from 'node:crypto';

export interface VerifiedToken {
  keyId: string;
  scopes: readonly string[];
  /** The token's exp claim, in epoch seconds. */
  expiresAt: number;
  /** The signing key that verified it. */
  key: webcrypto.CryptoKey;
}

export class TokenCache {
  readonly #entries = new Map<string, VerifiedToken>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(token: string): VerifiedToken | undefined {
    return this.#entries.get(digest(token));
  }

  set(token: string, entry: VerifiedToken): void {
    // Insertion order is age: past capacity the oldest entry goes.
    if (this.#entries.size >= this.#capacity)
      this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(digest(token), entry);
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('base64');
