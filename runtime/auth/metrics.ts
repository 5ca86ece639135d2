// clawbot_apikey_requests_total{namespace, chatbot, key_id, outcome}: one count per
// authentication attempt. key_id is a known key's id, "unknown" for any other (so forged ids
// cannot create series), or "none" without credentials; never key material, token ids or IPs.

import { Counter, type Registry } from 'prom-client';

const NAME = 'clawbot_apikey_requests_total';

export type AuthCounter = Counter<'namespace' | 'chatbot' | 'key_id' | 'outcome'>;

/** The counter in `registry`, created on first use (one per registry, however many callers). */
export function authRequestsCounter(registry: Registry): AuthCounter {
  const existing = registry.getSingleMetric(NAME);
  if (existing) return existing as AuthCounter;
  return new Counter({
    name: NAME,
    help: 'Authentication attempts with an API key or token, by key id and outcome ("ok" or the error code).',
    labelNames: ['namespace', 'chatbot', 'key_id', 'outcome'],
    registers: [registry],
  });
}
