// The planner's rotation flows, followed step by step on the in-memory model in
// test/support/apikey-model.ts. The same flows run against the real API server in test/apikey/.

import { expect } from 'chai';
import {
  apply,
  assertConsumerKnown,
  hash,
  hour,
  newModel,
  requestRotation,
  settle,
  world,
} from '../../test/support/apikey-model.ts';
import { planApiKey, retiredRecordMs } from './plan.ts';

describe('ApiKey planner', () => {
  it('issues the first key: stage, publish, deliver, then commit status in one write', () => {
    const m = newModel();
    expect(settle(m)).to.deep.equal([
      'add-finalizer',
      'stage',
      'status',
      'publish',
      'deliver',
      'status',
      'unstage',
    ]);
    expect(m.apiKey.status!.revision).to.equal(1);
    expect(m.apiKey.status!.currentKeyId).to.equal(m.consumer.current!.keyId);
    expect(m.entry!.keys).to.have.length(1);
    expect(m.entry!.keys[0]).to.include({ state: 'Active', hash: hash(m.consumer.current!.key) });
    const ready = m.apiKey.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready.status).to.equal('True');
    expect(m.apiKey.status!.expiresAt).to.equal(
      new Date(m.now.getTime() + 2160 * hour).toISOString(),
    );
  });

  it('rotates on request, keeping the old key as previous-api-key for the grace period', () => {
    const m = newModel({ rotation: { renewBefore: '360h', gracePeriod: '48h' } });
    settle(m);
    const first = m.consumer.current!;
    m.now = new Date(m.now.getTime() + hour);
    requestRotation(m, 'please');
    expect(settle(m)).to.deep.equal(['stage', 'status', 'publish', 'deliver', 'status', 'unstage']);
    expect(m.consumer.previous).to.deep.equal(first);
    expect(m.apiKey.status!.revision).to.equal(2);
    expect(m.apiKey.status!.observedRotateRequest).to.equal('please');
    const old = m.entry!.keys.find((k) => k.keyId === first.keyId)!;
    expect(old.state).to.equal('Retiring');
    expect(old.retireAfter).to.equal(new Date(m.now.getTime() + 48 * hour).toISOString());
    // The same annotation value does not rotate again.
    expect(settle(m)).to.deep.equal([]);
  });

  it('completes a rotation cut short after any step exactly once', () => {
    for (let cut = 1; cut <= 6; cut++) {
      const m = newModel();
      settle(m);
      requestRotation(m, `cut-${cut}`);
      for (let i = 0; i < cut; i++) apply(m, planApiKey(world(m)));
      assertConsumerKnown(m);
      // A restarted operator sees only what was written, and carries on.
      settle(m);
      expect(m.apiKey.status!.revision, `cut after ${cut}`).to.equal(2);
      expect(m.staged).to.equal(undefined);
      expect(m.entry!.keys.map((k) => k.state).sort()).to.deep.equal(['Active', 'Retiring']);
    }
  });

  it('lets go of the old key after the grace period: consumer first, then the verifier', () => {
    const m = newModel({ rotation: { renewBefore: '360h', gracePeriod: '48h' } });
    settle(m);
    requestRotation(m, 'r1');
    settle(m);
    m.now = new Date(m.now.getTime() + 48 * hour + 60_000);
    expect(settle(m)).to.deep.equal(['deliver']);
    expect(m.consumer.previous).to.equal(undefined);
    // The verifier keeps the retired key's record a little longer (the runtime already refuses
    // it), so clients hear "rotated out" rather than "unknown key".
    expect(m.entry!.keys).to.have.length(2);
    m.now = new Date(m.now.getTime() + retiredRecordMs);
    expect(settle(m)).to.deep.equal(['publish', 'status']);
    expect(m.entry!.keys).to.have.length(1);
    expect(m.apiKey.status!.keys).to.have.length(1);
  });

  it('keeps the old key at least as long as a token lives, even with a shorter grace period', () => {
    const m = newModel({ validity: '720h', rotation: { renewBefore: '24h', gracePeriod: '1h' } });
    settle(m);
    requestRotation(m, 'r1');
    settle(m);
    const old = m.entry!.keys.find((k) => k.state === 'Retiring')!;
    // The ChatBot's default token TTL is 24h; plus 60 s of clock skew.
    expect(Date.parse(old.retireAfter!) - m.now.getTime()).to.equal(24 * hour + 60_000);
    const ready = m.apiKey.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready.message).to.match(/grace period is raised/);
  });

  it('rotates by itself once renewBefore the expiry is reached', () => {
    const m = newModel({ validity: '720h', rotation: { renewBefore: '120h', gracePeriod: '48h' } });
    settle(m);
    const due = Date.parse(m.apiKey.status!.renewalTime!);
    expect(due).to.equal(m.now.getTime() + 600 * hour);
    m.now = new Date(due - 1000);
    expect(settle(m)).to.deep.equal([]);
    m.now = new Date(due);
    expect(settle(m)).to.include('stage');
    expect(m.apiKey.status!.revision).to.equal(2);
  });

  it('tells when to look again: the renewal time', () => {
    const m = newModel();
    settle(m);
    const step = planApiKey(world(m));
    expect(step).to.deep.equal({
      kind: 'done',
      revisitAt: new Date(m.apiKey.status!.renewalTime!),
    });
  });

  it('revokes at once (verifier first), withdraws the key, and issues a new one when un-revoked', () => {
    const m = newModel();
    settle(m);
    const revokedId = m.consumer.current!.keyId;
    m.apiKey = { ...m.apiKey, spec: { ...m.apiKey.spec, revoked: true } };
    expect(settle(m)).to.deep.equal(['publish', 'deliver', 'status']);
    expect(m.entry!.keys.map((k) => k.state)).to.deep.equal(['Revoked']);
    expect(m.consumer.current).to.equal(undefined);
    expect(m.apiKey.status!.conditions!.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'Revoked',
    });

    m.apiKey = { ...m.apiKey, spec: { ...m.apiKey.spec, revoked: false } };
    settle(m);
    expect(m.consumer.current!.keyId).to.not.equal(revokedId);
    expect(m.entry!.keys.find((k) => k.keyId === revokedId)!.state).to.equal('Revoked');
  });

  it('republishes hashes from the consumer Secret when the verifier lost them', () => {
    const m = newModel();
    settle(m);
    const before = structuredClone(m.entry);
    m.entry = undefined;
    expect(settle(m)).to.deep.equal(['publish']);
    expect(m.entry).to.deep.equal(before);
  });

  it('issues a new key when the consumer Secret was deleted', () => {
    const m = newModel();
    settle(m);
    const lost = m.consumer.current!.keyId;
    m.consumer = { exists: false };
    settle(m);
    expect(m.consumer.current!.keyId).to.not.equal(lost);
    // The lost key may still be in use somewhere: it retires after the grace period.
    expect(m.entry!.keys.find((k) => k.keyId === lost)!.state).to.equal('Retiring');
  });

  it('removes the key from the verifier before letting the ApiKey go', () => {
    const m = newModel();
    settle(m);
    m.apiKey = { ...m.apiKey, metadata: { ...m.apiKey.metadata, deletionTimestamp: m.now } };
    expect(settle(m)).to.deep.equal(['drop-verifier-entry', 'remove-finalizer']);
  });
});
