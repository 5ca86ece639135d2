// Property-based fuzzing of access-token verification. Runs RUNS cases per property with a fixed
// seed; FUZZ_RUNS and FUZZ_SEED change both (see test/support/fuzz.ts).
import { createHmac, createSecretKey, webcrypto } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { fuzzParameters, fuzzRuns } from '../../test/support/fuzz.ts';
import { HttpError } from '../http-errors.ts';
import type { KeySnapshot } from './key-index.ts';
import { TokenCache } from './token-cache.ts';
import { type TokenCheck, verifyToken } from './tokens.ts';

const RUNS = fuzzRuns(1000);
const settings = { issuer: 'clawbot-runtime', audience: 'team-a/helper' };
const now = Date.parse('2030-01-01T00:00:00Z');
const KID = 'signing-1';
const secret = Buffer.alloc(32, 7);

const base64url = (text: string) => Buffer.from(text).toString('base64url');
const claims = {
  iss: settings.issuer,
  aud: settings.audience,
  sub: 'AAAAAAAAAAAA',
  jti: '4b1d0c4e-7b1c-4d1e-9a53-1f6f5e3c2a10',
  iat: now / 1000 - 10,
  exp: now / 1000 + 600,
  scope: 'chat models',
};

/** A compact JWS of the claims under `header`, HMAC-SHA256 under the signing key. */
function signed(header: unknown): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const valid = signed({ alg: 'HS256', kid: KID, typ: 'at+jwt' });

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Characters a lenient base64 decoder might skip or take: padding, whitespace, base64's own. */
const stray = fc.constantFrom(...BASE64URL, '=', '+', '/', '.', ' ', '\t', '\n', '\r');

/** A token changed where any attacker could: a character, a segment, its length. */
const mutated = fc
  .oneof(
    fc
      .tuple(
        fc.nat(valid.length - 1),
        fc.oneof(stray, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      )
      .map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
    fc.tuple(fc.nat(valid.length), stray).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i)),
    // The last character of a base64 segment carries unused bits.
    fc.constantFrom(...BASE64URL).map((c) => valid.slice(0, -1) + c),
    fc.nat(valid.length - 1).map((i) => valid.slice(0, i) + valid.slice(i + 1)),
    fc.nat(valid.length).map((n) => valid.slice(0, n)),
    fc.string({ maxLength: 8 }).map((tail) => valid + tail),
    fc
      .array(fc.constantFrom(...valid.split('.'), ''), { maxLength: 5 })
      .map((segments) => segments.join('.')),
  )
  .filter((token) => token !== valid);

const segment = fc.oneof(
  fc.base64String({ maxLength: 60 }).map((s) => s.replace(/=+$/, '')),
  fc.jsonValue({ maxDepth: 2 }).map((v) => base64url(JSON.stringify(v))),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'A'.repeat(n)),
);
/** Text with no valid signature: any string, or segments of base64url, JSON, or huge. */
const garbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('.')),
);

const OTHER_ALGORITHMS = ['none', 'None', 'hs256', 'HS384', 'HS512', 'RS256', 'ES256', 'EdDSA', ''];
/** Another algorithm (or none, or not a string), the token signed as HS256 all the same. */
const otherAlgorithm = fc
  .oneof(
    fc.constantFrom(...OTHER_ALGORITHMS),
    fc.string({ maxLength: 10 }),
    fc.jsonValue({ maxDepth: 1 }),
  )
  .filter((alg) => alg !== 'HS256');

function expectRefused(check: TokenCheck): void {
  expect(check.ok, 'accepted').to.equal(false);
  if (check.ok) return;
  expect(check.error).to.be.instanceOf(HttpError);
  expect(check.error.status).to.equal(401);
  expect(check.error.message).to.match(/POSTing \{"api_key": "..."\} to \/api\/auth|NTP/);
}

describe('verifyToken fuzzing', () => {
  let snapshot: KeySnapshot;
  before(async () => {
    const key = await webcrypto.subtle.importKey(
      'raw',
      secret,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    snapshot = {
      pepper: createSecretKey(Buffer.alloc(32)),
      signingKeys: [{ kid: KID, createdAt: 0, key }],
      keys: new Map(),
    };
  });

  it('accepts the unmutated token (the baseline the properties alter)', async () => {
    expect(await verifyToken(valid, snapshot, settings, now)).to.include({ ok: true });
  });

  it(`refuses a valid token changed anywhere, even once it is cached (${RUNS} cases)`, async () => {
    const cache = new TokenCache(10);
    expect(await verifyToken(valid, snapshot, settings, now, cache)).to.include({ ok: true });
    await fc.assert(
      fc.asyncProperty(mutated, async (token) => {
        expectRefused(await verifyToken(token, snapshot, settings, now, cache));
      }),
      fuzzParameters(RUNS),
    );
  });

  it(`refuses any other text without throwing, huge segments too (${RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(garbage, async (token) => {
        expectRefused(await verifyToken(token, snapshot, settings, now));
      }),
      fuzzParameters(RUNS),
    );
  });

  it(`refuses every algorithm but HS256, naming it (${RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(otherAlgorithm, async (alg) => {
        const check = await verifyToken(
          signed({ alg, kid: KID, typ: 'at+jwt' }),
          snapshot,
          settings,
          now,
        );
        expectRefused(check);
        if (check.ok) return;
        // An empty or non-string alg is no algorithm: the header is not a JWS header.
        expect(check.error.message).to.include(
          typeof alg === 'string' && alg !== ''
            ? `signed with ${JSON.stringify(alg)}; only HS256 is accepted`
            : 'not a well-formed JWT',
        );
      }),
      fuzzParameters(RUNS),
    );
  });
});
