import { expect } from 'chai';
import { generateApiKey } from '../../common/api-key.ts';
import { AUTH_BODY_LIMIT } from './index.ts';
import { TestChatBot } from '../../test/support/auth-chatbot.ts';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('runtime auth over HTTP (operator mode)', () => {
  let bot: TestChatBot;
  afterEach(async () => {
    const leaks = bot.leaks();
    await bot.close();
    expect(leaks, 'secrets in responses or logs').to.deep.equal([]);
  });

  it('has a leak detector that finds a key in a log line (the check every test ends with)', async () => {
    bot = await TestChatBot.start();
    const { key } = bot.addKey('reader');
    bot.logs.push(JSON.stringify({ msg: 'oops', key }));
    expect(bot.leaks()).to.have.length(1);
    bot.logs.pop();
  });

  it('exchanges a key for a token that opens protected routes', async () => {
    bot = await TestChatBot.start();
    const { key, keyId } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();

    const issued = await bot.exchange(key);
    expect(issued.status).to.equal(200);
    expect(issued.headers.get('cache-control')).to.equal('no-store');
    expect(issued.body.expires_in).to.equal(86400);
    expect(Object.keys(issued.body).sort()).to.deep.equal(['expires_in', 'token']);
    bot.secrets.add(issued.body.token);

    const me = await bot.get('/api/whoami', issued.body.token);
    expect(me.status).to.equal(200);
    expect(me.body).to.deep.equal({
      keyId,
      apiKeyName: 'reader',
      scopes: ['chat', 'models'],
      requestsPerMinute: 1000,
    });
  });

  it('puts the ChatBot, key id, scopes and a 24 h lifetime into the token', async () => {
    bot = await TestChatBot.start();
    const { key, keyId } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const token = await bot.token(key);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).to.deep.equal({ alg: 'HS256', kid: bot.signingKeys[0]!.kid, typ: 'at+jwt' });
    expect(payload).to.include({
      iss: 'clawbot-runtime',
      aud: 'team-a/helper',
      sub: keyId,
      scope: 'chat models',
    });
    expect(payload.exp - payload.iat).to.equal(86400);
    expect(payload.jti).to.match(/^[0-9a-f-]{36}$/);
  });

  it('accepts the API key itself as the bearer on OpenAI-style routes only', async () => {
    bot = await TestChatBot.start();
    const { key, keyId } = bot.addKey('sdk-user');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();

    const models = await bot.get('/v1/models', key);
    expect(models.status).to.equal(200);
    expect(models.body.keyId).to.equal(keyId);
    const chat = await bot.call('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(chat.status).to.equal(200);

    const tokenOnly = await bot.get('/api/whoami', key);
    expect(tokenOnly.status).to.equal(401);
    expect(tokenOnly.body.error).to.include({
      code: 'api_key_not_accepted',
      type: 'authentication_error',
    });
    expect(tokenOnly.body.error.message).to.match(/POSTing \{"api_key": "..."\} to \/api\/auth/);
  });

  it('refuses keys that are revoked, expired, rotated out, not yet valid, unknown or mistyped', async () => {
    bot = await TestChatBot.start();
    const now = Date.now();
    const revoked = bot.addKey('a', { state: 'Revoked' });
    const expired = bot.addKey('b', { notBefore: iso(now - 48 * HOUR), notAfter: iso(now - HOUR) });
    const retired = bot.addKey('c', { state: 'Retiring', retireAfter: iso(now - 60_000) });
    const early = bot.addKey('d', { notBefore: iso(now + HOUR), notAfter: iso(now + 48 * HOUR) });
    const good = bot.addKey('e');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const stranger = generateApiKey();
    bot.secrets.add(stranger.key);
    const forged = `cbk_${good.keyId}_${stranger.key.slice(-38)}`;
    bot.secrets.add(forged);
    const typo = good.key.slice(0, 30) + (good.key[30] === 'x' ? 'y' : 'x') + good.key.slice(31);
    bot.secrets.add(typo);

    const cases: [string, string, RegExp][] = [
      [
        revoked.key,
        'revoked_api_key',
        new RegExp(`${revoked.keyId} \\(ApiKey a\\) has been revoked`),
      ],
      [expired.key, 'expired_api_key', new RegExp(`expired at ${iso(now - HOUR).slice(0, 16)}`)],
      [
        retired.key,
        'retired_api_key',
        /rotated out .*current key is in the consumer Secret \(api-key\)/,
      ],
      [early.key, 'api_key_not_yet_valid', /valid only from .*NTP/],
      [stranger.key, 'invalid_api_key', new RegExp(`key id ${stranger.keyId}\\) is not known`)],
      [forged, 'malformed_api_key', /checksum does not match/],
      [typo, 'malformed_api_key', /mistyped or cut short/],
      ['sk-not-ours', 'malformed_api_key', /not a ClawBot API key/],
    ];
    for (const [key, code, message] of cases) {
      for (const reply of [await bot.exchange(key), await bot.get('/v1/models', key)]) {
        expect(reply.status, code).to.equal(401);
        expect(reply.body.error.code).to.equal(code);
        expect(reply.body.error.type).to.equal('authentication_error');
        expect(reply.body.error.message).to.match(message);
        expect(reply.headers.get('www-authenticate')).to.match(/^Bearer realm="clawbot"/);
      }
    }
    expect((await bot.exchange(good.key)).status).to.equal(200);
  });

  it('stops a token at once when its key is revoked, expires or is rotated out', async () => {
    bot = await TestChatBot.start();
    const { key, keyId } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const token = await bot.token(key);
    expect((await bot.get('/api/whoami', token)).status).to.equal(200);

    const steps: [Parameters<TestChatBot['updateKey']>[1], string][] = [
      [{ state: 'Retiring', retireAfter: iso(Date.now() - 1000) }, 'retired_api_key'],
      [
        { state: 'Active', retireAfter: undefined, notAfter: iso(Date.now() - 1000) },
        'expired_api_key',
      ],
      [{ state: 'Revoked', notAfter: iso(Date.now() + HOUR) }, 'revoked_api_key'],
    ];
    for (const [change, code] of steps) {
      bot.updateKey(keyId, change);
      await bot.writeVerifiers();
      await bot.auth.keys.reload();
      const reply = await bot.get('/api/whoami', token);
      expect(reply.status, code).to.equal(401);
      expect(reply.body.error.code).to.equal(code);
    }
    bot.verifiers.clear();
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    expect((await bot.get('/api/whoami', token)).body.error.code).to.equal('invalid_api_key');
  });

  it('answers 403 naming the scope a key lacks', async () => {
    bot = await TestChatBot.start();
    const { key } = bot.addKey('lister', {}, { scopes: ['models'] });
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const token = await bot.token(key);
    expect((await bot.get('/v1/models', token)).status).to.equal(200);
    const chat = await bot.call('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(chat.status).to.equal(403);
    expect(chat.body.error).to.include({
      type: 'permission_error',
      code: 'missing_scope',
      param: 'chat',
    });
    expect(chat.body.error.message).to.match(/needs the scope "chat".*it has: models/);
  });

  it('limits each key to its requests per minute with 429 and Retry-After', async () => {
    bot = await TestChatBot.start();
    const limited = bot.addKey('slow', {}, { requestsPerMinute: 2 });
    const other = bot.addKey('fast');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    expect((await bot.get('/v1/models', limited.key)).status).to.equal(200);
    expect((await bot.get('/v1/models', limited.key)).status).to.equal(200);
    const third = await bot.get('/v1/models', limited.key);
    expect(third.status).to.equal(429);
    expect(third.body.error).to.include({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 30); // one request per 30 s refills
    expect(third.body.error.message).to.include(`retry in ${retryAfter} s`);
    expect((await bot.get('/v1/models', other.key)).status).to.equal(200);
  });

  it('answers bad /api/auth bodies with the right 4xx and keeps serving', async () => {
    bot = await TestChatBot.start();
    const { key } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const cases: [string | undefined, number, string, string | null][] = [
      [`{"api_key": "${key}"`, 400, 'invalid_json', null],
      ['{}', 400, 'missing_parameter', 'api_key'],
      ['{"api_key": 42}', 400, 'invalid_type', 'api_key'],
      ['{"api_key": null}', 400, 'invalid_type', 'api_key'],
      ['[]', 400, 'invalid_json', null],
      [
        JSON.stringify({ api_key: key, padding: 'x'.repeat(AUTH_BODY_LIMIT) }),
        413,
        'request_too_large',
        null,
      ],
    ];
    for (const [raw, status, code, param] of cases) {
      const reply = await bot.exchange(key, raw);
      expect(reply.status, raw).to.equal(status);
      expect(reply.body.error).to.include({ code, param, type: 'invalid_request_error' });
    }
    const notJson = await bot.call('/api/auth', { method: 'POST', body: `api_key=${key}` });
    expect(notJson.status).to.equal(400);
    expect(notJson.body.error.message).to.match(/Content-Type: application\/json/);
    expect((await bot.exchange(key)).status).to.equal(200);
  });

  it('refuses requests without credentials or with a malformed Authorization header', async () => {
    bot = await TestChatBot.start();
    const none = await bot.call('/v1/models');
    expect(none.status).to.equal(401);
    expect(none.body.error.code).to.equal('missing_credentials');
    const empty = await bot.call('/v1/models', { headers: { authorization: '' } });
    expect(empty.body.error.code).to.equal('missing_credentials');
    const basic = await bot.call('/v1/models', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(basic.body.error.code).to.equal('invalid_authorization_header');
  });

  it('audits every attempt in one line and counts it by key id and outcome', async () => {
    bot = await TestChatBot.start();
    const { key, keyId } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const stranger = generateApiKey();
    bot.secrets.add(stranger.key);
    const started = performance.now();
    await bot.exchange(key);
    await bot.get('/v1/models', stranger.key);
    await bot.call('/v1/models');
    await bot.exchange(key, '{oops');
    const elapsedMs = performance.now() - started;

    const lines = bot.audits();
    expect(lines).to.have.length(4);
    expect(lines[0]).to.include({
      keyId,
      apiKeyName: 'reader',
      endpoint: 'POST /api/auth',
      outcome: 'ok',
      status: 200,
    });
    expect(lines[1]).to.include({
      keyId: stranger.keyId,
      endpoint: 'GET /v1/models',
      outcome: 'invalid_api_key',
    });
    expect(lines[2]).to.include({
      keyId: null,
      credential: 'none',
      outcome: 'missing_credentials',
    });
    expect(lines[3]).to.include({
      endpoint: 'POST /api/auth',
      outcome: 'invalid_json',
      status: 400,
    });
    // Each attempt took some time, and no longer than the four requests took together.
    for (const line of lines) expect(line.latencyMs).to.be.greaterThan(0).and.at.most(elapsedMs);

    const metrics = await bot.registry.metrics();
    const series = (labels: string) =>
      `clawbot_apikey_requests_total{namespace="team-a",chatbot="helper",${labels}} 1`;
    expect(metrics).to.include(series(`key_id="${keyId}",outcome="ok"`));
    expect(metrics).to.include(series('key_id="unknown",outcome="invalid_api_key"'));
    expect(metrics).to.include(series('key_id="none",outcome="missing_credentials"'));
    expect(metrics).to.not.include(stranger.keyId);
  });
});

describe('runtime auth over HTTP (standalone)', () => {
  let bot: TestChatBot;
  afterEach(async () => {
    const leaks = bot.leaks();
    await bot.close();
    expect(leaks, 'secrets in responses or logs').to.deep.equal([]);
  });

  const standalone = (env: Record<string, string>) =>
    TestChatBot.start({
      SIGNING_KEYS_DIR: '',
      API_KEYS_DIR: '',
      CHATBOT_NAMESPACE: '',
      CHATBOT_NAME: '',
      ...env,
    });

  it('accepts API_KEY (any string) with all scopes, signing with an in-memory key', async () => {
    const key = 'my local dev key';
    bot = await standalone({ API_KEY: key });
    bot.secrets.add(key);
    expect(bot.logs.some((l) => l.includes('stop working when this process restarts'))).to.equal(
      true,
    );
    const token = await bot.token(key);
    const me = await bot.get('/api/whoami', token);
    expect(me.body).to.deep.equal({
      keyId: 'standalone',
      apiKeyName: 'standalone',
      scopes: ['chat', 'models'],
      requestsPerMinute: 1000,
    });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(payload.aud).to.equal('standalone');
    expect((await bot.exchange('my local dev kez')).body.error.code).to.equal('invalid_api_key');
    expect((await bot.exchange('cbk_typo')).body.error.code).to.equal('malformed_api_key');
  });

  it('accepts a ClawBot-format API_KEY under its own key id, as bearer too', async () => {
    const { key, keyId } = generateApiKey();
    bot = await standalone({ API_KEY: key, TOKEN_TTL: '90m' });
    bot.secrets.add(key);
    expect((await bot.exchange(key)).body.expires_in).to.equal(5400);
    expect((await bot.get('/v1/models', key)).body.keyId).to.equal(keyId);
  });

  it('applies RATE_LIMIT_RPM to the standalone key', async () => {
    bot = await standalone({ API_KEY: 'k-123', RATE_LIMIT_RPM: '1' });
    bot.secrets.add('k-123');
    expect((await bot.get('/v1/models', 'k-123')).status).to.equal(200);
    const second = await bot.get('/v1/models', 'k-123');
    expect(second.status).to.equal(429);
    expect(Number(second.headers.get('retry-after'))).to.be.within(1, 60);
  });
});
