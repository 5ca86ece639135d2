// ChatBots for the benchmark: the guide's production example (samples/chatbot-production.yaml)
// under many names, applied as a user would.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../tools/cluster/paths.ts';
import type { KubeClient } from '../operator/kit/index.ts';
import { resourcePath } from '../operator/kit/index.ts';
import { resources } from '../operator/resources.ts';
import type { TestCluster } from '../test/cluster.ts';

type Manifest = { metadata: { name: string; namespace?: string } } & Record<string, unknown>;

const sample = parse(
  await readFile(join(repoRoot, 'samples/chatbot-production.yaml'), 'utf8'),
) as Manifest;

export function productionChatBot(name: string, namespace: string): Manifest {
  return { ...sample, metadata: { name, namespace } };
}

/** `kubectl apply -f -` (client-side apply: GET, then POST for a new object), as the tests do. */
export async function kubectlApply(cluster: TestCluster, manifest: Manifest): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
}

/**
 * Creates ChatBots bot-0 … bot-(count-1) as `kubectl apply --server-side` would (one apply patch
 * each), `concurrency` at a time; calls onProgress after each.
 */
export async function applyChatBots(
  kube: KubeClient,
  namespace: string,
  count: number,
  concurrency: number,
  onProgress: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const name = `bot-${next++}`;
      await kube.request({
        method: 'PATCH',
        path: resourcePath(resources.chatBots, { namespace, name }),
        query: { fieldManager: 'kubectl' },
        body: productionChatBot(name, namespace),
        contentType: 'application/apply-patch+yaml',
      });
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
