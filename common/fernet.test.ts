import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  decryptFernet,
  encryptFernet,
  FernetError,
  type FernetFailure,
  generateFernetKey,
  parseFernetKey,
} from './fernet.ts';

// The Fernet specification's own test vectors, copied unchanged (see the README beside them).
const vectors = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../test/testdata/fernet/${name}.json`, import.meta.url), 'utf8'),
  );

interface Vector {
  desc?: string;
  token: string;
  now: string;
  secret: string;
  src?: string;
  iv?: number[];
  ttl_sec?: number;
}

function refusal(run: () => unknown): FernetError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(FernetError);
    return error as FernetError;
  }
  expect.fail('the token was accepted');
}

describe("Fernet: the specification's vectors", () => {
  for (const v of vectors('generate') as Vector[]) {
    it(`generate: "${v.src}" at ${v.now} with the fixed IV gives the spec's token`, () => {
      const token = encryptFernet(v.secret, v.src!, {
        now: new Date(v.now),
        iv: Uint8Array.from(v.iv!),
      });
      expect(token).to.equal(v.token);
    });
  }

  for (const v of vectors('verify') as Vector[]) {
    it(`verify: the spec's token decrypts to "${v.src}" at ${v.now}, TTL ${v.ttl_sec} s`, () => {
      const plain = decryptFernet(v.secret, v.token, {
        now: new Date(v.now),
        ttlSeconds: v.ttl_sec,
      });
      expect(plain.toString('utf8')).to.equal(v.src);
    });
  }

  // What each invalid vector is refused for; a description we do not know fails the test.
  const expectedReason: Record<string, FernetFailure> = {
    'incorrect mac': 'bad-signature',
    'too short': 'malformed',
    'invalid base64': 'malformed',
    'payload size not multiple of block size': 'malformed',
    'payload padding error': 'bad-padding',
    'far-future TS (unacceptable clock skew)': 'from-the-future',
    'expired TTL': 'expired',
    'incorrect IV (causes padding error)': 'bad-padding',
  };
  for (const v of vectors('invalid') as Vector[]) {
    it(`invalid: "${v.desc}" is refused as ${expectedReason[v.desc!]}`, () => {
      const error = refusal(() =>
        decryptFernet(v.secret, v.token, { now: new Date(v.now), ttlSeconds: v.ttl_sec }),
      );
      expect(error.reason).to.equal(expectedReason[v.desc!]);
    });
  }
});

describe('Fernet', () => {
  it('round-trips text and bytes under a generated key', () => {
    const key = generateFernetKey();
    expect(decryptFernet(key, encryptFernet(key, 'cbk_secret ✓')).toString()).to.equal(
      'cbk_secret ✓',
    );
    const bytes = Uint8Array.from([0, 255, 1, 254]);
    expect([...decryptFernet(key, encryptFernet(key, bytes))]).to.deep.equal([...bytes]);
    expect(decryptFernet(key, encryptFernet(key, '')).length).to.equal(0);
  });

  it('uses a fresh IV each time', () => {
    const key = generateFernetKey();
    expect(encryptFernet(key, 'same')).to.not.equal(encryptFernet(key, 'same'));
  });

  it('generates keys of 32 random bytes that other implementations read (44 characters)', () => {
    const key = generateFernetKey();
    expect(key).to.match(/^[A-Za-z0-9_-]{43}=$/);
    expect(generateFernetKey()).to.not.equal(key);
    expect(parseFernetKey(key).signingKey).to.have.length(16);
  });

  it('refuses a token made under another key as a signature mismatch', () => {
    const token = encryptFernet(generateFernetKey(), 'hello');
    const error = refusal(() => decryptFernet(generateFernetKey(), token));
    expect(error.reason).to.equal('bad-signature');
    expect(error.message).to.match(/different key, or altered/);
  });

  it('checks the signature before decrypting: altered ciphertext is a signature mismatch', () => {
    const key = generateFernetKey();
    const bytes = Buffer.from(encryptFernet(key, 'hello'), 'base64url');
    const lastCipherByte = bytes.length - 33;
    bytes[lastCipherByte] = bytes[lastCipherByte]! ^ 0xff;
    const error = refusal(() => decryptFernet(key, bytes.toString('base64url')));
    expect(error.reason).to.equal('bad-signature');
  });

  it('refuses a token whose version byte is not 0x80', () => {
    const key = generateFernetKey();
    const bytes = Buffer.from(encryptFernet(key, 'hello'), 'base64url');
    bytes[0] = 0x81;
    const error = refusal(() => decryptFernet(key, bytes.toString('base64url')));
    expect(error.reason).to.equal('unsupported-version');
    expect(error.message).to.match(/0x81/);
  });

  it('says when an expired token expired, and when a future one was made', () => {
    const key = generateFernetKey();
    const token = encryptFernet(key, 'x', { now: new Date('2030-01-01T00:00:00Z') });
    const expired = refusal(() =>
      decryptFernet(key, token, { ttlSeconds: 60, now: new Date('2030-01-01T00:01:01Z') }),
    );
    expect(expired.message).to.match(/expired at 2030-01-01T00:01:00Z/);
    const future = refusal(() =>
      decryptFernet(key, token, { now: new Date('2029-12-31T23:58:59Z') }),
    );
    expect(future.message).to.match(/made at 2030-01-01T00:00:00Z.*NTP/);
  });

  it('accepts the edges: exactly TTL old, and 60 s ahead', () => {
    const key = generateFernetKey();
    const token = encryptFernet(key, 'x', { now: new Date('2030-01-01T00:00:00Z') });
    const atTtl = { ttlSeconds: 60, now: new Date('2030-01-01T00:01:00Z') };
    expect(decryptFernet(key, token, atTtl).toString()).to.equal('x');
    expect(
      decryptFernet(key, token, { now: new Date('2029-12-31T23:59:00Z') }).toString(),
    ).to.equal('x');
  });

  it('accepts tokens with or without padding, and refuses non-canonical base64', () => {
    const key = generateFernetKey();
    const token = encryptFernet(key, 'hello');
    expect(token).to.match(/=$/);
    expect(decryptFernet(key, token.replace(/=+$/, '')).toString()).to.equal('hello');
    expect(refusal(() => decryptFernet(key, token + '=')).reason).to.equal('malformed');
    expect(refusal(() => decryptFernet(key, token.replace(/=+$/, '') + '.')).reason).to.equal(
      'malformed',
    );
  });

  it('refuses keys that are not 32 bytes of URL-safe base64, saying how to make one', () => {
    for (const bad of [
      '',
      'short',
      generateFernetKey().slice(0, 40),
      `${generateFernetKey()}AAAA`,
    ]) {
      expect(() => parseFernetKey(bad)).to.throw(FernetError, /fernet generate-key/);
    }
  });
});
