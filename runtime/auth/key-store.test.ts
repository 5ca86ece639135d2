import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLogger } from '../../common/log.ts';
import {
  generatePepper,
  generateSigningKey,
  serializeSigningKeys,
} from '../../common/runtime-secrets.ts';
import { readAuthConfig } from './config.ts';
import { KeyStore } from './key-store.ts';
import { eventually } from '../../tools/eventually.ts';
import { writeLikeKubelet } from '../../tools/local-pod/kubelet-volume.ts';
import { TestChatBot } from '../../test/support/auth-chatbot.ts';

// Changes arrive through the directory watch within milliseconds; poll often to time them.
const WATCH_TIMEOUT_MS = 30_000;
const POLL_MS = 10;

/** How many milliseconds `wait` took. */
async function timed(wait: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await wait();
  return Math.round(performance.now() - started);
}

/** The `kid` in a token's header: which signing key signed it. */
const signerOf = (token: string): unknown =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;

describe('key store: hot reload of the mounted Secrets', () => {
  let bot: TestChatBot;
  afterEach(async () => {
    const leaks = bot.leaks();
    await bot.close();
    expect(leaks, 'secrets in responses or logs').to.deep.equal([]);
  });

  it('applies kubelet-style Secret updates by watching the directory (no periodic re-read)', async () => {
    bot = await TestChatBot.start(); // periodic re-read every 10 min: only the watch can act
    const first = bot.addKey('first');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const token = await bot.token(first.key);
    expect((await bot.get('/api/whoami', token)).status).to.equal(200);

    bot.updateKey(first.keyId, { state: 'Revoked' });
    const second = bot.addKey('second');
    await bot.writeVerifiers();
    const revokedAfter = await timed(() =>
      eventually(
        'the revocation takes effect',
        async () => (await bot.get('/api/whoami', token)).body?.error?.code === 'revoked_api_key',
        WATCH_TIMEOUT_MS,
        POLL_MS,
      ),
    );
    const addedAfter = await timed(() =>
      eventually(
        'the new key is accepted',
        async () => (await bot.get('/v1/models', second.key)).status === 200,
        WATCH_TIMEOUT_MS,
        POLL_MS,
      ),
    );
    console.log(
      `      revocation visible ${revokedAfter} ms after the ..data swap; new key usable ${addedAfter} ms later`,
    );
    expect(
      bot.logs.some((l) => l.includes('API key verifier loaded') && l.includes('"second"')),
    ).to.equal(true);
  });

  it('applies signing key rotation through the watch as well', async () => {
    // With the key given as API_KEY, only the signing Secret is watched: a reload that a
    // verifier update had set off could otherwise pick up the new signing key as well.
    const key = 'rotation-test-key';
    bot = await TestChatBot.start({ API_KEYS_DIR: '', API_KEY: key });
    bot.secrets.add(key);
    const successor = generateSigningKey(new Date(Date.now() - 1000));
    bot.signingKeys.push(successor);
    await bot.writeSigningSecret();
    const token: string = await eventually(
      'a token signed with the successor key',
      async () => {
        const { body } = await bot.exchange(key);
        return signerOf(body.token) === successor.kid && body.token;
      },
      WATCH_TIMEOUT_MS,
      POLL_MS,
    );
    for (const { reply } of bot.replies) bot.secrets.add(reply.body?.token);
    // New tokens are signed with the successor (the wait above), and the guard accepts them.
    expect((await bot.get('/api/whoami', token)).status).to.equal(200);
  });

  it('keeps the last good verifier when a file is broken, and says which and why', async () => {
    bot = await TestChatBot.start();
    const { key } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();

    await bot.writeVerifiers({ 'reader.json': '{"apiKey": "reader", "scopes": [' });
    await bot.auth.keys.reload();
    expect((await bot.get('/v1/models', key)).status).to.equal(200);
    const complaint = bot.logs.find((l) => l.includes('invalid API key verifier file'));
    expect(complaint)
      .to.include('keeping its last good version')
      .and.include('reader.json')
      .and.include('not valid JSON');

    const other = bot.addKey('other');
    await bot.writeVerifiers({ 'broken.json': '{}' });
    await bot.auth.keys.reload();
    expect((await bot.get('/v1/models', other.key)).status).to.equal(200);
    expect(
      bot.logs.some((l) => l.includes('its keys are refused') && l.includes('broken.json')),
    ).to.equal(true);
  });

  it('keeps the last good signing keys when the ChatBot Secret is broken', async () => {
    bot = await TestChatBot.start();
    const { key } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    const token = await bot.token(key);

    await writeLikeKubelet(bot.signingDir, {
      'signing-keys.json': '{"keys": []}',
      'apikey-pepper': 'x',
    });
    await bot.auth.keys.reload();
    expect((await bot.get('/api/whoami', token)).status).to.equal(200);
    expect((await bot.exchange(key)).status).to.equal(200);
    for (const { reply } of bot.replies) bot.secrets.add(reply.body?.token);
    expect(
      bot.logs.some(
        (l) => l.includes('keeping the last good signing keys') && l.includes('at least one'),
      ),
    ).to.equal(true);
  });

  it('drops the keys of a removed verifier file (the ApiKey was deleted)', async () => {
    bot = await TestChatBot.start();
    const { key } = bot.addKey('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    expect((await bot.get('/v1/models', key)).status).to.equal(200);
    bot.verifiers.delete('reader');
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    expect((await bot.get('/v1/models', key)).body.error.code).to.equal('invalid_api_key');
  });

  it('refuses a key id that two verifier files claim', async () => {
    bot = await TestChatBot.start();
    const { key, keyId } = bot.addKey('one');
    const copy = { ...bot.verifiers.get('one')!, apiKey: 'two' };
    bot.verifiers.set('two', copy);
    await bot.writeVerifiers();
    await bot.auth.keys.reload();
    expect((await bot.get('/v1/models', key)).body.error.code).to.equal('invalid_api_key');
    expect(
      bot.logs.some((l) => l.includes('more than one verifier file') && l.includes(keyId)),
    ).to.equal(true);
  });
});

describe('key store: start-up', () => {
  let root: string;
  beforeEach(async () => (root = await mkdtemp(join(tmpdir(), 'clawbot-keys-'))));
  afterEach(() => rm(root, { recursive: true, force: true }));
  const quiet = createLogger('test', { write: () => {} });

  it('refuses to start on a broken signing Secret, naming the file and the problem', async () => {
    const dir = join(root, 'signing');
    await writeLikeKubelet(dir, {
      'signing-keys.json': '{"keys": [{}]}',
      'apikey-pepper': generatePepper(),
    });
    const config = readAuthConfig({ SIGNING_KEYS_DIR: dir, API_KEY: 'k' });
    let failure: Error | undefined;
    await KeyStore.open(config, quiet).catch((error: Error) => (failure = error));
    expect(failure?.message).to.match(/cannot start: .*signing-keys\.json: keys\[0\]\.kid must be/);
  });

  it('refuses to start when the signing directory is missing, asking whether it is mounted', async () => {
    const config = readAuthConfig({ SIGNING_KEYS_DIR: join(root, 'nowhere'), API_KEY: 'k' });
    let failure: Error | undefined;
    await KeyStore.open(config, quiet).catch((error: Error) => (failure = error));
    expect(failure?.message).to.match(
      /cannot read .*nowhere \(ENOENT\): is the ChatBot's Secret mounted there\?/,
    );
  });

  it('refuses to start without the pepper file', async () => {
    const dir = join(root, 'signing');
    const keys = serializeSigningKeys({ keys: [generateSigningKey(new Date())] });
    await writeLikeKubelet(dir, { 'signing-keys.json': keys });
    let failure: Error | undefined;
    await KeyStore.open(readAuthConfig({ SIGNING_KEYS_DIR: dir }), quiet).catch(
      (e: Error) => (failure = e),
    );
    expect(failure?.message).to.match(/must hold signing-keys\.json and apikey-pepper/);
  });
});
