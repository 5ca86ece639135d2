// Apply → all children: ChatBots applied one at a time with kubectl while the operator runs, each
// timed until a watch sees all its children (and then its status), split into kubectl's part (until
// the ChatBot itself appears on the watch) and the operator's part (from there to the last child).

import type { KubeClient } from '../operator/kit/index.ts';
import type { TestCluster } from '../test/cluster.ts';
import { startOperator } from '../test/operator-process.ts';
import { kubectlApply, productionChatBot } from './chatbot-apply.ts';
import { ConvergenceWatch } from './convergence-watch.ts';
import { snapshot, type OperatorSnapshot } from './operator-metrics.ts';
import { progress } from './progress.ts';

export interface LatencySample {
  /** kubectl started → kubectl exited. */
  kubectlMs: number;
  /** kubectl started → the ChatBot seen on the watch. */
  chatBotSeenMs: number;
  /** The ChatBot seen → every child seen: the operator's part. */
  operatorMs: number;
  /** kubectl started → every child seen. */
  childrenMs: number;
  /** kubectl started → children seen and status.observedGeneration current. */
  convergedMs: number;
  /** How long after the CRDs became Established kubectl started. */
  sinceCrdsEstablishedMs: number;
}

export async function measureApplyLatency(
  cluster: TestCluster,
  kube: KubeClient,
  options: { samples: number; crdsEstablishedAt: number; operatorArgs: string[] },
): Promise<{ samples: LatencySample[]; operator: OperatorSnapshot }> {
  const namespace = await cluster.namespace('bench-latency');
  const watch = new ConvergenceWatch(kube, namespace);
  await watch.start();
  // As in the tests: the operator starts right after the CRDs are installed, and the first ChatBot
  // is applied as soon as it serves /metrics.
  const op = await startOperator(cluster, [...options.operatorArgs, `--namespaces=${namespace}`], {
    LOG_LEVEL: 'info',
  });
  const samples: LatencySample[] = [];
  try {
    for (let i = 0; i < options.samples; i++) {
      const name = `bot-${i}`;
      const started = performance.now();
      await kubectlApply(cluster, productionChatBot(name, namespace));
      const kubectlDone = performance.now();
      await watch.until(
        `ChatBot ${name} converged`,
        () => watch.progress.get(name)?.convergedAt !== undefined,
        60_000,
      );
      const p = watch.progress.get(name)!;
      samples.push({
        kubectlMs: kubectlDone - started,
        chatBotSeenMs: p.seenAt - started,
        operatorMs: p.childrenAt! - p.seenAt,
        childrenMs: p.childrenAt! - started,
        convergedMs: p.convergedAt! - started,
        sinceCrdsEstablishedMs: started - options.crdsEstablishedAt,
      });
      progress(
        `latency ${i + 1}/${options.samples}: all children ${samples.at(-1)!.childrenMs.toFixed(0)} ms ` +
          `after kubectl apply (operator's part ${samples.at(-1)!.operatorMs.toFixed(0)} ms)`,
      );
    }
    // The operator's memory with a few ChatBots: the baseline for the figures with many.
    return { samples, operator: await snapshot(op) };
  } finally {
    await op.stop();
    await watch.stop();
  }
}
