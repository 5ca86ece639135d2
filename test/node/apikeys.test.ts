// API keys end to end on a real node: the operator (installed by helm) issues and rotates keys
// into Secrets; the kubelet mounts them into the ChatBot's pod and updates them in place; the
// runtime authenticates with them over HTTP, reached through kubectl port-forward as a user
// would. Rotations reach the running pod through the kubelet's own volume updates (the local
// node syncs pods every 10 s), with no restart.

import { expect } from 'chai';
import { parseApiKey } from '../../common/api-key.ts';
import { sleep } from '../../tools/cluster/processes.ts';
import { eventually } from '../../tools/eventually.ts';
import { kube } from '../kube.ts';
import {
  nodeCluster,
  portForward,
  serveFiles,
  tinyModel,
  untilCondition,
  type FileServer,
  type NodeCluster,
  type PortForward,
} from './node-cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Reply {
  status: number;
  body: Json;
}

/** The kubelet refreshes mounted Secrets on its pod sync: allow a few of them. */
const kubeletPropagation = 120_000;

describe('node: API keys end to end (operator pod + runtime pod)', function () {
  this.timeout(900_000);
  let cluster: NodeCluster;
  let namespace: string;
  let k: ReturnType<typeof kube>;
  let files: FileServer;
  let forward: PortForward;
  let chatUrl: string;

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
  const runtimePod = async (): Promise<Json> =>
    (
      JSON.parse(
        await k.kubectl(['get', 'pods', '-l', 'clawbot.dev/chatbot=bot', '-o', 'json']),
      ) as { items: Json[] }
    ).items.find((p) => !p.metadata.deletionTimestamp)!;
  const operatorDeployment = () => [
    '-n',
    cluster.operatorNamespace,
    'deployment',
    `${cluster.release}-clawbot-operator`,
  ];

  before(async () => {
    cluster = await nodeCluster();
    namespace = await cluster.namespace('apikeys');
    k = kube(cluster, namespace);
    const tiny = tinyModel();
    files = await serveFiles(cluster.hostIp, { '/tiny.gguf': tiny.bytes });
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'bot' },
      spec: {
        model: {
          format: 'gguf',
          source: {
            url: files.url('/tiny.gguf'),
            sha256: tiny.sha256,
          },
        },
        resources: { cpu: '250m', memory: '1Gi' },
        storage: { size: '1Gi' },
        scaling: { replicas: 1 },
        // Short tokens keep the grace periods of this test short.
        auth: { tokenTTL: '10s' },
      },
    });
    await untilCondition(k, 'bot', 'Ready', (c) => c.status === 'True');
    forward = await portForward(cluster, namespace, 'service/bot', 18789);
    chatUrl = `http://127.0.0.1:${forward.port}`;
  });

  after(async () => {
    forward?.stop();
    await files?.close();
    await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => {});
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    console.log(
      await k.kubectl(['logs', 'deployment/bot', '-c', 'runtime', '--tail=15']).catch(String),
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

    const token = await eventually(
      'the runtime accepting the key',
      async () => {
        const reply = await auth(key);
        return reply.status === 200 && (reply.body.token as string);
      },
      kubeletPropagation,
      500,
    );
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

  it('rotates on request, into the running pod: the new key works, the old one through its grace period, then not', async () => {
    const oldKey = (await secretText('app-secret', 'api-key'))!;
    const oldToken = (await auth(oldKey)).body.token as string;
    const podBefore = await runtimePod();

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
      kubeletPropagation,
      500,
    );
    console.log(`      new key accepted ${Date.now() - requested} ms after the rotate annotation`);
    // The kubelet updated the mounted Secret in place: the same pod, never restarted.
    const podAfter = await runtimePod();
    expect(podAfter.metadata.uid).to.equal(podBefore.metadata.uid);
    expect((podAfter.status.containerStatuses as Json[]).map((c) => c.restartCount)).to.deep.equal([
      0,
    ]);
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
    const refused = await eventually(
      'the old key refused',
      async () => {
        const reply = await auth(oldKey);
        return reply.status === 401 && reply;
      },
      kubeletPropagation,
      500,
    );
    expect(refused.body.error.message).to.match(/rotated out/);
    await eventually(
      'previous-api-key gone',
      async () => (await secretText('app-secret', 'previous-api-key')) === undefined,
      kubeletPropagation,
    );
    expect((await auth(newKey)).status).to.equal(200);
  });

  it('stops a revoked key as soon as the kubelet delivers the revocation', async () => {
    const key = (await secretText('app-secret', 'api-key'))!;
    const token = (await auth(key)).body.token as string;
    const revoked = Date.now();
    await k.patch('apikey', 'app', { spec: { revoked: true } });
    const refused = await eventually(
      'the token refused',
      async () => {
        const reply = await chat(token);
        return reply.status === 401 && reply;
      },
      kubeletPropagation,
      500,
    );
    console.log(`      token refused ${Date.now() - revoked} ms after revoked: true`);
    expect(refused.body.error.message).to.match(/revoked/);
    expect((await auth(key)).status).to.equal(401);
  });

  it('stops an expired key even while the operator is down', async () => {
    await k.apply(
      apiKey('short', { validity: '20s', rotation: { renewBefore: '1s', gracePeriod: '1s' } }),
    );
    const key = await eventually('the short key', () => secretText('short-secret', 'api-key'));
    await eventually(
      'the runtime accepting it',
      async () => (await auth(key)).status === 200,
      kubeletPropagation,
      500,
    );
    await cluster.kubectl(['scale', ...operatorDeployment(), '--replicas=0']);
    await eventually(
      'no operator pod left',
      async () =>
        (
          await cluster.kubectl(['get', 'pods', '-n', cluster.operatorNamespace, '-o', 'name'])
        ).trim() === '',
      120_000,
      500,
    );
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
      await cluster.kubectl(['scale', ...operatorDeployment(), '--replicas=2']);
      const [, namespace_, kind, name] = operatorDeployment();
      await cluster.kubectl([
        'rollout',
        'status',
        '-n',
        namespace_!,
        `${kind}/${name}`,
        '--timeout=180s',
      ]);
    }
  });
});
