// One real control plane per test run, started on first use and shared; every test works in a
// namespace of its own, so tests never see each other's objects.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ControlPlane } from '../tools/cluster/control-plane.ts';

const run = promisify(execFile);

export interface TestCluster {
  controlPlane: ControlPlane;
  kubeconfig: string;
  kc: KubeConfig;
  /** Creates a fresh namespace (deleted when the control plane stops). */
  namespace(prefix?: string): Promise<string>;
  /** Runs kubectl against this cluster; rejects with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  helm(args: string[]): Promise<string>;
}

let starting: Promise<TestCluster> | undefined;

export function testCluster(): Promise<TestCluster> {
  starting ??= start();
  return starting;
}

export async function stopTestCluster(): Promise<void> {
  if (!starting) return;
  const cluster = await starting.catch(() => undefined);
  starting = undefined;
  await cluster?.controlPlane.stop();
}

async function start(): Promise<TestCluster> {
  const controlPlane = await ControlPlane.start({ name: `test-${process.pid}`, log: () => {} });
  const kc = new KubeConfig();
  kc.loadFromFile(controlPlane.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const env = { ...process.env, KUBECONFIG: controlPlane.kubeconfig };
  const tool = (binary: string) => async (args: string[], input?: string) => {
    const child = run(binary, args, { env, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    try {
      return (await child).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${binary.split('/').pop()} ${args.join(' ')}: ${e.stderr || e.message}`, {
        cause: err,
      });
    }
  };
  return {
    controlPlane,
    kubeconfig: controlPlane.kubeconfig,
    kc,
    async namespace(prefix = 'test') {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
    kubectl: tool(controlPlane.binaries.kubectl),
    helm: tool(controlPlane.binaries.helm),
  };
}
