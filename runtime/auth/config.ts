// The authentication settings of a runtime process, read from its environment. The operator sets
// the directories and ChatBot names; a person running the runtime alone sets API_KEY.

import { looksLikeApiKey, parseApiKey } from '../../common/api-key.ts';
import { parseDuration } from '../../common/duration.ts';

export interface AuthConfig {
  /** $SIGNING_KEYS_DIR: the ChatBot Secret (signing-keys.json, apikey-pepper). */
  signingKeysDir?: string;
  /** $API_KEYS_DIR: the verifier Secret, one <ApiKey name>.json per ApiKey. */
  apiKeysDir?: string;
  /** $API_KEY: standalone mode's single key (any string, or a ClawBot key), all scopes. */
  standaloneApiKey?: string;
  /** $TOKEN_TTL (a duration such as "24h"): the lifetime of tokens from POST /api/auth. */
  tokenTtlSeconds: number;
  /** $CHATBOT_NAMESPACE and $CHATBOT_NAME, absent when standalone. */
  chatBot?: { namespace: string; name: string };
  /** The tokens' `aud`: "<namespace>/<name>" of the ChatBot, or "standalone". */
  audience: string;
  /** $RATE_LIMIT_RPM (default 1000): the standalone key's requests per minute. */
  standaloneRequestsPerMinute: number;
}

/** The tokens' `iss`. The audience, not the issuer, tells ChatBots apart. */
export const TOKEN_ISSUER = 'clawbot-runtime';

const DEFAULT_TOKEN_TTL = '24h';
const DEFAULT_RATE_LIMIT_RPM = 1000;

export function readAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  const get = (name: string) => (env[name] === '' ? undefined : env[name]);
  const signingKeysDir = get('SIGNING_KEYS_DIR');
  const apiKeysDir = get('API_KEYS_DIR');
  const standaloneApiKey = get('API_KEY');

  if (apiKeysDir !== undefined && standaloneApiKey !== undefined) {
    throw new Error(
      'API_KEY and API_KEYS_DIR are both set: use API_KEY only when running without the ' +
        'operator, and unset it where the operator manages keys',
    );
  }
  if (apiKeysDir !== undefined && signingKeysDir === undefined) {
    throw new Error(
      'API_KEYS_DIR is set but SIGNING_KEYS_DIR is not: the apikey-pepper needed to check the ' +
        'verifier hashes is in the ChatBot Secret; mount it and set SIGNING_KEYS_DIR',
    );
  }

  if (standaloneApiKey !== undefined && looksLikeApiKey(standaloneApiKey)) {
    const parsed = parseApiKey(standaloneApiKey);
    if (!parsed.ok)
      throw new Error(`API_KEY starts like a ClawBot key but is not one: ${parsed.message}`);
  }

  const namespace = get('CHATBOT_NAMESPACE');
  const name = get('CHATBOT_NAME');
  if ((namespace === undefined) !== (name === undefined)) {
    throw new Error('set both CHATBOT_NAMESPACE and CHATBOT_NAME, or neither (standalone)');
  }
  const chatBot = namespace && name ? { namespace, name } : undefined;

  return {
    signingKeysDir,
    apiKeysDir,
    standaloneApiKey,
    tokenTtlSeconds: tokenTtl(get('TOKEN_TTL') ?? DEFAULT_TOKEN_TTL),
    chatBot,
    audience: chatBot ? `${chatBot.namespace}/${chatBot.name}` : 'standalone',
    standaloneRequestsPerMinute: requestsPerMinute(get('RATE_LIMIT_RPM')),
  };
}

function tokenTtl(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    throw new Error(`TOKEN_TTL: ${(error as Error).message}`, { cause: error });
  }
  if (ms < 1000) throw new Error(`TOKEN_TTL must be at least 1s, not "${text}"`);
  return Math.floor(ms / 1000);
}

function requestsPerMinute(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RATE_LIMIT_RPM;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) {
    throw new Error(
      `RATE_LIMIT_RPM must be a whole number of requests per minute, at least 1, not "${text}"`,
    );
  }
  return value;
}
