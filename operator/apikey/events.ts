// The Kubernetes Events a planned step stands for, so that `kubectl describe apikey` tells each
// key's story: Issued, Rotated, Revoked, Expired. Derived from the step and the world it was
// planned from, and recorded by the controller only once the step's write has succeeded: a step
// that failed is planned again and told when it is written, and a written one is not planned
// again, because the next plan sees the write. Messages name keys by id, which is not secret, and
// never carry a key or its hash.

import type { VerifierKey } from '../../common/runtime-secrets.ts';
import type { ApiKeyStatus } from '../api/types.generated.ts';
import type { EventType } from '../kit/index.ts';
import { usable, type Step } from './plan.ts';
import type { ApiKeyWorld } from './world.ts';

export interface KeyEvent {
  type: EventType;
  reason: 'Issued' | 'Rotated' | 'Revoked' | 'Expired';
  message: string;
}

export function stepEvents(world: ApiKeyWorld, step: Step): KeyEvent[] {
  const before = world.entry?.keys ?? [];
  switch (step.kind) {
    case 'status':
      return step.why === 'rotation-committed' ? [issuance(world, step.status)] : [];
    case 'publish':
      return [
        ...newlyRevoked(before, step.entry.keys),
        ...removedExpired(before, step.entry.keys, world.now),
      ];
    case 'drop-verifier-entry':
      return before
        .filter((k) => usable(k, world.now))
        .map((k) => ({
          type: 'Normal',
          reason: 'Revoked',
          message: `key ${k.keyId} is removed from the verifier: the ApiKey is being deleted`,
        }));
    default:
      return [];
  }
}

/**
 * The commit made a new key current: a rotation when the key it replaces stays valid for the
 * grace period, otherwise (the first key, or one after a revocation) an issuance.
 */
function issuance(world: ApiKeyWorld, committed: ApiKeyStatus): KeyEvent {
  const issued = `key ${committed.currentKeyId} is issued, valid until ${committed.expiresAt}`;
  const replacedId = world.apiKey.status?.currentKeyId;
  const replaced = committed.keys?.find((k) => k.keyId === replacedId && k.state === 'Retiring');
  if (replaced?.retireAfter && Date.parse(replaced.retireAfter) > world.now.getTime()) {
    return {
      type: 'Normal',
      reason: 'Rotated',
      message: `${issued}; key ${replaced.keyId} stays valid until ${replaced.retireAfter}`,
    };
  }
  return { type: 'Normal', reason: 'Issued', message: issued };
}

function newlyRevoked(before: VerifierKey[], after: VerifierKey[]): KeyEvent[] {
  return after
    .filter(
      (k) => k.state === 'Revoked' && before.find((b) => b.keyId === k.keyId)?.state !== 'Revoked',
    )
    .map((k) => ({
      type: 'Normal',
      reason: 'Revoked',
      message: `key ${k.keyId} is revoked (spec.revoked is true): the runtime refuses it`,
    }));
}

/** Keys dropped past their expiry. Retired keys dropped earlier were told of by Rotated. */
function removedExpired(before: VerifierKey[], after: VerifierKey[], now: Date): KeyEvent[] {
  return before
    .filter(
      (k) => Date.parse(k.notAfter) <= now.getTime() && !after.some((a) => a.keyId === k.keyId),
    )
    .map((k) => ({
      type: 'Normal',
      reason: 'Expired',
      message: `key ${k.keyId} expired at ${k.notAfter} and is removed from the verifier`,
    }));
}
