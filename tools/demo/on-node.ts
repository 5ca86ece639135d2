// The demo as a user's cluster runs it: ClawBot's images built from the Dockerfiles and loaded
// into the local node, the operator installed by its Helm chart, the ChatBot's pod run by the
// kubelet, and the chat API reached through `kubectl port-forward` on the guide's ports.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { repoRoot } from '../cluster/paths.ts';
import { eventually } from '../eventually.ts';
import { ensureProjectImages } from '../images/project-images.ts';
import { loadImages } from '../node/node-images.ts';
import type { DemoContext, DemoWay } from './way.ts';

export function onNode(ctx: DemoContext): DemoWay {
  const { cluster, kubectl, say, namespace } = ctx;
  const node = () => cluster.state.node!;
  const kubectlBinary = cluster.binaries.kubectl;
  const env = { ...process.env, KUBECONFIG: cluster.kubeconfig };
  let runtimeImage = '';

  /** A kubectl that runs until the demo stops (port-forward, logs -f). */
  const follow = (args: string[], onLine: (line: string) => void): ChildProcess => {
    const child = spawn(kubectlBinary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout! }).on('line', onLine);
    ctx.stops.push(async () => void child.kill());
    return child;
  };

  return {
    describe: 'on the local node (the kubelet runs it)',
    modelHost: () => node().network.hostIp,
    // The node's 2 CPUs also run the cluster's add-ons and the operator's two replicas.
    resources: { cpu: '1500m', memory: '4Gi' },

    async startOperator() {
      say(
        '   images: ClawBot operator and runtime (CPU variant), built with podman (npm run images)',
      );
      const built = await ensureProjectImages((line) => {
        if (!/STEP/.test(line)) say(`   ${line.trim()}`);
      });
      await loadImages(
        node().dir,
        node().containerdSocket,
        built.map((b) => b.reference),
        (l) => say(`   ${l}`),
      );
      runtimeImage = built.find((b) => b.name === 'runtime-cpu')!.reference;
      say('   helm install clawbot charts/clawbot-operator --namespace clawbot-system');
      await ctx.helm([
        'install',
        'clawbot',
        join(repoRoot, 'charts/clawbot-operator'),
        '--namespace',
        'clawbot-system',
        '--create-namespace',
        '--set',
        `runtimeImage=${runtimeImage}`,
        '--wait',
        '--timeout',
        '5m',
      ]);
    },

    async runPod() {
      // The loader's progress, as `kubectl logs -f` shows it, once its container runs.
      const pod = await eventually(
        "the ChatBot's pod running its model loader",
        async () => {
          const out = JSON.parse(
            await kubectl([
              'get',
              'pods',
              '-n',
              namespace,
              '-l',
              'clawbot.dev/chatbot=demo',
              '-o',
              'json',
            ]),
          ) as {
            items: Array<{
              metadata: { name: string };
              status?: { initContainerStatuses?: Array<{ state?: Record<string, unknown> }> };
            }>;
          };
          const found = out.items.find((p) => {
            const state = p.status?.initContainerStatuses?.[0]?.state;
            return state && !('waiting' in state);
          });
          return found?.metadata.name;
        },
        300_000,
        500,
      );
      follow(['logs', '-f', '-n', namespace, pod, '-c', 'model-loader'], (line) =>
        say(`   [model-loader] ${line}`),
      );
      await eventually(
        'the ChatBot Ready',
        async () =>
          (
            await kubectl([
              'get',
              'chatbot',
              '-n',
              namespace,
              'demo',
              '-o',
              'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
            ])
          ).trim() === 'True',
        600_000,
        500,
      );
      say(
        `   pod ${pod} is Ready on node ${node().name}; kubectl port-forward to the guide's ports`,
      );
      await new Promise<void>((resolve, reject) => {
        const forward = follow(
          [
            'port-forward',
            '-n',
            namespace,
            'deployment/demo',
            '--address=127.0.0.1',
            `${ctx.chatPort}:18789`,
            `${ctx.healthPort}:18790`,
          ],
          (line) => line.includes(`:${ctx.healthPort} ->`) && resolve(),
        );
        forward.once('exit', (code) => reject(new Error(`kubectl port-forward exited (${code})`)));
      });
    },
  };
}
