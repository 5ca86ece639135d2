import { expect } from 'chai';
import {
  defaultOf,
  type Environment,
  readSetting,
  type RuntimeSetting,
  runtimeSettings,
} from '../../common/runtime-env.ts';
import { withDefaults } from '../api/defaults.ts';
import { apiKeySpec } from '../api/apikey.ts';
import type { ApiKeySpec } from '../api/types.generated.ts';
import { ggufSource, resolvedChatBot } from '../../test/support/chatbots.ts';
import { runtimeConfig } from './desired-config.ts';

// The runtime's settings table is the one home of each default; these tests fail when the CRD
// (through the API server's defaulting, which withDefaults mirrors) or the operator's ConfigMap
// would give a runtime other values than the runtime gives itself.
describe('a ChatBot left at its defaults', () => {
  const env: Environment = runtimeConfig(resolvedChatBot({ model: { source: ggufSource } }));
  const all: [string, RuntimeSetting<unknown>][] = Object.entries(runtimeSettings);
  const withDefault = all.filter(
    (entry): entry is [string, RuntimeSetting<unknown, string | number | boolean>] =>
      entry[1].default !== undefined,
  );

  for (const [key, setting] of withDefault) {
    it(`configures ${setting.env} as the runtime's own default`, () => {
      const problems: string[] = [];
      expect(readSetting(env, setting, problems), key).to.deep.equal(defaultOf(setting));
      expect(problems).to.deep.equal([]);
    });
  }

  it('leaves unset only the settings a ChatBot has no field for', () => {
    const unset = withDefault.filter(([, s]) => env[s.env] === undefined).map(([key]) => key);
    // PREFILL_CHUNK_TOKENS and MAX_CONNECTIONS are tuned through spec.runtime.env;
    // RATE_LIMIT_RPM is standalone only.
    expect(unset).to.have.members(['maxConnections', 'prefillChunkTokens', 'rateLimitRpm']);
  });

  it("gives an ApiKey the runtime's standalone rate limit", () => {
    const spec = withDefaults(apiKeySpec, {
      chatBotRef: { name: 'bot' },
      secretName: 'bot-key',
    }) as ApiKeySpec;
    expect(spec.rateLimit.requestsPerMinute).to.equal(defaultOf(runtimeSettings.rateLimitRpm));
  });
});
