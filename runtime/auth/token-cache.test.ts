import { createSecretKey, randomBytes, webcrypto } from 'node:crypto';
import { expect } from 'chai';
import type { KeySnapshot, LoadedSigningKey } from './key-index.ts';
import { TokenCache } from './token-cache.ts';
import { issueToken, verifyToken } from './tokens.ts';

// verifyToken takes the time as an argument, so a cached token can be judged later without
// waiting: the cache must never let through what a fresh verification would refuse.
describe('verified-token cache', () => {
  const settings = { issuer: 'clawbot-runtime', audience: 'team-a/helper', ttlSeconds: 600 };
  const principal = {
    keyId: 'AAAAAAAAAAAA',
    apiKeyName: 'reader',
    scopes: ['chat' as const],
    requestsPerMinute: 10,
  };
  const t0 = Date.parse('2030-01-01T00:00:00Z');

  async function signingKey(kid: string, retireAfter?: number): Promise<LoadedSigningKey> {
    const key = await webcrypto.subtle.importKey(
      'raw',
      randomBytes(32),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    return { kid, createdAt: 0, key, ...(retireAfter === undefined ? {} : { retireAfter }) };
  }
  const snapshotOf = (...signingKeys: LoadedSigningKey[]): KeySnapshot => ({
    pepper: createSecretKey(Buffer.alloc(32)),
    signingKeys,
    keys: new Map(),
  });

  async function cachedToken(snapshot: KeySnapshot, cache: TokenCache): Promise<string> {
    const issued = await issueToken(principal, snapshot, settings, t0);
    if (!issued.ok) throw issued.error;
    expect(await verifyToken(issued.token, snapshot, settings, t0, cache)).to.include({ ok: true });
    return issued.token;
  }

  it('answers a repeated token from the cache, with the same result', async () => {
    const snapshot = snapshotOf(await signingKey('k1'));
    const cache = new TokenCache(10);
    const token = await cachedToken(snapshot, cache);
    expect(cache.get(token)).to.include({ keyId: 'AAAAAAAAAAAA' });
    expect(await verifyToken(token, snapshot, settings, t0 + 1000, cache)).to.deep.equal({
      ok: true,
      keyId: 'AAAAAAAAAAAA',
      scopes: ['chat'],
    });
  });

  it('still refuses a cached token once it has expired', async () => {
    const snapshot = snapshotOf(await signingKey('k1'));
    const cache = new TokenCache(10);
    const token = await cachedToken(snapshot, cache);
    const later = await verifyToken(token, snapshot, settings, t0 + (600 + 61) * 1000, cache);
    expect(later.ok).to.equal(false);
    if (!later.ok) expect(later.error.code).to.equal('expired_token');
  });

  it('still refuses a cached token once its signing key is retired or replaced', async () => {
    const key = await signingKey('k1', t0 + 60_000);
    const cache = new TokenCache(10);
    const token = await cachedToken(snapshotOf(key), cache);
    const retired = await verifyToken(token, snapshotOf(key), settings, t0 + 60_000, cache);
    expect(retired).to.include({ ok: false });

    const reloaded = snapshotOf(await signingKey('k1'));
    const replaced = await verifyToken(token, reloaded, settings, t0 + 1000, cache);
    expect(replaced.ok).to.equal(false);
    if (!replaced.ok) expect(replaced.error.message).to.match(/signature does not match/);
  });

  it('holds at most its capacity, forgetting the oldest first', async () => {
    const snapshot = snapshotOf(await signingKey('k1'));
    const cache = new TokenCache(2);
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push(await cachedToken(snapshot, cache));
    expect(cache.get(tokens[0]!)).to.equal(undefined);
    expect(cache.get(tokens[1]!)).to.not.equal(undefined);
    expect(cache.get(tokens[2]!)).to.not.equal(undefined);
  });
});
