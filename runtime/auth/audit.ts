// The audit of every authentication attempt, whether at the guard or at POST /api/auth: one log
// line (key id, ApiKey, endpoint, outcome, latency; never the key, the token or the hash) and
// one count in clawbot_apikey_requests_total.

import { performance } from 'node:perf_hooks';
import type { Request } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import type { HttpError } from '../http-errors.ts';
import { requestLogger } from '../request-id.ts';
import type { AuthConfig } from './config.ts';
import type { KeySnapshot } from './key-index.ts';
import { authRequestsCounter } from './metrics.ts';

/** What the request presented: an API key, a token, or nothing usable. */
export type Credential = 'api_key' | 'token' | 'none';

export interface AuditOutcome {
  /** The key id the credential claimed, when it had one. */
  keyId?: string;
  /** Why the attempt was refused; absent when it succeeded. */
  error?: HttpError;
}

/** Records one attempt; `started` is its performance.now() at arrival. */
export type Audit = (
  req: Request,
  snapshot: KeySnapshot,
  credential: Credential,
  outcome: AuditOutcome,
  started: number,
) => void;

export function createAudit(
  chatBot: AuthConfig['chatBot'],
  log: Logger,
  registry: Registry,
): Audit {
  const counter = authRequestsCounter(registry);
  const chatBotLabels = {
    namespace: chatBot?.namespace ?? '',
    chatbot: chatBot?.name ?? 'standalone',
  };
  return (req, snapshot, credential, { keyId, error }, started) => {
    const known = keyId === undefined ? undefined : snapshot.keys.get(keyId);
    const code = error?.code ?? (error ? `http_${error.status}` : 'ok');
    counter.inc({
      ...chatBotLabels,
      key_id: known ? known.keyId : credential === 'none' ? 'none' : 'unknown',
      outcome: code,
    });
    requestLogger(req, log).info('authentication', {
      keyId: keyId ?? null,
      apiKeyName: known?.apiKeyName ?? null,
      endpoint: `${req.method} ${req.originalUrl.split('?')[0]}`, // the query may carry anything
      credential,
      outcome: code,
      status: error?.status ?? 200,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  };
}
