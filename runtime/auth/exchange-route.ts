// POST /api/auth: {"api_key": "..."} → {"token": "...", "expires_in": seconds}. The key is
// judged as at the guard (standing, then the key's rate limit, no scope needed), and every
// attempt is audited, malformed and oversized bodies included.

import { performance } from 'node:perf_hooks';
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import type { Logger } from '../../common/log.ts';
import { type HttpError, sendError, toHttpError } from '../http-errors.ts';
import { jsonBody } from '../json-body.ts';
import { requestLogger } from '../request-id.ts';
import type { Audit } from './audit.ts';
import { authErrors } from './errors.ts';
import { admit } from './guard.ts';
import type { KeyStore } from './key-store.ts';
import type { RateLimiter } from './rate-limit.ts';
import { authenticateApiKey } from './standing.ts';
import { issueToken, type TokenSettings } from './tokens.ts';

/** The largest POST /api/auth body accepted: a key is 54 characters. */
export const AUTH_BODY_LIMIT = 4096;

export interface ExchangeRouteOptions {
  keys: KeyStore;
  /** Shared with the guard: exchanging a key spends the same allowance. */
  limiter: RateLimiter;
  audit: Audit;
  tokenSettings: TokenSettings;
  log: Logger;
}

export function exchangeRoute({
  keys,
  limiter,
  audit,
  tokenSettings,
  log,
}: ExchangeRouteOptions): Router {
  // When each request arrived, so the audited latency includes reading the body.
  const arrivals = new WeakMap<Request, number>();

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

    let result = admit(authenticateApiKey(body.api_key, snapshot, now), undefined, limiter, now);
    if (result.ok) {
      const issued = await issueToken(result.principal, snapshot, tokenSettings, now);
      if (issued.ok) {
        audit(req, snapshot, 'api_key', { keyId: result.principal.keyId }, started);
        res
          .set('Cache-Control', 'no-store')
          .json({ token: issued.token, expires_in: tokenSettings.ttlSeconds });
        return;
      }
      requestLogger(req, log).error('cannot issue tokens: no signing key is usable', {
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
  router.post('/api/auth', arrive, jsonBody(AUTH_BODY_LIMIT), exchangeKey);
  // Body errors (malformed JSON, too large) are attempts too; answered here so that no other
  // handler can echo the body, which may hold the key.
  router.use('/api/auth', (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const httpError = toHttpError(error);
    audit(req, keys.snapshot, 'none', { error: httpError }, arrivals.get(req) ?? performance.now());
    sendError(res, httpError);
  });
  return router;
}
