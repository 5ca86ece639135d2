// The runtime's authentication, as express pieces the HTTP server mounts:
//
//   const auth = await createAuth({ registry, logger });
//   app.use(auth.router);                                   // POST /api/auth → token
//   app.get('/v1/models', auth.require('models', { acceptApiKey: true }), listModels);
//   app.post('/v1/chat/completions', auth.require('chat', { acceptApiKey: true }), chat);
//   app.use(httpErrorHandler(logger));                      // from runtime/http-errors.ts
//   ...
//   auth.close();
//
// Every attempt is audited (one log line: key id, endpoint, outcome, latency; never the key,
// the token or the hash) and counted in clawbot_apikey_requests_total.

import { performance } from 'node:perf_hooks';
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import { register as defaultRegistry, type Registry } from 'prom-client';
import { createLogger, type Logger } from '../../common/log.ts';
import type { Scope } from '../../common/runtime-secrets.ts';
import { type HttpError, sendError, toHttpError } from '../http-errors.ts';
import { type AuthConfig, readAuthConfig, TOKEN_ISSUER } from './config.ts';
import { authErrors } from './errors.ts';
import type { KeySnapshot, Principal } from './key-index.ts';
import { KeyStore } from './key-store.ts';
import { authRequestsCounter } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import { authenticateApiKey, standingOf, type Verdict } from './standing.ts';
import { TokenCache } from './token-cache.ts';
import { issueToken, verifyToken } from './tokens.ts';

export type { Principal } from './key-index.ts';

export interface AuthOptions {
  /** Where the settings come from (see config.ts); process.env by default. */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Registry for clawbot_apikey_requests_total; prom-client's default registry otherwise. */
  registry?: Registry;
  /** Re-read the mounted key directories at least this often (default 30 s). */
  reloadIntervalMs?: number;
}

export interface RequireOptions {
  /** Also accept the API key itself as the bearer, as OpenAI SDKs send it. */
  acceptApiKey?: boolean;
}

export interface Auth {
  /** Serves POST /api/auth; mount it before any body parser of the app's own. */
  router: Router;
  /** Middleware admitting requests whose token (or key) is valid, has `scope`, and is in limit. */
  require(scope: Scope, options?: RequireOptions): RequestHandler;
  config: AuthConfig;
  keys: KeyStore;
  /** Stops watching the key directories. */
  close(): void;
}

/** Verified tokens remembered (about 200 bytes each): more than the clients of one replica. */
const TOKEN_CACHE_ENTRIES = 10_000;

/** The largest POST /api/auth body accepted: a key is 54 characters. */
export const AUTH_BODY_LIMIT = 4096;

// A JWT is three base64url segments; "alg: none" tokens have an empty last one.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type Credential = 'api_key' | 'token' | 'none';

const principals = new WeakMap<Response, Principal>();
const arrivals = new WeakMap<Request, number>();

/** Who the request acts as; only inside routes behind auth.require(). */
export function principalOf(res: Response): Principal {
  const principal = principals.get(res);
  if (!principal) throw new Error('principalOf() used on a route without auth.require()');
  return principal;
}

export async function createAuth(options: AuthOptions = {}): Promise<Auth> {
  const config = readAuthConfig(options.env ?? process.env);
  const log = options.logger ?? createLogger('auth');
  const keys = await KeyStore.open(config, log, { reloadIntervalMs: options.reloadIntervalMs });
  const counter = authRequestsCounter(options.registry ?? defaultRegistry);
  const limiter = new RateLimiter();
  const verified = new TokenCache(TOKEN_CACHE_ENTRIES);
  const tokenSettings = {
    issuer: TOKEN_ISSUER,
    audience: config.audience,
    ttlSeconds: config.tokenTtlSeconds,
  };
  const chatBotLabels = {
    namespace: config.chatBot?.namespace ?? '',
    chatbot: config.chatBot?.name ?? 'standalone',
  };

  // Scope and rate limit apply once the credential itself is good.
  function admit(verdict: Verdict, scope: Scope | undefined, now: number): Verdict {
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

  function audit(
    req: Request,
    snapshot: KeySnapshot,
    credential: Credential,
    outcome: { keyId?: string; error?: HttpError },
    started: number,
  ): void {
    const { keyId, error } = outcome;
    const known = keyId === undefined ? undefined : snapshot.keys.get(keyId);
    const code = error?.code ?? (error ? `http_${error.status}` : 'ok');
    counter.inc({
      ...chatBotLabels,
      key_id: known ? known.keyId : credential === 'none' ? 'none' : 'unknown',
      outcome: code,
    });
    log.info('authentication', {
      keyId: keyId ?? null,
      apiKey: known?.apiKey ?? null,
      endpoint: `${req.method} ${req.originalUrl.split('?')[0]}`, // the query may carry anything
      credential,
      outcome: code,
      status: error?.status ?? 200,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }

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

  function requireAuth(
    scope: Scope,
    { acceptApiKey = false }: RequireOptions = {},
  ): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
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
      const result = admit(verdict, scope, now);
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

  async function exchangeKey(req: Request, res: Response): Promise<void> {
    const started = arrivals.get(req) ?? performance.now();
    const now = Date.now();
    const snapshot = keys.snapshot;
    const body: unknown = req.body;
    const refuse = (error: HttpError) => {
      audit(req, snapshot, 'none', { error }, started);
      sendError(res, error);
    };
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return refuse(authErrors.bodyNotJson());
    }
    if (!('api_key' in body)) return refuse(authErrors.missingApiKeyField());
    if (typeof body.api_key !== 'string') return refuse(authErrors.apiKeyFieldNotString());

    let result = admit(authenticateApiKey(body.api_key, snapshot, now), undefined, now);
    if (result.ok) {
      const issued = await issueToken(result.principal, snapshot, tokenSettings, now);
      if (issued.ok) {
        audit(req, snapshot, 'api_key', { keyId: result.principal.keyId }, started);
        res
          .set('Cache-Control', 'no-store')
          .json({ token: issued.token, expires_in: config.tokenTtlSeconds });
        return;
      }
      log.error('cannot issue tokens: no signing key is usable', {
        kids: snapshot.signingKeys.map((k) => k.kid),
      });
      result = { ok: false, error: issued.error, keyId: result.principal.keyId };
    }
    audit(req, snapshot, 'api_key', result, started);
    sendError(res, result.error);
  }

  const router = express.Router();
  const arrive: RequestHandler = (req, _res, next) => {
    arrivals.set(req, performance.now());
    next();
  };
  router.post('/api/auth', arrive, express.json({ limit: AUTH_BODY_LIMIT }), exchangeKey);
  // Body errors (malformed JSON, too large) are attempts too; answered here so that no other
  // handler can echo the body, which may hold the key.
  router.use('/api/auth', (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const httpError = toHttpError(error);
    audit(req, keys.snapshot, 'none', { error: httpError }, arrivals.get(req) ?? performance.now());
    sendError(res, httpError);
  });

  return { router, require: requireAuth, config, keys, close: () => keys.close() };
}
