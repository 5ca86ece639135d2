import { expect } from 'chai';
import { generateApiKey, hashApiKey } from './api-key.ts';
import {
  type ApiKeyVerifier,
  generatePepper,
  generateSigningKey,
  parseApiKeyVerifier,
  parsePepper,
  parseSigningKeys,
  serializeApiKeyVerifier,
  serializeSigningKeys,
  signingKeyBytes,
  verifierFileName,
} from './runtime-secrets.ts';

function sampleVerifier(): ApiKeyVerifier {
  const pepper = parsePepper(generatePepper());
  const { key, keyId } = generateApiKey();
  return {
    apiKey: 'team-a.reader',
    scopes: ['chat', 'models'],
    requestsPerMinute: 600,
    keys: [
      {
        keyId,
        hash: hashApiKey(pepper, key),
        state: 'Active',
        notBefore: '2025-01-01T00:00:00Z',
        notAfter: '2025-04-01T00:00:00Z',
      },
      {
        keyId: generateApiKey().keyId,
        hash: hashApiKey(pepper, generateApiKey().key),
        state: 'Retiring',
        notBefore: '2024-10-01T00:00:00.123+02:00',
        notAfter: '2025-01-01T00:00:00Z',
        retireAfter: '2025-01-03T00:00:00Z',
      },
    ],
  };
}

describe('signing-keys.json', () => {
  it('round-trips generated keys, whose secrets are 32 bytes', () => {
    const file = {
      keys: [generateSigningKey(new Date('2025-01-01T00:00:00Z')), generateSigningKey(new Date())],
    };
    file.keys[0]!.retireAfter = '2025-02-01T00:00:00Z';
    const parsed = parseSigningKeys(serializeSigningKeys(file));
    expect(parsed).to.deep.equal(file);
    expect(signingKeyBytes(parsed.keys[0]!)).to.have.length(32);
    expect(parsed.keys[0]!.kid).to.not.equal(parsed.keys[1]!.kid);
    expect(parsed.keys[0]!.createdAt).to.equal('2025-01-01T00:00:00.000Z');
  });

  const key = generateSigningKey(new Date('2025-01-01T00:00:00Z'));
  const refusals: [string, unknown, RegExp][] = [
    ['no keys', { keys: [] }, /at least one signing key/],
    [
      'a padded secret',
      { keys: [{ ...key, secret: key.secret + '=' }] },
      /keys\[0\]\.secret must be 32 bytes/,
    ],
    ['a short secret', { keys: [{ ...key, secret: key.secret.slice(1) }] }, /43 characters/],
    ['a kid with a space', { keys: [{ ...key, kid: 'a b' }] }, /keys\[0\]\.kid must be/],
    [
      'a date without a zone',
      { keys: [{ ...key, createdAt: '2025-01-01T00:00:00' }] },
      /createdAt must be an RFC 3339 time/,
    ],
    ['a duplicate kid', { keys: [key, { ...key }] }, /kid ".*" appears twice/],
    [
      'a misspelt field',
      { keys: [{ ...key, retireAter: '2025-01-01T00:00:00Z' }] },
      /unknown field\(s\) retireAter/,
    ],
    ['an array', [key], /the file must be a JSON object/],
  ];
  for (const [what, value, message] of refusals) {
    it(`refuses ${what}, naming the field`, () => {
      expect(() => parseSigningKeys(JSON.stringify(value))).to.throw(message);
      expect(() => serializeSigningKeys(value as never)).to.throw(message);
    });
  }

  it('refuses a file cut short', () => {
    const whole = serializeSigningKeys({ keys: [key] });
    expect(() => parseSigningKeys(whole.slice(0, 40))).to.throw(/not valid JSON/);
  });
});

describe('apikey-pepper', () => {
  it('is 32 random bytes as base64url text, read with or without a trailing newline', () => {
    const text = generatePepper();
    expect(generatePepper()).to.not.equal(text);
    expect(parsePepper(text)).to.have.length(32);
    expect(parsePepper(`${text}\n`).equals(parsePepper(text))).to.equal(true);
    expect(() => parsePepper('too-short')).to.throw(/apikey-pepper must be 32 bytes/);
  });
});

