// Integration: whole operator processes built on the kit (fixtures/operator.ts), against the real
// API server: serving, standby and failover, shutdown, lost leadership, and zero writes when idle.

import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { testCluster, type TestCluster } from '../../test/cluster.ts';
import { eventually } from '../../tools/eventually.ts';
import { ObjectClient } from './objects.ts';
import { leases } from './resource.ts';
import { KubeClient } from './rest.ts';
import {
  type ConfigMap,
  configMaps,
  type FixtureOperator,
  killFixtureOperators,
  sampleValue,
  startFixtureOperator,
} from '../../test/support/kit.ts';

type Lease = KubernetesObject & { spec?: { holderIdentity?: string } };

describe('Manager (operator processes on the real API server)', () => {
  let cluster: TestCluster;
  let client: ObjectClient;
  let namespace: string;
  let operators: FixtureOperator[];

  before(async () => {
    cluster = await testCluster();
    client = new ObjectClient(new KubeClient(cluster.kc));
  });
  beforeEach(async () => {
    namespace = await cluster.namespace('kit-manager');
    operators = [];
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      for (const o of operators) console.log(`--- ${o.identity} logs ---\n${o.logs.join('\n')}`);
    }
    killFixtureOperators();
  });

  async function start(identity: string, env?: Record<string, string>) {
    const operator = await startFixtureOperator(cluster, namespace, identity, env);
    operators.push(operator);
    return operator;
  }
  const holder = async () =>
    (await client.get<Lease>(leases, 'kit-fixture', namespace))?.spec?.holderIdentity;
  const source = (name: string, v: string) =>
    client.apply(configMaps, {
      metadata: { name, namespace, labels: { 'kit-fixture': 'source' } },
      data: { v },
    } as ConfigMap);
  const copyOf = async (name: string) =>
    (await client.get<ConfigMap>(configMaps, `${name}-copy`, namespace))?.data?.v;

  it('serves health, readiness and metrics, reconciles as leader, and exits 0 on SIGTERM after releasing the lease', async () => {
    const operator = await start('solo');
    expect((await operator.get('/healthz')).status).to.equal(200);
    await eventually('ready', async () =>
      (await operator.get('/readyz')).status === 200 ? true : undefined,
    );
    await eventually('leading', async () => ((await holder()) === 'solo' ? true : undefined));

    await source('s1', 'one');
    await eventually('the copy', async () => ((await copyOf('s1')) === 'one' ? true : undefined));

    const metrics = (await operator.get('/metrics')).text;
    expect(
      sampleValue(metrics, 'controller_runtime_reconcile_total', {
        controller: 'copier',
        result: 'success',
      }),
    ).to.be.greaterThan(0);
    expect(sampleValue(metrics, 'workqueue_adds_total', { name: 'copier' })).to.be.greaterThan(0);
    // Server-side apply answers 201 Created when it creates the object.
    expect(
      sampleValue(metrics, 'rest_client_requests_total', { method: 'PATCH', code: '201' }),
    ).to.be.greaterThan(0);
    expect(
      sampleValue(metrics, 'rest_client_requests_total', { method: 'GET', code: '200' }),
    ).to.be.greaterThan(0);
    expect(sampleValue(metrics, 'leader_election_master_status', { name: 'kit-fixture' })).to.equal(
      1,
    );
    expect(sampleValue(metrics, 'process_cpu_user_seconds_total')).to.be.a('number');
    expect(metrics).to.contain(
      'controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="copier"}',
    );

    operator.child.kill('SIGTERM');
    expect(await operator.exited).to.equal(0);
    expect(await holder(), 'released').to.equal(undefined);
  });

  it('keeps a second replica on standby (ready, not writing) and fails over when the leader stops', async () => {
    const [one, two] = await Promise.all([start('one'), start('two')]);
    const leaderId = await eventually('a leader', holder);
    const [leader, standby] = leaderId === 'one' ? [one!, two!] : [two!, one!];
    await eventually('standby ready', async () =>
      (await standby.get('/readyz')).status === 200 ? true : undefined,
    );
    await source('s1', 'one');
    await eventually('the copy', async () => ((await copyOf('s1')) === 'one' ? true : undefined));
    const standbyMetrics = (await standby.get('/metrics')).text;
    expect(
      sampleValue(standbyMetrics, 'leader_election_master_status', { name: 'kit-fixture' }) ?? 0,
    ).to.equal(0);
    // Both replicas start at once, so the loser of the race to create the Lease may have sent a
    // POST that was refused (409): refused requests write nothing. Count the accepted ones.
    const standbyWrites = ['POST', 'PATCH', 'DELETE'].map((method) =>
      ['200', '201'].reduce(
        (sum, code) =>
          sum + sumOver(standbyMetrics, 'rest_client_requests_total', { method, code }),
        0,
      ),
    );
    expect(
      standbyWrites,
      'a standby writes nothing (its lease attempts are GET and PUT)',
    ).to.deep.equal([0, 0, 0]);

    leader.child.kill('SIGTERM');
    expect(await leader.exited).to.equal(0);
    await eventually('the standby takes over', async () =>
      (await holder()) === standby.identity ? true : undefined,
    );
    await source('s2', 'two');
    await eventually('the new leader reconciles', async () =>
      (await copyOf('s2')) === 'two' ? true : undefined,
    );
  });

  it('exits 1, and writes nothing more, when another process takes its lease', async () => {
    const operator = await start('victim');
    await eventually('leading', async () => ((await holder()) === 'victim' ? true : undefined));
    const lease = (await client.get<Lease>(leases, 'kit-fixture', namespace))!;
    await client.update(leases, {
      ...lease,
      spec: { ...lease.spec, holderIdentity: 'thief', leaseDurationSeconds: 600 },
    });
    expect(await operator.exited).to.equal(1);
    await source('after', 'x');
    await sleep(500);
    expect(await copyOf('after')).to.equal(undefined);
  });

  it('makes no writes while idle, across full relists that reconcile every object again', async () => {
    const operator = await start('idle', { RELIST_MS: '1000' });
    await eventually('leading', async () => ((await holder()) === 'idle' ? true : undefined));
    await Promise.all(['a', 'b', 'c'].map((name) => source(name, name)));
    await eventually('the copies', async () =>
      (await copyOf('c')) === 'c' && (await copyOf('a')) === 'a' ? true : undefined,
    );
    // Let the informers see our own writes come back, then measure.
    await sleep(1500);
    const writes = (text: string) =>
      ['POST', 'PATCH', 'DELETE'].map(
        (method) => `${method}=${sumOver(text, 'rest_client_requests_total', { method })}`,
      );
    const reconciles = (text: string) =>
      sumOver(text, 'controller_runtime_reconcile_total', { controller: 'copier' });
    const before = (await operator.get('/metrics')).text;
    await sleep(3500); // three relist periods (±10%)
    const after = (await operator.get('/metrics')).text;
    expect(reconciles(after), 'relists reconciled everything again').to.be.at.least(
      reconciles(before) + 6,
    );
    expect(writes(after)).to.deep.equal(writes(before));
  });
});

/** Sum of every sample of a metric whose labels include `labels`. */
function sumOver(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const value = sampleValue(line, name, labels);
    if (value !== undefined) total += value;
  }
  return total;
}
