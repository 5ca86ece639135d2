// Installs the project's CRDs into the test control plane (once per run) and waits until the
// API server serves them.

import { join } from 'node:path';
import { repoRoot } from '../tools/cluster/paths.ts';
import type { TestCluster } from './cluster.ts';

let installed: Promise<void> | undefined;

export function installCrds(cluster: TestCluster): Promise<void> {
  installed ??= (async () => {
    await cluster.kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds')]);
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/chatbots.clawbot.dev',
      'crd/apikeys.clawbot.dev',
    ]);
  })();
  return installed;
}