describe('API key verifier files', () => {
  it('are named after the ApiKey resource', () => {
    expect(verifierFileName('team-a.reader')).to.equal('team-a.reader.json');
  });

  it('round-trip, with fields in a fixed order', () => {
    const verifier = sampleVerifier();
    const text = serializeApiKeyVerifier(verifier);
    expect(parseApiKeyVerifier(text)).to.deep.equal(verifier);
    const reordered = {
      keys: verifier.keys,
      requestsPerMinute: 600,
      scopes: verifier.scopes,
      apiKey: verifier.apiKey,
    };
    expect(serializeApiKeyVerifier(reordered)).to.equal(text);
    expect(Object.keys(JSON.parse(text))).to.deep.equal([
      'apiKey',
      'scopes',
      'requestsPerMinute',
      'keys',
    ]);
  });

  const broken: [string, (v: ApiKeyVerifier) => unknown, RegExp][] = [
    [
      'an upper-case hash',
      (v) => ({ ...v, keys: [{ ...v.keys[0], hash: v.keys[0]!.hash.toUpperCase() }] }),
      /keys\[0\]\.hash must be 64 lowercase hex/,
    ],
    [
      'a plaintext key in place of the hash',
      (v) => ({ ...v, keys: [{ ...v.keys[0], hash: generateApiKey().key }] }),
      /keys\[0\]\.hash/,
    ],
    [
      'an extra field holding a key',
      (v) => ({ ...v, keys: [{ ...v.keys[0], key: 'cbk_x' }] }),
      /unknown field\(s\) key/,
    ],
    [
      'a bad key id',
      (v) => ({ ...v, keys: [{ ...v.keys[0], keyId: 'short' }] }),
      /keys\[0\]\.keyId must be a key id/,
    ],
    [
      'an unknown state',
      (v) => ({ ...v, keys: [{ ...v.keys[0], state: 'active' }] }),
      /keys\[0\]\.state must be one of Active, Retiring, Revoked/,
    ],
    [
      'notAfter before notBefore',
      (v) => ({ ...v, keys: [{ ...v.keys[0], notAfter: '2024-01-01T00:00:00Z' }] }),
      /keys\[0\]\.notAfter must be later/,
    ],
    [
      'an impossible date',
      (v) => ({ ...v, keys: [{ ...v.keys[0], notBefore: '2025-13-45T00:00:00Z' }] }),
      /notBefore must be an RFC 3339 time/,
    ],
    [
      'a duplicate key id',
      (v) => ({ ...v, keys: [v.keys[0], v.keys[0]] }),
      /keyId ".*" appears twice/,
    ],
    ['no scopes', (v) => ({ ...v, scopes: [] }), /at least one scope/],
    [
      'an unknown scope',
      (v) => ({ ...v, scopes: ['admin'] }),
      /scopes\[0\] must be one of chat, models/,
    ],
    [
      'a fractional rate',
      (v) => ({ ...v, requestsPerMinute: 1.5 }),
      /requestsPerMinute must be a whole number/,
    ],
    ['a zero rate', (v) => ({ ...v, requestsPerMinute: 0 }), /requestsPerMinute/],
    [
      'a name that is not a resource name',
      (v) => ({ ...v, apiKey: 'Team A' }),
      /apiKey must be the name of an ApiKey resource/,
    ],
    ['no keys list', (v) => ({ ...v, keys: undefined }), /keys must be a JSON array/],
  ];
  for (const [what, change, message] of broken) {
    it(`refuse ${what}, naming the field`, () => {
      const value = change(sampleVerifier());
      expect(() => parseApiKeyVerifier(JSON.stringify(value))).to.throw(message);
      expect(() => serializeApiKeyVerifier(value as ApiKeyVerifier)).to.throw(message);
    });
  }

  it('may list no keys (every key of the ApiKey was removed)', () => {
    const verifier = { ...sampleVerifier(), keys: [] };
    expect(parseApiKeyVerifier(serializeApiKeyVerifier(verifier))).to.deep.equal(verifier);
  });
});
