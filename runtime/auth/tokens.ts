// The runtime's access tokens: JWTs signed with HS256 under the ChatBot's rotating signing keys
// (RFC 8725's advice: one allowed algorithm, explicit type, checked issuer and audience).
//   header  {alg: "HS256", kid, typ: "at+jwt"}
//   claims  {iss, aud: "<namespace>/<name>" | "standalone", sub: key id, jti, iat, exp,
//            scope: "chat models"}

import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import type { HttpError } from '../http-errors.ts';
import { authErrors } from './errors.ts';
import type { KeySnapshot, LoadedSigningKey, Principal } from './key-index.ts';
import type { TokenCache } from './token-cache.ts';

const ALGORITHM = 'HS256';
const TOKEN_TYPE = 'at+jwt';
/** Tokens stay valid this long past exp, and may carry an iat this far ahead of our clock. */
export const CLOCK_TOLERANCE_SECONDS = 60;

export interface TokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export type TokenCheck =
  { ok: true; keyId: string; scopes: readonly string[] } | { ok: false; error: HttpError };

/** The newest key that has started signing and is not retired. */
export function signingKeyAt(
  keys: readonly LoadedSigningKey[],
  now: number,
): LoadedSigningKey | undefined {
  let best: LoadedSigningKey | undefined;
  for (const key of keys) {
    if (key.createdAt > now || isRetired(key, now)) continue;
    if (!best || key.createdAt > best.createdAt) best = key;
  }
  return best;
}

const isRetired = (key: LoadedSigningKey, now: number) =>
  key.retireAfter !== undefined && now >= key.retireAfter;

export async function issueToken(
  principal: Principal,
  snapshot: KeySnapshot,
  settings: TokenSettings,
  now: number,
): Promise<{ ok: true; token: string } | { ok: false; error: HttpError }> {
  const signer = signingKeyAt(snapshot.signingKeys, now);
  if (!signer) return { ok: false, error: authErrors.noSigningKey() };
  const issuedAt = Math.floor(now / 1000);
  const token = await new SignJWT({ scope: principal.scopes.join(' ') })
    .setProtectedHeader({ alg: ALGORITHM, kid: signer.kid, typ: TOKEN_TYPE })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(principal.keyId)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + settings.ttlSeconds)
    .sign(signer.key);
  return { ok: true, token };
}

class UnknownSigningKey extends Error {}

export async function verifyToken(
  token: string,
  snapshot: KeySnapshot,
  settings: Omit<TokenSettings, 'ttlSeconds'>,
  now: number,
  cache?: TokenCache,
): Promise<TokenCheck> {
  const cached = cache?.get(token);
  if (
    cached &&
    now / 1000 < cached.expiresAt + CLOCK_TOLERANCE_SECONDS &&
    snapshot.signingKeys.some((k) => k.key === cached.key && !isRetired(k, now))
  ) {
    return { ok: true, keyId: cached.keyId, scopes: cached.scopes };
  }
  if (!isCanonicalSignature(token)) {
    return {
      ok: false,
      error: authErrors.invalidToken(
        'its signature is not unpadded base64url: it was altered, or signed elsewhere',
      ),
    };
  }
  try {
    let verifiedWith: LoadedSigningKey | undefined;
    const { payload } = await jwtVerify(
      token,
      ({ kid }) => {
        verifiedWith = snapshot.signingKeys.find((k) => k.kid === kid && !isRetired(k, now));
        if (!verifiedWith) throw new UnknownSigningKey();
        return verifiedWith.key;
      },
      {
        algorithms: [ALGORITHM],
        typ: TOKEN_TYPE,
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      },
    );
    // jose checks iat only against a maximum age; a token from the future means a clock is off.
    if (payload.iat! > now / 1000 + CLOCK_TOLERANCE_SECONDS) {
      return { ok: false, error: authErrors.tokenNotYetValid(payload.iat! * 1000, now) };
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    cache?.set(token, {
      keyId: payload.sub!,
      scopes,
      expiresAt: payload.exp!,
      key: verifiedWith!.key,
    });
    return { ok: true, keyId: payload.sub!, scopes };
  } catch (error) {
    return { ok: false, error: refusal(error, token, now) };
  }
}

/**
 * jose decodes the signature leniently (padding, whitespace, the unused low bits of its last
 * character), so without this one signed token could be presented as several strings that all
 * verify: anything keyed by the token string (the token cache, a deny list) would take them for
 * different tokens.
 */
function isCanonicalSignature(token: string): boolean {
  const signature = token.slice(token.lastIndexOf('.') + 1);
  return Buffer.from(signature, 'base64url').toString('base64url') === signature;
}

function refusal(error: unknown, token: string, now: number): HttpError {
  if (error instanceof UnknownSigningKey) {
    return authErrors.invalidToken(
      'it was signed with a key this ChatBot no longer has, or by another ChatBot',
    );
  }
  if (error instanceof errors.JWTExpired) {
    return authErrors.expiredToken(Number(error.payload.exp) * 1000);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf')
      return authErrors.tokenNotYetValid(Number(error.payload.nbf) * 1000, now);
    if (error.reason === 'missing')
      return authErrors.invalidToken(`it has no "${error.claim}" claim`);
    const why: Record<string, string> = {
      aud: 'it was issued for another ChatBot',
      iss: 'it was not issued by a ClawBot runtime',
      typ: `its type is not ${TOKEN_TYPE}`,
    };
    return authErrors.invalidToken(why[error.claim] ?? `its "${error.claim}" claim is not valid`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return authErrors.invalidToken(
      `it is signed with ${algorithmOf(token)}; only ${ALGORITHM} is accepted`,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return authErrors.invalidToken(
      'its signature does not match: it was altered, or signed elsewhere',
    );
  }
  if (error instanceof errors.JOSEError)
    return authErrors.invalidToken('it is not a well-formed JWT');
  throw error;
}

function algorithmOf(token: string): string {
  try {
    return JSON.stringify(decodeProtectedHeader(token).alg ?? 'no algorithm');
  } catch {
    return 'an unreadable header';
  }
}
