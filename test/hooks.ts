// Mocha root hooks: the one shared control plane (started lazily by test/cluster.ts) is stopped
// once, after the whole run.
import { stopTestCluster } from './cluster.ts';

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestCluster();
}
