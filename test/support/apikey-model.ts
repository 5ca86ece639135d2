// The ApiKey planner's unit tests run it against this small in-memory model of the Secrets and
// the ApiKey: each step is carried out the way operator/apikey/execute.ts would, so whole
// rotations (and rotations cut short at any step) can be followed step by step.

import { createSecretKey } from 'node:crypto';
import { expect } from 'chai';
import { generateApiKey, hashApiKey } from '../../common/api-key.ts';
import type { ApiKeyVerifier } from '../../common/runtime-secrets.ts';
import { apiKeySpec } from '../../operator/api/apikey.ts';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { ApiKey, ApiKeySpec } from '../../operator/api/types.generated.ts';
import { finalizer, rotateAnnotation } from '../../operator/apikey/names.ts';
import { planApiKey, type Step } from '../../operator/apikey/plan.ts';
import type { ApiKeyWorld, IssuedKey, StagedKey } from '../../operator/apikey/world.ts';
import { chatBot } from './chatbots.ts';

export const hour = 3600_000;
const pepper = createSecretKey(Buffer.alloc(32, 7));
export const hash = (key: string) => hashApiKey(pepper, key);

export interface Model {
  apiKey: ApiKey;
  now: Date;
  entry?: ApiKeyVerifier;
  consumer: { exists: boolean; current?: IssuedKey; previous?: IssuedKey };
  staged?: StagedKey;
  chatBotExists: boolean;
}

export function newModel(spec: Partial<ApiKeySpec> = {}): Model {
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

export function world(m: Model): ApiKeyWorld {
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
export function apply(m: Model, step: Step): void {
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
export function assertConsumerKnown(m: Model): void {
  if (m.apiKey.metadata.deletionTimestamp) return;
  for (const key of [m.consumer.current, m.consumer.previous]) {
    if (!key) continue;
    const entry = m.entry?.keys.find((k) => k.keyId === key.keyId);
    expect(entry, `verifier lacks ${key.keyId}`).to.not.equal(undefined);
    expect(entry!.hash).to.equal(hash(key.key));
    expect(['Active', 'Retiring', 'Revoked']).to.include(entry!.state);
  }
}

/**
 * Plans and applies steps until done; returns the kinds of the steps taken. observe sees each step
 * with the world it was planned from, before it is applied.
 */
export function settle(
  m: Model,
  observe?: (plannedFrom: ApiKeyWorld, step: Step) => void,
  limit = 20,
): string[] {
  const kinds: string[] = [];
  for (let i = 0; i < limit; i++) {
    const plannedFrom = world(m);
    const step = planApiKey(plannedFrom);
    if (step.kind === 'done') return kinds;
    kinds.push(step.kind);
    observe?.(plannedFrom, step);
    apply(m, step);
    assertConsumerKnown(m);
  }
  throw new Error(`no end after ${limit} steps: ${kinds.join(', ')}`);
}

export const requestRotation = (m: Model, value: string) => {
  m.apiKey = {
    ...m.apiKey,
    metadata: { ...m.apiKey.metadata, annotations: { [rotateAnnotation]: value } },
  };
};
