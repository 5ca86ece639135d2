// Mocha root hooks: the shared clusters (started lazily by test/cluster.ts) are stopped once,
// after the whole run.
import { stopTestClusters } from './cluster.ts';

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestClusters();
}
