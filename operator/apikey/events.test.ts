// Which Events the ApiKey's steps tell, followed on the in-memory model in
// test/support/apikey-model.ts as the controller records them: once per step written.

import { expect } from 'chai';
import {
  apply,
  hour,
  newModel,
  requestRotation,
  settle,
  world,
  type Model,
} from '../../test/support/apikey-model.ts';
import { stepEvents } from './events.ts';
import { planApiKey, retiredRecordMs, type Step } from './plan.ts';
import type { ApiKeyWorld } from './world.ts';

/** The events of one step as "type reason: message"; none may carry a key or a hash. */
function tell(plannedFrom: ApiKeyWorld, step: Step): string[] {
  return stepEvents(plannedFrom, step).map((e) => {
    expect(e.message).to.not.match(/cbk_|[0-9a-f]{64}/);
    return `${e.type} ${e.reason}: ${e.message}`;
  });
}

function settleTelling(m: Model): string[] {
  const told: string[] = [];
  settle(m, (plannedFrom, step) => told.push(...tell(plannedFrom, step)));
  return told;
}

describe('ApiKey events', () => {
  it('tells Issued once for the first key, naming it by id', () => {
    const m = newModel();
    const told = settleTelling(m);
    const { currentKeyId, expiresAt } = m.apiKey.status!;
    expect(told).to.deep.equal([
      `Normal Issued: key ${currentKeyId} is issued, valid until ${expiresAt}`,
    ]);
  });

  it('tells Rotated with how long the old key stays valid, and nothing when it retires', () => {
    const m = newModel({ rotation: { renewBefore: '360h', gracePeriod: '48h' } });
    settle(m);
    const old = m.apiKey.status!.currentKeyId;
    m.now = new Date(m.now.getTime() + hour);
    requestRotation(m, 'r1');
    const told = settleTelling(m);
    const { currentKeyId, expiresAt } = m.apiKey.status!;
    const retireAfter = new Date(m.now.getTime() + 48 * hour).toISOString();
    expect(told).to.deep.equal([
      `Normal Rotated: key ${currentKeyId} is issued, valid until ${expiresAt}; ` +
        `key ${old} stays valid until ${retireAfter}`,
    ]);

    m.now = new Date(m.now.getTime() + 48 * hour + retiredRecordMs + 60_000);
    expect(settleTelling(m)).to.deep.equal([]);
  });

  it('tells a rotation once however it was cut short', () => {
    for (let cut = 1; cut <= 6; cut++) {
      const m = newModel();
      settle(m);
      requestRotation(m, `cut-${cut}`);
      const told: string[] = [];
      for (let i = 0; i < cut; i++) {
        const plannedFrom = world(m);
        const step = planApiKey(plannedFrom);
        told.push(...tell(plannedFrom, step));
        apply(m, step);
      }
      // A restarted operator plans from what was written: nothing written is planned again.
      told.push(...settleTelling(m));
      expect(
        told.map((t) => t.split(':')[0]),
        `cut after ${cut}`,
      ).to.deep.equal(['Normal Rotated']);
    }
  });

  it('tells Revoked, then Issued for the key after it, and Expired when the revoked key is gone', () => {
    const m = newModel();
    settle(m);
    const revoked = m.apiKey.status!.currentKeyId!;
    const notAfter = m.apiKey.status!.expiresAt!;
    m.apiKey = { ...m.apiKey, spec: { ...m.apiKey.spec, revoked: true } };
    expect(settleTelling(m)).to.deep.equal([
      `Normal Revoked: key ${revoked} is revoked (spec.revoked is true): the runtime refuses it`,
    ]);

    m.now = new Date(m.now.getTime() + hour);
    m.apiKey = { ...m.apiKey, spec: { ...m.apiKey.spec, revoked: false } };
    // The revoked key stays refused, not valid: this is an issuance, not a rotation.
    expect(settleTelling(m).map((t) => t.split(':')[0])).to.deep.equal(['Normal Issued']);

    m.now = new Date(Date.parse(notAfter));
    const expired = settleTelling(m).filter((t) => t.startsWith('Normal Expired'));
    expect(expired).to.deep.equal([
      `Normal Expired: key ${revoked} expired at ${notAfter} and is removed from the verifier`,
    ]);
  });

  it('tells Revoked for each key still valid when the ApiKey is deleted', () => {
    const m = newModel();
    settle(m);
    requestRotation(m, 'r1');
    settle(m);
    const ids = m.entry!.keys.map((k) => k.keyId);
    m.apiKey = { ...m.apiKey, metadata: { ...m.apiKey.metadata, deletionTimestamp: m.now } };
    expect(settleTelling(m)).to.deep.equal(
      ids.map(
        (id) =>
          `Normal Revoked: key ${id} is removed from the verifier: the ApiKey is being deleted`,
      ),
    );
  });
});
