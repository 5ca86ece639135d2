// The demo where this machine cannot run containers (not Linux, not root): the operator runs as a
// local process, and the ChatBot's pod as local processes materialised from the Deployment the
// operator wrote (tools/local-pod). Everything but the kubelet and the images is as on a node.

import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { repoRoot } from '../cluster/paths.ts';
import { eventually } from '../eventually.ts';
import { LocalPod } from '../local-pod/local-pod.ts';
import { startChild } from './child.ts';
import type { DemoContext, DemoWay } from './way.ts';

export function asProcesses(ctx: DemoContext): DemoWay {
  const { cluster, kubectl, namespace, say } = ctx;
  return {
    describe: 'as local processes (materialised from the Deployment the operator wrote)',
    modelHost: () => '127.0.0.1',
    resources: { cpu: '2', memory: '4Gi' },
    runtimePorts: { port: ctx.chatPort, healthPort: ctx.healthPort },

    async startOperator() {
      await kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds')]);
      await kubectl([
        'wait',
        '--for=condition=Established',
        'crd/chatbots.clawbot.dev',
        'crd/apikeys.clawbot.dev',
      ]);
      const operator = await startChild(
        'operator',
        [join(repoRoot, 'operator/main.ts'), '--leader-elect=false', '--health-port=0'],
        { KUBECONFIG: cluster.kubeconfig },
        join(ctx.home, 'operator.log'),
      );
      ctx.stops.push(() => operator.stop());
    },

    async runPod() {
      const deployment = await eventually(
        'the Deployment written by the operator',
        async () =>
          JSON.parse(
            await kubectl(['get', '-n', namespace, 'deployment', 'demo', '-o', 'json']),
          ) as V1Deployment,
        120_000,
        250,
      );
      const pod = await LocalPod.start({
        kubeConfig: ctx.kubeConfig,
        deployment,
        root: join(ctx.home, 'pod'),
        env: { PORT: String(ctx.chatPort), HEALTH_PORT: String(ctx.healthPort) },
        onLog: (container, line) => {
          // The loader's progress is worth watching; the runtime's request log is in its file.
          if (container === 'model-loader') say(`   [model-loader] ${line}`);
        },
      });
      ctx.stops.push(() => pod.stop());
      void pod.exit.then(ctx.onRuntimeExit);
      await eventually(
        'the runtime to load the model',
        async () => (await fetch(`http://127.0.0.1:${ctx.healthPort}/readyz`)).ok,
        300_000,
        250,
      );
    },
  };
}
