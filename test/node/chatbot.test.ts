// The deployment guide, end to end on a real node: `kubectl apply` of a ChatBot with the real
// default model (SmolLM2-135M-Instruct, served to the init container from this machine and
// checked by sha256), the model loaded once onto a claim the cluster's provisioner bound, the
// runtime Ready, and the guide's two curl commands answered by the model through
// `kubectl port-forward`.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { eventually } from '../../tools/eventually.ts';
import { ensureSmolLM2 } from '../../tools/models/smollm2.ts';
import { kube } from '../kube.ts';
import {
  clientPod,
  untilCondition,
  nodeCluster,
  portForward,
  serveFiles,
  type FileServer,
  type NodeCluster,
} from './node-cluster.ts';

const run = promisify(execFile);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const modelPath = '/SmolLM2-135M-Instruct.Q4_1.gguf';

describe('node: a ChatBot along the deployment guide, with the real model', function () {
  this.timeout(900_000);
  let cluster: NodeCluster;
  let k: ReturnType<typeof kube>;
  let namespace: string;
  let files: FileServer;

  const pods = async (): Promise<Json[]> =>
    (
      JSON.parse(
        await k.kubectl(['get', 'pods', '-l', 'clawbot.dev/chatbot=support-bot', '-o', 'json']),
      ) as { items: Json[] }
    ).items.filter((p) => !p.metadata.deletionTimestamp);
  const condition = (cb: Json | undefined, type: string) =>
    (cb?.status?.conditions as Json[] | undefined)?.find((c) => c.type === type);
  const apiKey = async () =>
    Buffer.from(
      await k.kubectl(['get', 'secret', 'web-frontend-api-key', '-o', 'jsonpath={.data.api-key}']),
      'base64',
    ).toString();
  /** curl, as the guide's commands run it; resolves with the response body. */
  const curl = async (args: string[]) =>
    (await run('curl', ['-sS', '--fail-with-body', ...args])).stdout;

  before(async () => {
    const [model, started] = await Promise.all([ensureSmolLM2(), nodeCluster()]);
    cluster = started;
    namespace = await cluster.namespace('guide');
    k = kube(cluster, namespace);
    files = await serveFiles(cluster.hostIp, { [modelPath]: model.gguf });
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'support-bot' },
      spec: {
        model: {
          source: { url: files.url(modelPath), sha256: model.sha256 },
          format: 'gguf',
          maxTokens: 96,
        },
        runtime: {
          // The demo's sampling for this small model (see tools/demo): short, non-looping answers.
          env: [
            { name: 'DEFAULT_TEMPERATURE', value: '0.2' },
            { name: 'DEFAULT_REPETITION_PENALTY', value: '1.1' },
          ],
        },
        // The guide's dev size is 2 CPU / 4 GiB; this node has 2 CPUs in all, shared with the
        // cluster's add-ons and the operator.
        resources: { cpu: '500m', memory: '2Gi' },
        storage: { size: '10Gi' },
        scaling: { replicas: 1 },
      },
    });
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'web-frontend' },
      spec: {
        chatBotRef: { name: 'support-bot' },
        secretName: 'web-frontend-api-key',
        scopes: ['chat', 'models'],
      },
    });
  });

  after(async () => {
    await files?.close();
    await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => {});
  });

  it('loads the model in its init container, from the URL, once, and becomes Ready', async () => {
    await untilCondition(k, 'support-bot', 'Ready', (c) => c.status === 'True');
    const ready = await k.get('chatbot', 'support-bot');
    expect(condition(ready, 'ModelReady')).to.include({ status: 'True', reason: 'ModelLoaded' });
    expect(condition(ready, 'Degraded')).to.include({ status: 'False' });
    const [pod] = await pods();
    expect(pod!.spec.nodeName).to.equal(cluster.node.name);
    expect(pod!.status.initContainerStatuses[0].state.terminated).to.include({
      reason: 'Completed',
      exitCode: 0,
    });
    expect(files.requests.get(modelPath)).to.equal(1);
    const claim = await k.get('pvc', 'support-bot-data');
    expect(claim!.status.phase).to.equal('Bound');
    expect(claim!.spec.storageClassName).to.equal('local-path');
  });

  it("answers the guide's two curl commands through kubectl port-forward", async () => {
    const forward = await portForward(cluster, namespace, 'service/support-bot', 18789);
    try {
      const base = `http://127.0.0.1:${forward.port}`;
      const key = await apiKey();
      const auth = JSON.parse(
        await curl([
          '-X',
          'POST',
          `${base}/api/auth`,
          '-H',
          'Content-Type: application/json',
          '-d',
          `{"api_key": "${key}"}`,
        ]),
      ) as Json;
      expect(auth.expires_in).to.equal(86400);
      const answer = JSON.parse(
        await curl([
          '-X',
          'POST',
          `${base}/api/chat`,
          '-H',
          `Authorization: Bearer ${auth.token}`,
          '-H',
          'Content-Type: application/json',
          '-d',
          '{"messages": [{"role": "user", "content": "What is Kubernetes?"}]}',
        ]),
      ) as Json;
      expect(answer.message.role).to.equal('assistant');
      expect(answer.message.content).to.match(/\w{3,}/);
      expect(answer.usage.completion_tokens).to.be.greaterThan(0);
      console.log(
        `      the model answered: ${JSON.stringify(answer.message.content.slice(0, 160))}…`,
      );
    } finally {
      forward.stop();
    }
  });

  it('answers at its ENDPOINT address from another pod (CoreDNS, the Service, kube-proxy)', async () => {
    const cb = await k.get('chatbot', 'support-bot');
    const endpoint = cb!.status.endpoint as string;
    expect(endpoint).to.equal(`http://support-bot.${namespace}.svc:18789`);
    const script =
      `fetch(${JSON.stringify(`${endpoint}/api/auth`)}, { method: 'POST', ` +
      `headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: process.env.KEY }) })` +
      `.then(async (r) => console.log(r.status, (await r.json()).expires_in))`;
    await k.apply(
      clientPod(
        'client',
        {
          image: cluster.images.runtime,
          command: ['node', '-e', script],
          env: [{ name: 'KEY', value: await apiKey() }],
        },
        { restartPolicy: 'Never' },
      ),
    );
    await eventually(
      'the client pod done',
      async () => ['Succeeded', 'Failed'].includes((await k.get('pod', 'client'))?.status?.phase),
      180_000,
      500,
    );
    expect((await k.kubectl(['logs', 'client'])).trim()).to.equal('200 86400');
  });

  it("keeps onnxruntime's telemetry off in the runtime container", async () => {
    const logs = await k.kubectl(['logs', 'deployment/support-bot', '-c', 'runtime']);
    expect(logs).to.contain('"msg":"ready"');
    expect(logs).to.not.match(/telemetry/i);
  });

  it('replaces a deleted pod; the new one finds the model on the claim and downloads nothing', async () => {
    const [old] = await pods();
    await k.kubectl(['delete', 'pod', old!.metadata.name, '--wait=false']);
    const replacement = await eventually(
      'a new pod Ready',
      async () => {
        const fresh = (await pods()).find((p) => p.metadata.uid !== old!.metadata.uid);
        const ready = fresh?.status?.conditions?.find((c: Json) => c.type === 'Ready');
        return ready?.status === 'True' && fresh;
      },
      300_000,
      1000,
    );
    const loader = await k.kubectl(['logs', replacement.metadata.name, '-c', 'model-loader']);
    expect(loader).to.match(/is already in .*nothing to do/);
    expect(files.requests.get(modelPath)).to.equal(1);
  });
});
