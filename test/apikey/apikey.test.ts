// API keys end to end: the real operator issues and rotates keys; the real runtime, run as the
// ChatBot's pod on this machine (its Secrets projected as files, kubelet-style), authenticates
// with them over HTTP.

import { createHash, createSecretKey } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import { hashApiKey, parseApiKey } from '../../common/api-key.ts';
import { parseApiKeyVerifier, parsePepper } from '../../common/runtime-secrets.ts';
import { tinyGguf } from '../../runtime/model/tiny/tiny-gguf.ts';
import { freePort, sleep } from '../../tools/cluster/processes.ts';
import { LocalPod } from '../../tools/local-pod/local-pod.ts';
import { testCluster, type TestCluster } from '../cluster.ts';
import { installCrds } from '../crds.ts';
import { eventually } from '../../tools/eventually.ts';
import { kube } from '../kube.ts';
import { startOperator, type OperatorProcess } from '../operator-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Reply {
  status: number;
  body: Json;
}

describe('API keys end to end (operator + runtime pod)', function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let namespace: string;
  let k: ReturnType<typeof kube>;
  let operator: OperatorProcess;
  let modelServer: Server;
  let pod: LocalPod;
  let chatUrl: string;
  const podLogs: string[] = [];

  const secretText = async (name: string, key: string) => {
    const secret = await k.get('secret', name);
    const data = secret?.data?.[key] as string | undefined;
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
  };
  const post = async (path: string, body: unknown, token?: string): Promise<Reply> => {
    const response = await fetch(`${chatUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const auth = (apiKey: string) => post('/api/auth', { api_key: apiKey });
  const chat = (token: string) =>
    post('/api/chat', { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 }, token);
  const startOp = () =>
    startOperator(cluster, ['--leader-elect=false', `--namespaces=${namespace}`]);

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    namespace = await cluster.namespace('apikeys');
    k = kube(cluster, namespace);

    // The model, served over HTTP the way a model registry would serve it.
    const gguf = Buffer.from(tinyGguf());
    modelServer = createServer((_req, res) =>
      res.writeHead(200, { 'content-length': gguf.length }).end(gguf),
    );
    await new Promise<void>((r) => modelServer.listen(0, '127.0.0.1', r));
    const modelUrl = `http://127.0.0.1:${(modelServer.address() as { port: number }).port}/tiny.gguf`;

    operator = await startOp();
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'bot' },
      spec: {
        model: {
          format: 'gguf',
          source: { url: modelUrl, sha256: createHash('sha256').update(gguf).digest('hex') },
        },
        scaling: { replicas: 1 },
        // Short tokens keep the grace periods of this test short.
        auth: { tokenTTL: '10s' },
      },
    });
    const deployment = (await eventually('the Deployment', () =>
      k.get('deployment', 'bot'),
    )) as V1Deployment;
    const [port, healthPort] = [await freePort(), await freePort()];
    pod = await LocalPod.start({
      kubeConfig: cluster.kc,
      deployment,
      root: await mkdtemp(join(tmpdir(), 'clawbot-pod-')),
      env: { PORT: String(port), HEALTH_PORT: String(healthPort) },
      onLog: (container, line) => podLogs.push(`${container}: ${line}`),
    });
    chatUrl = `http://127.0.0.1:${port}`;
    await eventually(
      'the runtime ready',
      async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok,
      120_000,
    );
  });

  after(async () => {
    await pod?.stop();
    await operator?.stop();
    modelServer?.close();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    console.log(podLogs.slice(-15).join('\n'));
    const problems = operator.logs.filter((l) => l.level === 'error' || l.level === 'warn');
    console.log(
      problems
        .slice(-5)
        .map((l) => JSON.stringify(l).slice(0, 600))
        .join('\n'),
    );
  });

  const apiKey = (name: string, spec: Json = {}) => ({
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name },
    spec: { chatBotRef: { name: 'bot' }, secretName: `${name}-secret`, ...spec },
  });

  it('issues a key into its Secret that trades for a token that chats', async () => {
    await k.apply(apiKey('app', { rotation: { renewBefore: '360h', gracePeriod: '15s' } }));
    const key = await eventually('the key in its Secret', () =>
      secretText('app-secret', 'api-key'),
    );
    expect(parseApiKey(key).ok).to.equal(true);
    expect(await secretText('app-secret', 'api-key-id')).to.equal(
      (parseApiKey(key) as { keyId: string }).keyId,
    );

    const token = await eventually('the runtime accepting the key', async () => {
      const reply = await auth(key);
      return reply.status === 200 && (reply.body.token as string);
    });
    expect((await auth(key)).body.expires_in).to.equal(10);
    const answer = await chat(token);
    expect(answer.status).to.equal(200);
    expect(answer.body.message.role).to.equal('assistant');

    const ak = await k.get('apikey', 'app');
    expect(ak!.status).to.deep.include({
      revision: 1,
      currentKeyId: (parseApiKey(key) as { keyId: string }).keyId,
    });
    // Nothing but the consumer Secret holds the key: not the status, not the verifier.
    const verifier = await k.get('secret', 'bot-apikeys');
    expect(JSON.stringify(ak)).to.not.contain(key);
    expect(Buffer.from(verifier!.data['app.json'], 'base64').toString()).to.not.contain(key);
  });

  it('rotates on request: the new key works at once, the old one through its grace period, then not', async () => {
    const oldKey = (await secretText('app-secret', 'api-key'))!;
    const oldToken = (await auth(oldKey)).body.token as string;

    const requested = Date.now();
    await k.kubectl([
      'annotate',
      'apikey',
      'app',
      `clawbot.dev/rotate=${requested}`,
      '--overwrite',
    ]);
    const newKey = await eventually('a new key delivered', async () => {
      const key = await secretText('app-secret', 'api-key');
      return key !== oldKey && key;
    });
    await eventually(
      'the runtime accepting the new key',
      async () => (await auth(newKey)).status === 200,
    );
    console.log(`      new key accepted ${Date.now() - requested} ms after the rotate annotation`);
    expect(await secretText('app-secret', 'previous-api-key')).to.equal(oldKey);

    // During the grace period: the old key and tokens it got still work.
    expect((await auth(oldKey)).status).to.equal(200);
    expect((await chat(oldToken)).status).to.equal(200);
    const status = (await k.get('apikey', 'app'))!.status;
    expect(status.revision).to.equal(2);
    const retiring = (status.keys as Json[]).find((key) => key.state === 'Retiring')!;
    expect(retiring.keyId).to.equal((parseApiKey(oldKey) as { keyId: string }).keyId);

    // The token expires after its TTL (10 s) plus the 60 s the runtime allows for clock skew: it
    // is refused then, saying so.
    await eventually(
      'the old token expired',
      async () => (await chat(oldToken)).status === 401,
      100_000,
    );
    expect((await chat(oldToken)).body.error.message).to.match(/expired/i);

    // After the grace period (raised to the token TTL + 60 s of skew), the old key is refused as
    // rotated out, and the consumer Secret no longer offers it.
    const retireAt = Date.parse(retiring.retireAfter);
    await sleep(Math.max(0, retireAt - Date.now()));
    const refused = await eventually('the old key refused', async () => {
      const reply = await auth(oldKey);
      return reply.status === 401 && reply;
    });
    expect(refused.body.error.message).to.match(/rotated out/);
    await eventually(
      'previous-api-key gone',
      async () => (await secretText('app-secret', 'previous-api-key')) === undefined,
    );
    expect((await auth(newKey)).status).to.equal(200);
  });

  it('stops a revoked key at once', async () => {
    const key = (await secretText('app-secret', 'api-key'))!;
    const token = (await auth(key)).body.token as string;
    const revoked = Date.now();
    await k.patch('apikey', 'app', { spec: { revoked: true } });
    const refused = await eventually('the token refused', async () => {
      const reply = await chat(token);
      return reply.status === 401 && reply;
    });
    console.log(`      token refused ${Date.now() - revoked} ms after revoked: true`);
    expect(refused.body.error.message).to.match(/revoked/);
    expect((await auth(key)).status).to.equal(401);
  });

  it('stops an expired key even while the operator is down', async () => {
    await k.apply(
      apiKey('short', { validity: '20s', rotation: { renewBefore: '1s', gracePeriod: '1s' } }),
    );
    const key = await eventually('the short key', () => secretText('short-secret', 'api-key'));
    await eventually('the runtime accepting it', async () => (await auth(key)).status === 200);
    await operator.stop();
    try {
      const notAfter = Date.parse(
        ((await k.get('apikey', 'short'))!.status.keys as Json[])[0]!.notAfter,
      );
      await sleep(Math.max(0, notAfter - Date.now()) + 500);
      const reply = await auth(key);
      expect(reply.status).to.equal(401);
      expect(reply.body.error.message).to.contain(new Date(notAfter).toISOString().slice(0, 19));
      expect(reply.body.error.message).to.match(/expired/);
    } finally {
      operator = await startOp();
    }
  });
});

