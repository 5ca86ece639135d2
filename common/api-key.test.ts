import { createSecretKey } from 'node:crypto';
import { expect } from 'chai';
import {
  API_KEY_LENGTH,
  apiKeyMatchesHash,
  generateApiKey,
  hashApiKey,
  isKeyId,
  looksLikeApiKey,
  parseApiKey,
} from './api-key.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('API keys', () => {
  it('are cbk_<keyId>_<secret><checksum> in [A-Za-z0-9_], with at least 190 bits of secret', () => {
    const { key, keyId } = generateApiKey();
    const match = /^cbk_([0-9A-Za-z]+)_([0-9A-Za-z]+)$/.exec(key);
    expect(match, key).to.not.equal(null);
    expect(match![1]).to.equal(keyId);
    const secretAndChecksum = match![2]!;
    const secretChars = secretAndChecksum.length - 6;
    expect(secretChars * Math.log2(62)).to.be.at.least(190);
    expect(key).to.have.length(API_KEY_LENGTH);
  });

  it('are different every time and use the whole alphabet', () => {
    const keys = Array.from({ length: 1000 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.key)).size).to.equal(1000);
    expect(new Set(keys.map((k) => k.keyId)).size).to.equal(1000);
    const secrets = keys.map((k) => k.key.slice(`cbk_${k.keyId}_`.length, -6));
    const seen = new Set(secrets.flatMap((s) => [...s]));
    for (const c of BASE62) expect(seen.has(c), `character ${c} never drawn`).to.equal(true);
  });

  it('parse back to their key id', () => {
    const { key, keyId } = generateApiKey();
    expect(parseApiKey(key)).to.deep.equal({ ok: true, keyId });
  });

  it('with any one character changed fail the checksum, without a lookup', () => {
    const { key } = generateApiKey();
    for (let i = 'cbk_'.length; i < key.length; i++) {
      if (key[i] === '_') continue;
      const replacement = key[i] === 'a' ? 'b' : 'a';
      const typo = key.slice(0, i) + replacement + key.slice(i + 1);
      const parsed = parseApiKey(typo);
      expect(parsed.ok, `typo at ${i} accepted`).to.equal(false);
      if (!parsed.ok) expect(parsed.reason).to.equal('bad-checksum');
    }
  });

  it('with two neighbouring characters swapped fail the checksum', () => {
    const { key } = generateApiKey();
    for (let i = 17; i < key.length - 1; i++) {
      if (key[i] === key[i + 1]) continue;
      const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
      expect(parseApiKey(swapped)).to.include({ ok: false, reason: 'bad-checksum' });
    }
  });

  it('cut short, padded or with foreign characters are malformed and say what to do', () => {
    const { key } = generateApiKey();
    for (const text of [key.slice(0, -1), key + 'x', key.replace('cbk_', 'cbx_'), '', `${key} `]) {
      const parsed = parseApiKey(text);
      expect(parsed).to.include({ ok: false, reason: 'malformed' });
      if (!parsed.ok) expect(parsed.message).to.match(/copy the whole value of api-key/);
    }
    const dashed = key.slice(0, 20) + '-' + key.slice(21);
    expect(parseApiKey(dashed)).to.include({ reason: 'malformed' });
  });

  it('have key ids of 12 base62 characters', () => {
    expect(isKeyId(generateApiKey().keyId)).to.equal(true);
    for (const bad of ['', 'abc', 'abcdefghijk_', 'abcdefghijklm'])
      expect(isKeyId(bad)).to.equal(false);
  });

  it('are recognised by their prefix', () => {
    expect(looksLikeApiKey(generateApiKey().key)).to.equal(true);
    expect(looksLikeApiKey('sk-something-else')).to.equal(false);
  });
});

describe('API key hashes', () => {
  it('are HMAC-SHA256 in hex (RFC 4231 test case 2)', () => {
    const pepper = Buffer.from('Jefe');
    expect(hashApiKey(pepper, 'what do ya want for nothing?')).to.equal(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('match only the same key under the same pepper', () => {
    const pepper = Buffer.alloc(32, 7);
    const { key } = generateApiKey();
    const stored = hashApiKey(pepper, key);
    expect(apiKeyMatchesHash(pepper, key, stored)).to.equal(true);
    expect(apiKeyMatchesHash(createSecretKey(pepper), key, stored)).to.equal(true);
    expect(apiKeyMatchesHash(pepper, generateApiKey().key, stored)).to.equal(false);
    expect(apiKeyMatchesHash(Buffer.alloc(32, 8), key, stored)).to.equal(false);
    expect(apiKeyMatchesHash(pepper, key, stored.slice(0, 32))).to.equal(false);
  });
});
