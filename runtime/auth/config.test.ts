import { expect } from 'chai';
import { generateApiKey } from '../../common/api-key.ts';
import { readAuthConfig } from './config.ts';

describe('auth config from the environment', () => {
  it('reads operator mode', () => {
    const config = readAuthConfig({
      SIGNING_KEYS_DIR: '/var/run/clawbot/signing',
      API_KEYS_DIR: '/var/run/clawbot/apikeys',
      CHATBOT_NAMESPACE: 'team-a',
      CHATBOT_NAME: 'helper',
      TOKEN_TTL: '1h30m',
    });
    expect(config).to.deep.include({
      signingKeysDir: '/var/run/clawbot/signing',
      apiKeysDir: '/var/run/clawbot/apikeys',
      tokenTtlSeconds: 5400,
      audience: 'team-a/helper',
      chatBot: { namespace: 'team-a', name: 'helper' },
    });
  });

  it('defaults to standalone, a 24 h token TTL and 1000 requests per minute', () => {
    const config = readAuthConfig({ API_KEY: 'k', TOKEN_TTL: '' });
    expect(config).to.deep.include({
      standaloneApiKey: 'k',
      audience: 'standalone',
      tokenTtlSeconds: 86400,
      standaloneRequestsPerMinute: 1000,
    });
  });

  const refusals: [Record<string, string>, RegExp][] = [
    [
      { API_KEY: 'k', API_KEYS_DIR: '/a', SIGNING_KEYS_DIR: '/s' },
      /API_KEY and API_KEYS_DIR are both set/,
    ],
    [{ API_KEYS_DIR: '/a' }, /SIGNING_KEYS_DIR is not.*apikey-pepper/],
    [{ CHATBOT_NAME: 'helper' }, /set both CHATBOT_NAMESPACE and CHATBOT_NAME/],
    [{ TOKEN_TTL: '1d' }, /TOKEN_TTL="1d": invalid duration "1d"/],
    [{ TOKEN_TTL: '500ms' }, /TOKEN_TTL="500ms": must be at least 1s/],
    [{ RATE_LIMIT_RPM: '0' }, /RATE_LIMIT_RPM="0": must be a whole number/],
    [{ RATE_LIMIT_RPM: '2.5' }, /RATE_LIMIT_RPM="2.5": must be a whole number/],
    [
      { API_KEY: generateApiKey().key.slice(0, -1) },
      /API_KEY starts like a ClawBot key but is not one/,
    ],
  ];
  for (const [env, message] of refusals) {
    it(`refuses ${JSON.stringify(env).slice(0, 60)}, saying what to change`, () => {
      expect(() => readAuthConfig(env)).to.throw(message);
    });
  }
});
