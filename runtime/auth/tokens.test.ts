import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { generateSigningKey, signingKeyBytes } from '../../common/runtime-secrets.ts';
import { type IssuedKey, TestChatBot } from '../../test/support/auth-chatbot.ts';

// Tokens forged with the ChatBot's real signing key unless a case says otherwise: each must be
// refused for the one thing that is wrong with it.
describe('runtime auth: token verification over HTTP', () => {
  let bot: TestChatBot;
  let issued: IssuedKey;
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  beforeEach(async () => {
    bot = await TestChatBot.start();
    issued = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
  });
  afterEach(async () => {
    const leaks = bot.leaks();
    await bot.close();
    expect(leaks, 'secrets in responses or logs').to.deep.equal([]);
  });

  interface Forgery {
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    alg?: string;
    key?: Uint8Array | ReturnType<typeof generateKeyPairSync>['privateKey'];
  }

  async function forge({ header = {}, claims = {}, alg = 'HS256', key }: Forgery): Promise<string> {
    const signing = bot.signingKeys[0]!;
    // Claims given as undefined are left out of the token (JSON drops them).
    const token = await new SignJWT({
      iss: 'clawbot-runtime',
      aud: 'team-a/helper',
      sub: issued.keyId,
      jti: '4b1d0c4e-7b1c-4d1e-9a53-1f6f5e3c2a10',
      iat: nowSeconds() - 10,
      exp: nowSeconds() + 600,
      scope: 'chat models',
      ...claims,
    })
      .setProtectedHeader({ alg, kid: signing.kid, typ: 'at+jwt', ...header })
      .sign(key ?? signingKeyBytes(signing));
    bot.secrets.add(token);
    return token;
  }

  async function refusal(token: string): Promise<{ code: string; message: string }> {
    const reply = await bot.get('/api/whoami', token);
    expect(reply.status, reply.text).to.equal(401);
    expect(reply.headers.get('www-authenticate')).to.include('error="invalid_token"');
    return reply.body.error;
  }

  it('accepts a correctly forged token (the baseline the other cases alter)', async () => {
    const reply = await bot.get('/api/whoami', await forge({}));
    expect(reply.status).to.equal(200);
  });

  it('refuses alg "none"', async () => {
    const real = (await forge({})).split('.');
    const header = Buffer.from(
      JSON.stringify({ alg: 'none', kid: bot.signingKeys[0]!.kid, typ: 'at+jwt' }),
    );
    const token = `${header.toString('base64url')}.${real[1]}.`;
    bot.secrets.add(token);
    const error = await refusal(token);
    expect(error.code).to.equal('invalid_token');
    expect(error.message).to.match(/signed with "none"; only HS256 is accepted/);
  });

  it('refuses HS512, even under the right secret', async () => {
    const error = await refusal(await forge({ alg: 'HS512' }));
    expect(error.message).to.match(/signed with "HS512"; only HS256/);
  });

  it('refuses RS256', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const error = await refusal(await forge({ alg: 'RS256', key: privateKey }));
    expect(error.message).to.match(/signed with "RS256"/);
  });

  it('refuses a token for another ChatBot, or from another issuer, or of another type', async () => {
    expect((await refusal(await forge({ claims: { aud: 'team-b/helper' } }))).message).to.match(
      /issued for another ChatBot/,
    );
    expect((await refusal(await forge({ claims: { iss: 'someone-else' } }))).message).to.match(
      /not issued by a ClawBot runtime/,
    );
    expect((await refusal(await forge({ header: { typ: 'JWT' } }))).message).to.match(
      /type is not at\+jwt/,
    );
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [header, payload, signature] = (await forge({ claims: { scope: 'models' } })).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    claims.scope = 'chat models';
    const altered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    bot.secrets.add(altered);
    expect((await refusal(altered)).message).to.match(/signature does not match/);
  });

  it('refuses a token whose signature is spelled another way (its unused bits set)', async () => {
    const token = await forge({});
    // 32 signature bytes end in a character whose two low bits are unused: a lenient decoder
    // reads the same signature from four spellings.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) ^ 1];
    bot.secrets.add(respelled);
    expect((await refusal(respelled)).message).to.match(/signature is not unpadded base64url/);
  });

  it('refuses an expired token, saying when it expired and where to get a new one', async () => {
    const exp = nowSeconds() - 120; // beyond the 60 s of clock tolerance
    const error = await refusal(await forge({ claims: { iat: exp - 3600, exp } }));
    expect(error.code).to.equal('expired_token');
    expect(error.message).to.include(new Date(exp * 1000).toISOString());
    expect(error.message).to.match(/POSTing \{"api_key": "..."\} to \/api\/auth/);
  });

  it('accepts a token expired within the 60 s clock tolerance', async () => {
    const reply = await bot.get('/api/whoami', await forge({ claims: { exp: nowSeconds() - 20 } }));
    expect(reply.status).to.equal(200);
  });

  it('refuses a token issued in the future or not yet valid, pointing at clock synchronisation', async () => {
    const future = await refusal(
      await forge({ claims: { iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 } }),
    );
    expect(future.code).to.equal('token_not_yet_valid');
    expect(future.message).to.match(/NTP/);
    const notBefore = await refusal(await forge({ claims: { nbf: nowSeconds() + 3600 } }));
    expect(notBefore.code).to.equal('token_not_yet_valid');
  });

  it('refuses a token without a required claim', async () => {
    const token = await forge({ claims: { jti: undefined } });
    expect((await refusal(token)).message).to.match(/no "jti" claim/);
  });

  it('refuses tokens of an unknown signing key, and of one past its retireAfter', async () => {
    const stranger = generateSigningKey(new Date());
    bot.secrets.add(stranger.secret);
    const unknownKid = await forge({
      header: { kid: stranger.kid },
      key: signingKeyBytes(stranger),
    });
    expect((await refusal(unknownKid)).message).to.match(/key this ChatBot no longer has/);

    const oldToken = await bot.token(issued.key);
    expect((await bot.get('/api/whoami', oldToken)).status).to.equal(200); // verified (and cached) once
    const successor = generateSigningKey(new Date(Date.now() - 1000));
    bot.signingKeys[0]!.retireAfter = new Date(Date.now() - 500).toISOString();
    bot.signingKeys.push(successor);
    await bot.writeSigningSecret();
    await bot.auth.keys.reload();
    expect((await refusal(oldToken)).message).to.match(/key this ChatBot no longer has/);
    const newToken = await bot.token(issued.key);
    const kid = JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid;
    expect(kid).to.equal(successor.kid);
    expect((await bot.get('/api/whoami', newToken)).status).to.equal(200);
  });

  it('keeps verifying the previous signing key until its retireAfter, signing with the newest', async () => {
    const oldToken = await bot.token(issued.key);
    const successor = generateSigningKey(new Date(Date.now() - 1000));
    bot.signingKeys[0]!.retireAfter = new Date(Date.now() + 3_600_000).toISOString();
    bot.signingKeys.push(successor);
    await bot.writeSigningSecret();
    await bot.auth.keys.reload();
    expect((await bot.get('/api/whoami', oldToken)).status).to.equal(200);
    const kid = JSON.parse(
      Buffer.from((await bot.token(issued.key)).split('.')[0]!, 'base64url').toString(),
    ).kid;
    expect(kid).to.equal(successor.kid);
  });

  it('does not sign with a key whose createdAt is still ahead (replicas are still loading it)', async () => {
    const upcoming = generateSigningKey(new Date(Date.now() + 120_000));
    bot.signingKeys.push(upcoming);
    await bot.writeSigningSecret();
    await bot.auth.keys.reload();
    const kid = JSON.parse(
      Buffer.from((await bot.token(issued.key)).split('.')[0]!, 'base64url').toString(),
    ).kid;
    expect(kid).to.equal(bot.signingKeys[0]!.kid);
  });

  it("narrows a token's scopes when the ApiKey loses a scope after issuance", async () => {
    const token = await bot.token(issued.key);
    const verifier = bot.verifiers.get('reader')!;
    bot.verifiers.set('reader', { ...verifier, scopes: ['models'] });
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const reply = await bot.get('/api/whoami', token);
    expect(reply.status).to.equal(403);
    expect(reply.body.error.code).to.equal('missing_scope');
  });
});
