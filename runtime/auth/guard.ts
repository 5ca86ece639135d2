// The guard in front of protected routes: it judges the request's bearer (a token from
// POST /api/auth or, where allowed, the API key itself) against the keys in force now, then
// the scope the route needs and the key's rate limit, audits the attempt, and either refuses
// or lets the route see who asked (principalOf).

import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Scope } from '../../common/runtime-secrets.ts';
import { sendError } from '../http-errors.ts';
import type { Audit, Credential } from './audit.ts';
import { authErrors } from './errors.ts';
import type { KeySnapshot, Principal } from './key-index.ts';
import type { KeyStore } from './key-store.ts';
import type { RateLimiter } from './rate-limit.ts';
import { authenticateApiKey, standingOf, type Verdict } from './standing.ts';
import { TokenCache } from './token-cache.ts';
import { type TokenSettings, verifyToken } from './tokens.ts';

export interface RequireOptions {
  /** Also accept the API key itself as the bearer, as OpenAI SDKs send it. */
  acceptApiKey?: boolean;
}

/** Makes the middleware for routes that need `scope`. */
export type Guard = (scope: Scope, options?: RequireOptions) => RequestHandler;

export interface GuardOptions {
  keys: KeyStore;
  /** Shared with POST /api/auth: exchanging a key spends the same allowance. */
  limiter: RateLimiter;
  audit: Audit;
  tokenSettings: Omit<TokenSettings, 'ttlSeconds'>;
}

/** Verified tokens remembered (about 200 bytes each): more than the clients of one replica. */
const TOKEN_CACHE_ENTRIES = 10_000;

// A JWT is three base64url segments; "alg: none" tokens have an empty last one.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const principals = new WeakMap<Response, Principal>();

/** Who the request acts as; only inside routes behind auth.require(). */
export function principalOf(res: Response): Principal {
  const principal = principals.get(res);
  if (!principal) throw new Error('principalOf() used on a route without auth.require()');
  return principal;
}

/** Scope and rate limit apply once the credential itself is good; no scope: any will do. */
export function admit(
  verdict: Verdict,
  scope: Scope | undefined,
  limiter: RateLimiter,
  now: number,
): Verdict {
  if (!verdict.ok) return verdict;
  const { principal } = verdict;
  if (scope !== undefined && !principal.scopes.includes(scope)) {
    return {
      ok: false,
      error: authErrors.missingScope(scope, principal.scopes),
      keyId: principal.keyId,
    };
  }
  const decision = limiter.take(principal.keyId, principal.requestsPerMinute, now);
  if (!decision.allowed) {
    const error = authErrors.rateLimited(
      principal.keyId,
      principal.requestsPerMinute,
      decision.retryAfterSeconds,
    );
    return { ok: false, error, keyId: principal.keyId };
  }
  return verdict;
}

export function createGuard({ keys, limiter, audit, tokenSettings }: GuardOptions): Guard {
  const verified = new TokenCache(TOKEN_CACHE_ENTRIES);

  async function judgeBearer(
    presented: string,
    snapshot: KeySnapshot,
    now: number,
    acceptApiKey: boolean,
  ): Promise<[Credential, Verdict]> {
    if (!JWT_SHAPE.test(presented)) {
      if (!acceptApiKey) return ['api_key', { ok: false, error: authErrors.apiKeyNotAccepted() }];
      return ['api_key', authenticateApiKey(presented, snapshot, now)];
    }
    const check = await verifyToken(presented, snapshot, tokenSettings, now, verified);
    if (!check.ok) return ['token', check];
    // The token proves who asked; whether the key still works is decided now: revocation,
    // expiry and rotation take effect without waiting for tokens to expire.
    const key = snapshot.keys.get(check.keyId);
    if (!key) {
      return [
        'token',
        { ok: false, error: authErrors.unknownKey(check.keyId), keyId: check.keyId },
      ];
    }
    const standing = standingOf(key, now);
    if (!standing.ok) return ['token', standing];
    // Scopes removed from the ApiKey since the token was issued are gone at once.
    const scopes = standing.principal.scopes.filter((s) => check.scopes.includes(s));
    return ['token', { ok: true, principal: { ...standing.principal, scopes } }];
  }

  return (scope, { acceptApiKey = false } = {}) =>
    async (req: Request, res: Response, next: NextFunction) => {
      const started = performance.now();
      const now = Date.now();
      const snapshot = keys.snapshot;
      // An empty header is what clients send when their key variable is unset: no credentials.
      const header = req.get('authorization')?.trim() || undefined;
      const match = header === undefined ? null : /^Bearer +(\S+)$/i.exec(header);
      const [credential, verdict]: [Credential, Verdict] =
        header === undefined
          ? ['none', { ok: false, error: authErrors.missingCredentials() }]
          : !match
            ? ['none', { ok: false, error: authErrors.badAuthorizationHeader() }]
            : await judgeBearer(match[1]!, snapshot, now, acceptApiKey);
      const result = admit(verdict, scope, limiter, now);
      audit(
        req,
        snapshot,
        credential,
        result.ok ? { keyId: result.principal.keyId } : result,
        started,
      );
      if (!result.ok) {
        sendError(res, result.error);
        return;
      }
      principals.set(res, result.principal);
      next();
    };
}
