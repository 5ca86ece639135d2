import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import {
  AppsV1Api,
  ApiextensionsV1Api,
  CustomObjectsApi,
  Watch,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { removeStaleClusters, type ClusterState } from '../tools/cluster/control-plane.ts';
import { isRunning } from '../tools/cluster/processes.ts';
import { helmVersion, kubernetesVersion } from '../tools/cluster/toolchain.ts';
import { eventually } from '../tools/eventually.ts';
import { testCluster, type TestCluster } from './cluster.ts';

describe('local control plane (real etcd, kube-apiserver, kube-controller-manager)', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await testCluster();
  });

  it('reports the pinned Kubernetes and Helm releases', async () => {
    const version = JSON.parse(await cluster.kubectl(['get', '--raw', '/version'])) as {
      gitVersion: string;
    };
    expect(version.gitVersion).to.equal(kubernetesVersion());
    expect(await cluster.helm(['version', '--short'])).to.contain(helmVersion());
  });

  it('serves a newly installed CRD and streams changes to a watch', async () => {
    const namespace = await cluster.namespace('smoke');
    const crd: V1CustomResourceDefinition = {
      metadata: { name: 'widgets.smoke.clawbot.dev' },
      spec: {
        group: 'smoke.clawbot.dev',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                },
              },
            },
          },
        ],
      },
    };
    await cluster.kc
      .makeApiClient(ApiextensionsV1Api)
      .createCustomResourceDefinition({ body: crd });
    const objects = cluster.kc.makeApiClient(CustomObjectsApi);
    const target = { group: 'smoke.clawbot.dev', version: 'v1', namespace, plural: 'widgets' };
    // The new resource is served once the CRD is Established.
    await eventually('the widgets resource is served', () =>
      objects.listNamespacedCustomObject(target).then(() => true),
    );
    await objects.createNamespacedCustomObject({
      ...target,
      body: {
        apiVersion: 'smoke.clawbot.dev/v1',
        kind: 'Widget',
        metadata: { name: 'w' },
        spec: { size: 1 },
      },
    });

    const seen: Array<{ type: string; size: number }> = [];
    const watch = await new Watch(cluster.kc).watch(
      `/apis/smoke.clawbot.dev/v1/namespaces/${namespace}/widgets`,
      {},
      (type, obj: { spec: { size: number } }) => seen.push({ type, size: obj.spec.size }),
      () => {},
    );
    try {
      await cluster.kubectl([
        '-n',
        namespace,
        'patch',
        'widget',
        'w',
        '--type=merge',
        '-p',
        '{"spec":{"size":2}}',
      ]);
      await eventually('the watch sees the change', () =>
        seen.some((e) => e.type === 'MODIFIED' && e.size === 2) ? true : undefined,
      );
      expect(seen[0]).to.deep.equal({ type: 'ADDED', size: 1 });
    } finally {
      watch.abort();
    }
  });

  it('runs the deployment controller: a Deployment gets a ReplicaSet', async () => {
    const namespace = await cluster.namespace('smoke');
    const apps = cluster.kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] },
          },
        },
      },
    });
    const replicaSet = await eventually('a ReplicaSet for the Deployment', async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace });
      return list.items[0];
    });
    expect(replicaSet.spec?.replicas).to.equal(2);
    expect(replicaSet.metadata?.ownerReferences?.[0]?.name).to.equal('web');
  });

  it('cleans up after a run that was killed midway', async function () {
    const name = `killed-${process.pid}`;
    const child = spawn(process.execPath, ['test/fixtures/owned-cluster.ts', name], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [stateFile] = await new Promise<string[]>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', (line) => resolve([line])),
    );
    const state = JSON.parse(readFileSync(stateFile!, 'utf8')) as ClusterState;
    expect(state.processes.every(isRunning)).to.equal(true);

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(state.processes.some(isRunning), 'orphans survive the kill').to.equal(true);

    const messages: string[] = [];
    await removeStaleClusters((line) => messages.push(line));
    expect(state.processes.some(isRunning)).to.equal(false);
    expect(existsSync(stateFile!)).to.equal(false);
    expect(messages.join('\n')).to.contain(name);
  });
});
