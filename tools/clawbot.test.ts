import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { decryptFernet, encryptFernet, generateFernetKey } from '../common/fernet.ts';
import { runScript } from '../test/support/node-script.ts';

const cli = fileURLToPath(new URL('./clawbot.ts', import.meta.url));
const vectors = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../test/testdata/fernet/${name}.json`, import.meta.url), 'utf8'),
  );

// The real CLI in its own Node process (the same Node 24 that runs the tests).
const clawbot = (args: string[], stdin = '') => runScript(cli, args, stdin);

describe('clawbot CLI (child process)', function () {
  this.timeout(60_000);

  it('lists its commands', async () => {
    const { code, stdout } = await clawbot(['help']);
    expect(code).to.equal(0);
    expect(stdout)
      .to.match(/fernet generate-key/)
      .and.match(/fernet decrypt --key <key>/);
  });

  it('fernet generate-key prints a key the library accepts', async () => {
    const { code, stdout } = await clawbot(['fernet', 'generate-key']);
    expect(code).to.equal(0);
    const key = stdout.trim();
    expect(decryptFernet(key, encryptFernet(key, 'ok')).toString()).to.equal('ok');
  });

  it('fernet encrypt makes a token the library decrypts; decrypt reverses it', async () => {
    const key = generateFernetKey();
    const encrypted = await clawbot(['fernet', 'encrypt', '--key', key, 'cbk_example ✓']);
    expect(encrypted.code).to.equal(0);
    const token = encrypted.stdout.trim();
    expect(decryptFernet(key, token).toString()).to.equal('cbk_example ✓');

    const decrypted = await clawbot(['fernet', 'decrypt', '--key', key, '--ttl', '60', token]);
    expect(decrypted).to.include({ code: 0, stdout: 'cbk_example ✓' });
  });

  it('reads the text or token from standard input when no argument is given', async () => {
    const key = generateFernetKey();
    const { stdout: token } = await clawbot(['fernet', 'encrypt', '--key', key], 'from stdin');
    const { code, stdout } = await clawbot(['fernet', 'decrypt', '--key', key], `${token}\n`);
    expect(code).to.equal(0);
    expect(stdout).to.equal('from stdin');
  });

  it("decrypts the specification's token, and refuses it once its TTL has passed", async () => {
    const [v] = vectors('verify');
    const noTtl = await clawbot(['fernet', 'decrypt', '--key', v.secret, v.token]);
    expect(noTtl).to.include({ code: 0, stdout: v.src });
    const expired = await clawbot([
      'fernet',
      'decrypt',
      '--key',
      v.secret,
      '--ttl',
      '24h',
      v.token,
    ]);
    expect(expired.code).to.equal(1);
    expect(expired.stderr).to.match(/token expired at 1985-10-27T08:20:00Z/);
    expect(expired.stdout).to.equal('');
  });

  // The clock-dependent vectors (expired, far-future) are judged against 1985 in
  // common/fernet.test.ts; the CLI runs at today's time, so only the others apply here.
  it('exits 1 with the reason for each invalid token of the specification', async () => {
    const timeless = vectors('invalid').filter((v: { desc: string }) => !/TTL|TS/.test(v.desc));
    expect(timeless).to.have.length(6);
    for (const v of timeless) {
      const { code, stdout, stderr } = await clawbot([
        'fernet',
        'decrypt',
        '--key',
        v.secret,
        v.token,
      ]);
      expect(code, v.desc).to.equal(1);
      expect(stdout, v.desc).to.equal('');
      expect(stderr, v.desc).to.match(/^clawbot: the token/);
    }
  });

  it('exits non-zero with a reason for a bad key, a bad TTL, and usage mistakes', async () => {
    const badKey = await clawbot(['fernet', 'encrypt', '--key', 'abc', 'x']);
    expect(badKey.code).to.equal(1);
    expect(badKey.stderr).to.match(/Fernet key must be 32 bytes.*fernet generate-key/);

    const key = generateFernetKey();
    const badTtl = await clawbot(['fernet', 'decrypt', '--key', key, '--ttl', '1d', 'x']);
    expect(badTtl.code).to.equal(2);
    expect(badTtl.stderr).to.match(/--ttl: invalid duration "1d"/);

    const noKey = await clawbot(['fernet', 'encrypt', 'x']);
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.match(/--key <key> is required/);

    const unknown = await clawbot(['fernet', 'rot13']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/unknown fernet command "rot13"/);

    const unknownGroup = await clawbot(['vault']);
    expect(unknownGroup.code).to.equal(2);
    expect(unknownGroup.stderr).to.match(/unknown group "vault"/);
  });
});
