// The authentication settings of a runtime process, read from the environment variables named in
// common/runtime-env.ts. The operator sets the directories and ChatBot names; a person running
// the runtime alone sets API_KEY.

import { looksLikeApiKey, parseApiKey } from '../../common/api-key.ts';
import {
  ConfigError,
  type Environment,
  readSetting,
  runtimeEnv,
  runtimeSettings as settings,
} from '../../common/runtime-env.ts';

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
  /** $RATE_LIMIT_RPM: the standalone key's requests per minute. */
  standaloneRequestsPerMinute: number;
}

/** The tokens' `iss`. The audience, not the issuer, tells ChatBots apart. */
export const TOKEN_ISSUER = 'clawbot-runtime';

/** Throws a ConfigError naming every invalid or conflicting variable. */
export function readAuthConfig(env: Environment): AuthConfig {
  const problems: string[] = [];
  const signingKeysDir = readSetting(env, settings.signingKeysDir, problems);
  const apiKeysDir = readSetting(env, settings.apiKeysDir, problems);
  const standaloneApiKey = readSetting(env, settings.apiKey, problems);
  const tokenTtlMs = readSetting(env, settings.tokenTTL, problems);
  const standaloneRequestsPerMinute = readSetting(env, settings.rateLimitRpm, problems);
  const namespace = readSetting(env, settings.chatBotNamespace, problems);
  const name = readSetting(env, settings.chatBotName, problems);
  const { apiKey, apiKeysDir: keysDir, signingKeysDir: signingDir } = runtimeEnv;

  if (apiKeysDir !== undefined && standaloneApiKey !== undefined) {
    problems.push(
      `${apiKey} and ${keysDir} are both set: use ${apiKey} only when running without the ` +
        'operator, and unset it where the operator manages keys',
    );
  }
  if (apiKeysDir !== undefined && signingKeysDir === undefined) {
    problems.push(
      `${keysDir} is set but ${signingDir} is not: the apikey-pepper needed to check the ` +
        `verifier hashes is in the ChatBot Secret; mount it and set ${signingDir}`,
    );
  }
  if (standaloneApiKey !== undefined && looksLikeApiKey(standaloneApiKey)) {
    const parsed = parseApiKey(standaloneApiKey);
    if (!parsed.ok) {
      problems.push(`${apiKey} starts like a ClawBot key but is not one: ${parsed.message}`);
    }
  }
  if ((namespace === undefined) !== (name === undefined)) {
    problems.push(
      `set both ${runtimeEnv.chatBotNamespace} and ${runtimeEnv.chatBotName}, or neither (standalone)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const chatBot = namespace && name ? { namespace, name } : undefined;
  return {
    signingKeysDir,
    apiKeysDir,
    standaloneApiKey,
    tokenTtlSeconds: Math.floor(tokenTtlMs / 1000),
    chatBot,
    audience: chatBot ? `${chatBot.namespace}/${chatBot.name}` : 'standalone',
    standaloneRequestsPerMinute,
  };
}
