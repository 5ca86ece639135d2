// What the ApiKey's status says, on the in-memory model in test/support/apikey-model.ts.

import { expect } from 'chai';
import { newModel, requestRotation, settle, world } from '../../test/support/apikey-model.ts';
import { desiredStatus } from './status.ts';

/** The same value with every object's fields in reverse order, as another writer might send it. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

describe('ApiKey status', () => {
  it('names the current key, its Secret, its expiry and the next rotation in Ready', () => {
    const m = newModel();
    settle(m);
    const status = m.apiKey.status!;
    const ready = status.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).to.include({ status: 'True', reason: 'KeyActive' });
    expect(ready.message).to.equal(
      `key ${status.currentKeyId} is in Secret bot-key, valid until ${status.expiresAt}; ` +
        `the next rotation is at ${status.renewalTime}.`,
    );
    expect(status.conditions!.find((c) => c.type === 'Rotating')).to.include({
      status: 'False',
      reason: 'Idle',
    });
  });

  it('lists each key by id, state and times, never its hash or the key', () => {
    const m = newModel({ rotation: { renewBefore: '360h', gracePeriod: '48h' } });
    settle(m);
    requestRotation(m, 'r1');
    settle(m);
    const keys = m.apiKey.status!.keys!;
    expect(keys.map((k) => k.state)).to.deep.equal(['Retiring', 'Active']);
    expect(Object.keys(keys[0]!)).to.have.members([
      'keyId',
      'state',
      'notBefore',
      'notAfter',
      'retireAfter',
    ]);
    expect(Object.keys(keys[1]!)).to.have.members(['keyId', 'state', 'notBefore', 'notAfter']);
  });

  it('calls for no write when the live status says the same with its fields in another order', () => {
    const m = newModel();
    settle(m);
    m.apiKey = { ...m.apiKey, status: reversed(m.apiKey.status) as typeof m.apiKey.status };
    expect(desiredStatus(world(m), {}, m.entry!.keys)).to.equal(undefined);
  });

  it('waits, saying why, while the ChatBot does not exist', () => {
    const m = newModel();
    m.chatBotExists = false;
    expect(settle(m)).to.deep.equal(['add-finalizer', 'status']);
    expect(m.apiKey.status!.conditions!.find((c) => c.type === 'Ready')).to.include({
      reason: 'ChatBotNotFound',
    });
  });
});
