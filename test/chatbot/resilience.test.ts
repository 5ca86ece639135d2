// The operator under faults: killed in the middle of its work, an API server restart, two
// operator processes at once. Nothing may be lost or done twice.

import { expect } from 'chai';
import { sleep } from '../../tools/cluster/processes.ts';
import { testCluster, type TestCluster } from '../cluster.ts';
import { installCrds } from '../crds.ts';
import { startOperator, type OperatorProcess } from '../operator-process.ts';
import { eventually } from '../../tools/eventually.ts';
import { kube } from '../kube.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const bot = (name: string, replicas = 1) => ({
  apiVersion: 'clawbot.dev/v1alpha1',
  kind: 'ChatBot',
  metadata: { name },
  spec: {
    model: { source: { pvc: { claimName: 'models' } } },
    scaling: { replicas },
    resources: { cpu: '500m', memory: '1Gi' },
  },
});

/** Every managed object in the namespace, by kind and name, with its owner's uid. */
async function managedObjects(k: ReturnType<typeof kube>): Promise<Map<string, Json>> {
  const kinds = 'deployments,services,configmaps,secrets,serviceaccounts,persistentvolumeclaims';
  const list = JSON.parse(
    await k.kubectl([
      'get',
      kinds,
      '-l',
      'app.kubernetes.io/managed-by=clawbot-operator',
      '-o',
      'json',
    ]),
  ) as Json;
  return new Map((list.items as Json[]).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
}

describe('ChatBot operator under faults', function () {
  this.timeout(300_000);
  let cluster: TestCluster;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
  });

  it('loses and duplicates nothing when killed in the middle of its work', async () => {
    const namespace = await cluster.namespace('killed');
    const k = kube(cluster, namespace);
    const names = Array.from({ length: 30 }, (_, i) => `bot-${i}`);
    await k.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: names.map((n) => bot(n)) }),
    );

    const args = ['--leader-elect=false', `--namespaces=${namespace}`];
    const first = await startOperator(cluster, args);
    // Kill it (no chance to clean up) once it is part-way through.
    await eventually('some Deployments', async () => (await managedObjects(k)).size > 10 && true);
    await first.stop('SIGKILL');
    const halfway = await managedObjects(k);
    const keysBefore = new Map(
      [...halfway]
        .filter(([id]) => id.endsWith('-keys'))
        .map(([id, o]) => [id, o.data['apikey-pepper']]),
    );
    expect(halfway.size, 'killed only after everything was done').to.be.lessThan(names.length * 7);

    const second = await startOperator(cluster, args);
    try {
      const done = await eventually(
        'every ChatBot complete',
        async () => {
          const objects = await managedObjects(k);
          return objects.size === names.length * 7 && objects;
        },
        120_000,
      );
      // Exactly the expected children: one of each per ChatBot (seven in all, the claim among
      // them, kept on deletion so not owned), each owned by it, none twice, no stray names.
      for (const name of names) {
        for (const id of [
          `Deployment/${name}`,
          `Service/${name}`,
          `ConfigMap/${name}-config`,
          `Secret/${name}-keys`,
          `Secret/${name}-apikeys`,
          `ServiceAccount/${name}`,
        ]) {
          const object = done.get(id);
          expect(object, id).to.not.equal(undefined);
          expect(object!.metadata.ownerReferences?.[0]?.name, id).to.equal(name);
        }
      }
      // Keys written before the kill were kept, not issued again (a new pepper would void every
      // API-key hash).
      for (const [id, pepper] of keysBefore)
        expect(done.get(id)!.data['apikey-pepper'], id).to.equal(pepper);
      // And every ChatBot reports on the current generation.
      const list = JSON.parse(await k.kubectl(['get', 'chatbots', '-o', 'json'])) as Json;
      await eventually('status for every ChatBot', async () => {
        const l = JSON.parse(await k.kubectl(['get', 'chatbots', '-o', 'json'])) as Json;
        return (l.items as Json[]).every(
          (cb) => cb.status?.observedGeneration === cb.metadata.generation,
        );
      });
      expect(list.items).to.have.length(names.length);
    } finally {
      await second.stop();
    }
  });

  it('carries on across an API server restart', async () => {
    const namespace = await cluster.namespace('restart');
    const k = kube(cluster, namespace);
    const operator = await startOperator(cluster, [
      '--leader-elect=false',
      `--namespaces=${namespace}`,
    ]);
    try {
      await k.apply(bot('before'));
      await eventually('children of before', async () => !!(await k.get('deployment', 'before')));

      await cluster.controlPlane.restartApiServer();

      // The watches were cut: changes made after the restart must still arrive.
      await k.apply(bot('after'));
      await k.patch('chatbot', 'before', { spec: { scaling: { replicas: 2 } } });
      await eventually(
        'children of after',
        async () => !!(await k.get('deployment', 'after')),
        60_000,
      );
      await eventually(
        'before scaled to 2',
        async () => (await k.get('deployment', 'before'))?.spec.replicas === 2,
        60_000,
      );
      expect(operator.child.exitCode).to.equal(null);
    } finally {
      await operator.stop();
    }
  });

  it('writes only from the leader when two operators run', async () => {
    const namespace = await cluster.namespace('leader');
    const k = kube(cluster, namespace);
    const args = [
      '--leader-elect=true',
      `--namespaces=${namespace}`,
      `--lease-namespace=${namespace}`,
    ];
    const one = await startOperator(cluster, args);
    const two = await startOperator(cluster, args);
    const operators: OperatorProcess[] = [one, two];
    try {
      const leader = await eventually('a leader', async () => {
        const statuses = await Promise.all(
          operators.map((o) => o.metric('leader_election_master_status')),
        );
        return statuses.filter((s) => s === 1).length === 1 && operators[statuses.indexOf(1)];
      });
      const standby = operators.find((o) => o !== leader)!;
      await k.apply(bot('shared', 2));
      await eventually('children of shared', async () => !!(await k.get('deployment', 'shared')));
      await sleep(2000);

      expect(
        await leader.metric('rest_client_requests_total', { method: 'PATCH' }),
      ).to.be.greaterThan(0);
      // The standby only reads (and watches the Lease): no apply, create or delete of its own.
      for (const method of ['PATCH', 'DELETE']) {
        expect(await standby.metric('rest_client_requests_total', { method }), method).to.equal(0);
      }
      expect(
        await standby.metric('rest_client_requests_total', { method: 'POST', code: '201' }),
      ).to.equal(0);

      // The leader goes away gracefully (releasing its Lease): the standby takes over and works.
      expect(await leader.stop()).to.equal(0);
      await eventually(
        'the standby leads',
        async () => (await standby.metric('leader_election_master_status')) === 1,
      );
      await k.patch('chatbot', 'shared', { spec: { scaling: { replicas: 3 } } });
      await eventually(
        'the new leader applies the change',
        async () => (await k.get('deployment', 'shared'))?.spec.replicas === 3,
      );
    } finally {
      await Promise.all(operators.map((o) => o.stop()));
    }
  });
});