describe('API key rotation under crashes (operator killed after each write)', function () {
  this.timeout(600_000);
  const failpoints = [
    'apikey:stage',
    'apikey:status:rotation-started',
    'apikey:publish',
    'apikey:deliver',
    'apikey:status:rotation-committed',
    'apikey:unstage',
  ];
  let cluster: TestCluster;
  let namespace: string;
  let k: ReturnType<typeof kube>;

  const secretData = async (name: string) => {
    const data = (await k.get('secret', name))?.data as Record<string, string> | undefined;
    return Object.fromEntries(
      Object.entries(data ?? {}).map(([key, v]) => [
        key,
        Buffer.from(v, 'base64').toString('utf8'),
      ]),
    );
  };

  /** The consumer never holds a key the verifier does not accept. */
  const assertConsumerKnown = async () => {
    const consumer = await secretData('crash-secret');
    const pepper = createSecretKey(parsePepper((await secretData('bot-keys'))['apikey-pepper']!));
    const entry = parseApiKeyVerifier((await secretData('bot-apikeys'))['crash.json']!);
    for (const key of [consumer['api-key'], consumer['previous-api-key']]) {
      if (key === undefined) continue;
      const keyId = (parseApiKey(key) as { keyId: string }).keyId;
      const record = entry.keys.find((r) => r.keyId === keyId);
      expect(record, `the verifier does not know ${keyId}`).to.not.equal(undefined);
      expect(record!.hash).to.equal(hashApiKey(pepper, key));
      expect(['Active', 'Retiring']).to.include(record!.state);
    }
  };

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    namespace = await cluster.namespace('crash');
    k = kube(cluster, namespace);
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'bot' },
      spec: { model: { source: { pvc: { claimName: 'models' } } }, scaling: { replicas: 1 } },
    });
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'crash' },
      spec: { chatBotRef: { name: 'bot' }, secretName: 'crash-secret' },
    });
    const operator = await startOperator(cluster, [
      '--leader-elect=false',
      `--namespaces=${namespace}`,
    ]);
    await eventually(
      'the first key',
      async () => (await k.get('apikey', 'crash'))?.status?.revision === 1,
    );
    await operator.stop();
  });

  for (const failpoint of failpoints) {
    it(`completes a rotation exactly once when killed after ${failpoint}`, async () => {
      const before = (await k.get('apikey', 'crash'))!.status;
      await k.kubectl([
        'annotate',
        'apikey',
        'crash',
        `clawbot.dev/rotate=${failpoint}`,
        '--overwrite',
      ]);
      const doomed = await startOperator(
        cluster,
        ['--leader-elect=false', `--namespaces=${namespace}`],
        {
          CLAWBOT_FAILPOINT: failpoint,
        },
      );
      await doomed.exit;
      expect(
        doomed.logs.some((l) => l.failpoint === failpoint),
        'the failpoint was reached',
      ).to.equal(true);
      await assertConsumerKnown();

      const operator = await startOperator(cluster, [
        '--leader-elect=false',
        `--namespaces=${namespace}`,
      ]);
      try {
        const after = await eventually('the rotation finished', async () => {
          const ak = await k.get('apikey', 'crash');
          const staged = await k.get('secret', 'crash.clawbot-staged-key');
          return ak?.status?.observedRotateRequest === failpoint && !staged && ak.status;
        });
        expect(after.revision).to.equal(before.revision + 1);
        expect(after.currentKeyId).to.not.equal(before.currentKeyId);
        const consumer = await secretData('crash-secret');
        expect(consumer['api-key-id']).to.equal(after.currentKeyId);
        await assertConsumerKnown();
      } finally {
        await operator.stop();
      }
    });
  }
});
