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
// The pieces: the key exchange (exchange-route.ts), the guard of protected routes (guard.ts),
// both auditing every attempt (audit.ts) against the keys the store keeps current (key-store.ts).

import type { Router } from 'express';
import { register as defaultRegistry, type Registry } from 'prom-client';
import { createLogger, type Logger } from '../../common/log.ts';
import { createAudit } from './audit.ts';
import { type AuthConfig, readAuthConfig, TOKEN_ISSUER } from './config.ts';
import { exchangeRoute } from './exchange-route.ts';
import { createGuard, type Guard } from './guard.ts';
import { KeyStore } from './key-store.ts';
import { RateLimiter } from './rate-limit.ts';

export type { Principal } from './key-index.ts';
export { principalOf, type RequireOptions } from './guard.ts';
export { AUTH_BODY_LIMIT } from './exchange-route.ts';

export interface AuthOptions {
  /** Where the settings come from (see config.ts); process.env by default. */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Registry for clawbot_apikey_requests_total; prom-client's default registry otherwise. */
  registry?: Registry;
  /** Re-read the mounted key directories at least this often (default 30 s). */
  reloadIntervalMs?: number;
}

export interface Auth {
  /** Serves POST /api/auth; mount it before any body parser of the app's own. */
  router: Router;
  /** Middleware admitting requests whose token (or key) is valid, has `scope`, and is in limit. */
  require: Guard;
  config: AuthConfig;
  keys: KeyStore;
  /** Stops watching the key directories. */
  close(): void;
}

export async function createAuth(options: AuthOptions = {}): Promise<Auth> {
  const config = readAuthConfig(options.env ?? process.env);
  const log = options.logger ?? createLogger('auth');
  const keys = await KeyStore.open(config, log, { reloadIntervalMs: options.reloadIntervalMs });
  const audit = createAudit(config.chatBot, log, options.registry ?? defaultRegistry);
  const limiter = new RateLimiter();
  const tokenSettings = {
    issuer: TOKEN_ISSUER,
    audience: config.audience,
    ttlSeconds: config.tokenTtlSeconds,
  };
  return {
    router: exchangeRoute({ keys, limiter, audit, tokenSettings, log }),
    require: createGuard({ keys, limiter, audit, tokenSettings }),
    config,
    keys,
    close: () => keys.close(),
  };
}
