// The operator as users run it: its image, built from Dockerfile.operator, installed by the Helm
// chart, running as pods on a real node under Pod Security "restricted".

import { expect } from 'chai';
import { eventually } from '../../tools/eventually.ts';
import { nodeCluster, type NodeCluster } from './node-cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('node: the operator, installed by helm, runs as pods', function () {
  this.timeout(900_000);
  let cluster: NodeCluster;
  let pods: Json[];

  before(async () => {
    cluster = await nodeCluster();
    const list = JSON.parse(
      await cluster.kubectl([
        'get',
        'pods',
        '-n',
        cluster.operatorNamespace,
        '-l',
        'app.kubernetes.io/name=clawbot-operator',
        '-o',
        'json',
      ]),
    ) as { items: Json[] };
    pods = list.items;
  });

  it('runs the image built here, every replica Running and Ready on the node', () => {
    expect(pods).to.have.length(2);
    for (const pod of pods) {
      expect(pod.spec.nodeName).to.equal(cluster.node.name);
      expect(pod.spec.containers[0].image).to.equal(cluster.images.operator);
      expect(pod.status.phase).to.equal('Running');
      const ready = pod.status.conditions.find((c: Json) => c.type === 'Ready');
      expect(ready.status, pod.metadata.name).to.equal('True');
      expect(pod.status.containerStatuses[0].restartCount).to.equal(0);
    }
  });

  it('is admitted under Pod Security "restricted", as its own non-root user', async () => {
    const ns = JSON.parse(
      await cluster.kubectl(['get', 'namespace', cluster.operatorNamespace, '-o', 'json']),
    ) as Json;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).to.equal('restricted');
    const uid = await cluster.kubectl([
      'exec',
      '-n',
      cluster.operatorNamespace,
      pods[0]!.metadata.name,
      '--',
      'node',
      '-e',
      'console.log(process.getuid())',
    ]);
    expect(uid.trim()).to.equal('1000');
  });

  it('elects one leader through its Lease; the other replica stands by', async () => {
    const holder = await eventually('a Lease holder', async () => {
      const lease = JSON.parse(
        await cluster.kubectl([
          'get',
          'lease',
          '-n',
          cluster.operatorNamespace,
          'clawbot-operator',
          '-o',
          'json',
        ]),
      ) as Json;
      return lease.spec.holderIdentity as string | undefined;
    });
    const names = pods.map((p) => p.metadata.name as string);
    expect(
      names.some((name) => holder.startsWith(name)),
      `${holder} among ${names}`,
    ).to.equal(true);
  });
});
