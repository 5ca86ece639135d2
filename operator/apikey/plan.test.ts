// The planner against a small in-memory model of the Secrets and the ApiKey: each step is carried
// out the way execute.ts would, so whole rotations (and rotations cut short at any step) can be
// followed step by step. The same flows run against the real API server in test/apikey/.

import { createSecretKey } from 'node:crypto';
import { expect } from 'chai';
import { generateApiKey, hashApiKey } from '../../common/api-key.ts';
import type { ApiKeyVerifier } from '../../common/runtime-secrets.ts';
import { apiKeySpec } from '../api/apikey.ts';
import { withDefaults } from '../api/defaults.ts';
import type { ApiKey, ApiKeySpec } from '../api/types.generated.ts';
import { chatBot } from '../../test/support/chatbots.ts';
import { finalizer, rotateAnnotation } from './names.ts';
import { planApiKey, retiredRecordMs, type Step } from './plan.ts';
import type { ApiKeyWorld, IssuedKey, StagedKey } from './world.ts';

const hour = 3600_000;
const pepper = createSecretKey(Buffer.alloc(32, 7));
const hash = (key: string) => hashApiKey(pepper, key);

interface Model {
  apiKey: ApiKey;
  now: Date;
  entry?: ApiKeyVerifier;
  consumer: { exists: boolean; current?: IssuedKey; previous?: IssuedKey };
  staged?: StagedKey;
  chatBotExists: boolean;
}

function newModel(spec: Partial<ApiKeySpec> = {}): Model {
  return {
    apiKey: {
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'key', namespace: 'ns', generation: 1, uid: 'u1' },
      spec: withDefaults(apiKeySpec, {
        chatBotRef: { name: 'bot' },
        secretName: 'bot-key',
        ...spec,
      }) as ApiKeySpec,
    },
    now: new Date('2026-03-01T00:00:00Z'),
    consumer: { exists: false },
    chatBotExists: true,
  };
}

function world(m: Model): ApiKeyWorld {
  return {
    apiKey: m.apiKey,
    now: m.now,
    chatBot: m.chatBotExists
      ? chatBot({ model: { source: { pvc: { claimName: 'm' } } } }, 'bot', 'ns')
      : undefined,
    hash,
    verifierSecret: true,
    entry: m.entry,
    consumer: m.consumer,
    staged: m.staged,
  };
}

/** What execute.ts does, on the model. */
function apply(m: Model, step: Step): void {
  switch (step.kind) {
    case 'add-finalizer':
      m.apiKey = { ...m.apiKey, metadata: { ...m.apiKey.metadata, finalizers: [finalizer] } };
      return;
    case 'remove-finalizer':
      m.apiKey = { ...m.apiKey, metadata: { ...m.apiKey.metadata, finalizers: [] } };
      return;
    case 'drop-verifier-entry':
      m.entry = undefined;
      return;
    case 'stage': {
      const { key, keyId } = generateApiKey();
      m.staged = { key, keyId, notBefore: step.notBefore, notAfter: step.notAfter };
      return;
    }
    case 'unstage':
      m.staged = undefined;
      return;
    case 'publish':
      m.entry = structuredClone(step.entry);
      return;
    case 'deliver':
      m.consumer = { exists: true, current: step.current, previous: step.previous };
      return;
    case 'status':
      m.apiKey = { ...m.apiKey, status: structuredClone(step.status) };
      return;
    case 'done':
      return;
  }
}

/**
 * The invariant: the verifier knows whatever the consumer holds (as usable, or as revoked while
 * a revocation withdraws it). Not while the ApiKey is being deleted: its Secret goes with it.
 */
function assertConsumerKnown(m: Model): void {
  if (m.apiKey.metadata.deletionTimestamp) return;
  for (const key of [m.consumer.current, m.consumer.previous]) {
    if (!key) continue;
    const entry = m.entry?.keys.find((k) => k.keyId === key.keyId);
    expect(entry, `verifier lacks ${key.keyId}`).to.not.equal(undefined);
    expect(entry!.hash).to.equal(hash(key.key));
    expect(['Active', 'Retiring', 'Revoked']).to.include(entry!.state);
  }
}

/** Plans and applies steps until done; returns the kinds of the steps taken. */
function settle(m: Model, limit = 20): string[] {
  const kinds: string[] = [];
  for (let i = 0; i < limit; i++) {
    const step = planApiKey(world(m));
    if (step.kind === 'done') return kinds;
    kinds.push(step.kind);
    apply(m, step);
    assertConsumerKnown(m);
  }
  throw new Error(`no end after ${limit} steps: ${kinds.join(', ')}`);
}

const requestRotation = (m: Model, value: string) => {
  m.apiKey = {
    ...m.apiKey,
    metadata: { ...m.apiKey.metadata, annotations: { [rotateAnnotation]: value } },
  };
};

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

  it('waits, saying why, while the ChatBot does not exist', () => {
    const m = newModel();
    m.chatBotExists = false;
    expect(settle(m)).to.deep.equal(['add-finalizer', 'status']);
    expect(m.apiKey.status!.conditions!.find((c) => c.type === 'Ready')).to.include({
      reason: 'ChatBotNotFound',
    });
  });

  it('removes the key from the verifier before letting the ApiKey go', () => {
    const m = newModel();
    settle(m);
    m.apiKey = { ...m.apiKey, metadata: { ...m.apiKey.metadata, deletionTimestamp: m.now } };
    expect(settle(m)).to.deep.equal(['drop-verifier-entry', 'remove-finalizer']);
  });
});
