import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { appliedHashAnnotation, applyReason, hashOf, withAppliedHash } from './apply-decision.ts';

type Deployment = KubernetesObject & { spec: Record<string, unknown> };

function desiredDeployment(spec: Record<string, unknown> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      template: { spec: { containers: [{ name: 'c', image: 'i:1' }] } },
      ...spec,
    },
  };
}

/** What the API server would return after applying desired: defaults and server fields added. */
function liveAfterApplying(desired: Deployment): Deployment {
  const live = structuredClone(desired);
  live.metadata = { ...live.metadata, uid: 'u1', resourceVersion: '7', generation: 1 };
  live.spec = { ...live.spec, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 };
  return live;
}

describe('applyReason / withAppliedHash', () => {
  it('needs no apply when live is what was applied plus server defaults', () => {
    const desired = withAppliedHash(desiredDeployment());
    expect(applyReason(desired, liveAfterApplying(desired))).to.equal(undefined);
  });

  it('applies when there is no live object', () => {
    expect(applyReason(withAppliedHash(desiredDeployment()), undefined)).to.equal('absent');
  });

  it('notices a removed desired field through the hash', () => {
    const before = withAppliedHash(desiredDeployment({ paused: true }));
    const live = liveAfterApplying(before);
    const after = withAppliedHash(desiredDeployment());
    expect(applyReason(after, live)).to.equal('desired-changed');
  });

  it('notices a changed desired field', () => {
    const live = liveAfterApplying(withAppliedHash(desiredDeployment()));
    expect(applyReason(withAppliedHash(desiredDeployment({ replicas: 3 })), live)).to.equal(
      'desired-changed',
    );
  });

  it('notices an edit to a field we set, though the hash still matches', () => {
    const desired = withAppliedHash(desiredDeployment());
    const live = liveAfterApplying(desired);
    live.spec.replicas = 5;
    expect(applyReason(desired, live)).to.equal('live-drifted');
  });

  it('ignores edits to fields we do not set', () => {
    const desired = withAppliedHash(desiredDeployment());
    const live = liveAfterApplying(desired);
    live.metadata!.labels = { ...live.metadata!.labels, team: 'ops' };
    live.spec.minReadySeconds = 30;
    expect(applyReason(desired, live)).to.equal(undefined);
  });

  it('applies when the hash annotation was removed by hand', () => {
    const desired = withAppliedHash(desiredDeployment());
    const live = liveAfterApplying(desired);
    delete live.metadata!.annotations;
    expect(applyReason(desired, live)).to.equal('desired-changed');
  });

  it('hashes the same content the same way whatever the key order', () => {
    expect(hashOf({ a: 1, b: { c: 2, d: 3 } })).to.equal(hashOf({ b: { d: 3, c: 2 }, a: 1 }));
    expect(hashOf({ a: [1, 2] })).not.to.equal(hashOf({ a: [2, 1] }));
  });

  it('keeps the caller’s annotations and is stable when applied twice', () => {
    const desired = desiredDeployment();
    desired.metadata!.annotations = { owner: 'me' };
    const once = withAppliedHash(desired);
    expect(withAppliedHash(once)).to.deep.equal(once);
    expect(once.metadata!.annotations).to.have.property('owner', 'me');
    expect(once.metadata!.annotations![appliedHashAnnotation]).to.match(/^[0-9a-f]{64}$/);
    expect(desired.metadata!.annotations, 'input not mutated').to.deep.equal({ owner: 'me' });
  });

  it('hashes an empty annotations map like none', () => {
    const withEmpty = desiredDeployment();
    withEmpty.metadata!.annotations = {};
    const hashed = withAppliedHash(withEmpty);
    expect(applyReason(hashed, liveAfterApplying(hashed))).to.equal(undefined);
    expect(hashed.metadata!.annotations![appliedHashAnnotation]).to.equal(
      withAppliedHash(desiredDeployment()).metadata!.annotations![appliedHashAnnotation],
    );
  });
});
