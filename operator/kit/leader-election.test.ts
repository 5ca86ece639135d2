// Integration: leader election between candidates in this process and in child processes, on a
// real Lease.

import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { testCluster, type TestCluster } from '../../test/cluster.ts';
import { eventually } from '../../tools/eventually.ts';
import { LeaderElector } from './leader-election.ts';
import { ObjectClient } from './objects.ts';
import { leases } from './resource.ts';
import { KubeClient } from './rest.ts';
import { killFixtureOperators, startFixtureOperator, testLogger } from '../../test/support/kit.ts';

type Lease = KubernetesObject & {
  spec?: { holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number };
};

const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

describe('LeaderElector (real API server)', () => {
  let cluster: TestCluster;
  let client: ObjectClient;
  let namespace: string;
  const stops: AbortController[] = [];

  before(async () => {
    cluster = await testCluster();
    client = new ObjectClient(new KubeClient(cluster.kc));
  });
  beforeEach(async () => {
    namespace = await cluster.namespace('kit-election');
  });
  afterEach(() => {
    stops.splice(0).forEach((stop) => stop.abort());
    killFixtureOperators();
  });

  function candidate(identity: string, name = 'kit-test') {
    const transitions: string[] = [];
    const elector = new LeaderElector(new KubeClient(cluster.kc), {
      namespace,
      name,
      identity,
      ...timings,
      onStartedLeading: () => transitions.push('started'),
      onStoppedLeading: () => transitions.push('stopped'),
      logger: testLogger('leader-election'),
    });
    const stop = new AbortController();
    stops.push(stop);
    const done = elector.run(stop.signal);
    return { identity, elector, stop, done, transitions };
  }

  const lease = (name = 'kit-test') => client.get<Lease>(leases, name, namespace);

  /** Checks, every 50 ms for durationMs, that at most one candidate leads, and returns who led. */
  async function watchLeaders(
    candidates: Array<ReturnType<typeof candidate>>,
    durationMs: number,
  ): Promise<Set<string>> {
    const leaders = new Set<string>();
    const end = Date.now() + durationMs;
    while (Date.now() < end) {
      const now = candidates.filter((c) => c.elector.isLeader()).map((c) => c.identity);
      expect(now.length, `leaders at once: ${now.join(', ')}`).to.be.at.most(1);
      now.forEach((id) => leaders.add(id));
      await sleep(50);
    }
    return leaders;
  }

  it('elects exactly one of two candidates; when it releases, the other takes over', async () => {
    const a = candidate('a');
    const b = candidate('b');
    const first = await eventually('a leader', () => [a, b].find((c) => c.elector.isLeader()));
    const second = first === a ? b : a;
    // Several renew periods: still exactly the same one leader.
    expect([...(await watchLeaders([a, b], 2500))]).to.deep.equal([first.identity]);
    expect((await lease())!.spec!.holderIdentity).to.equal(first.identity);
    const transitionsBefore = (await lease())!.spec!.leaseTransitions!;

    first.stop.abort();
    await first.done;
    expect(first.elector.isLeader()).to.equal(false);
    expect(first.transitions).to.deep.equal(['started', 'stopped']);
    await eventually('the other takes over', () => (second.elector.isLeader() ? true : undefined));
    const after = (await lease())!.spec!;
    expect(after.holderIdentity).to.equal(second.identity);
    expect(after.leaseTransitions).to.equal(transitionsBefore + 1);
  });

  it('takes over from a leader that died without releasing, once the lease expires', async () => {
    const dying = await startFixtureOperator(cluster, namespace, 'process-1');
    await eventually('the process leads', async () =>
      (await lease('kit-fixture'))?.spec?.holderIdentity === 'process-1' ? true : undefined,
    );
    const standby = candidate('standby', 'kit-fixture');
    // While the process renews, the standby waits, however long.
    expect(await watchLeaders([standby], 2 * timings.leaseDurationMs)).to.deep.equal(new Set());

    dying.child.kill('SIGKILL');
    await dying.exited;
    await eventually('the standby takes over', () =>
      standby.elector.isLeader() ? true : undefined,
    );
    expect((await lease('kit-fixture'))!.spec!.holderIdentity).to.equal('standby');
  });

  it('stops leading at once when it finds someone else holding the lease', async () => {
    const a = candidate('a');
    await eventually('a leads', () => (a.elector.isLeader() ? true : undefined));
    const current = (await lease())!;
    // Someone else wins the lease (as after a long network partition of a).
    await client.update(leases, {
      ...current,
      spec: { ...current.spec, holderIdentity: 'thief', leaseDurationSeconds: 60 },
    });
    await a.done;
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.transitions).to.deep.equal(['started', 'stopped']);
    expect(
      (await lease())!.spec!.holderIdentity,
      'a lost; it does not release what it no longer holds',
    ).to.equal('thief');
  });

  it('refuses timings that would let two leaders overlap', () => {
    const make = (leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number) => () =>
      new LeaderElector(new KubeClient(cluster.kc), {
        namespace,
        name: 'x',
        identity: 'x',
        leaseDurationMs,
        renewDeadlineMs,
        retryPeriodMs,
      });
    expect(make(10_000, 10_000, 2000)).to.throw(/leaseDuration > renewDeadline/);
    expect(make(15_000, 2000, 2000)).to.throw(/1.2 × retryPeriod/);
    expect(make(15_000, 10_000, 2000)).not.to.throw();
  });
});
