// The ApiKey planner: from what exists now, the ONE next write that moves an ApiKey towards its
// desired state. Rotations never lose a key, even when the operator dies between any two writes,
// because every step is decided from observed state, and the steps come in a safe order:
//
//   stage (new key in its own Secret) → publish (verifier knows it; the old key turns Retiring)
//   → deliver (consumer gets it, the old one stays as previous-api-key) → commit (status, one
//   write) → unstage. After the grace period: consumer drops previous-api-key, then the verifier
//   drops the old key. So the consumer never holds a key the verifier does not know.

import { parseDuration } from '../../common/duration.ts';
import type { ApiKeyVerifier, Scope, VerifierKey } from '../../common/runtime-secrets.ts';
import type { ApiKeyStatus } from '../api/types.generated.ts';
import { sameJson, isConditionTrue } from '../kit/index.ts';
import { finalizer, rotateAnnotation } from './names.ts';
import { effectiveGraceMs, renewalTime } from './schedule.ts';
import { desiredStatus, type StatusChange } from './status.ts';
import type { ApiKeyWorld, IssuedKey, StagedKey } from './world.ts';

/** Why status is written: part of failpoint names (apikey:status:<why>) and of the logs. */
export type StatusWhy = 'waiting' | 'revoked' | 'rotation-started' | 'rotation-committed' | 'sync';

export type Step =
  | { kind: 'add-finalizer' }
  | { kind: 'drop-verifier-entry' }
  | { kind: 'remove-finalizer' }
  | { kind: 'stage'; notBefore: string; notAfter: string }
  | { kind: 'unstage' }
  | { kind: 'publish'; entry: ApiKeyVerifier }
  /** current undefined: withdraw the key material (revocation). */
  | { kind: 'deliver'; current?: IssuedKey; previous?: IssuedKey }
  | { kind: 'status'; status: ApiKeyStatus; why: StatusWhy }
  /** Nothing to write; look again at revisitAt (the next rotation or retirement), if any. */
  | { kind: 'done'; revisitAt?: Date };

const iso = (ms: number) => new Date(ms).toISOString();

export function planApiKey(world: ApiKeyWorld): Step {
  const { apiKey, now } = world;
  const t = now.getTime();
  const finalizers = apiKey.metadata.finalizers ?? [];

  if (apiKey.metadata.deletionTimestamp) {
    // The key must stop working before the ApiKey disappears.
    if (world.entry) return { kind: 'drop-verifier-entry' };
    return finalizers.includes(finalizer) ? { kind: 'remove-finalizer' } : { kind: 'done' };
  }
  if (!finalizers.includes(finalizer)) return { kind: 'add-finalizer' };

  const waiting = (reason: string, message: string): Step =>
    statusStep(world, { ready: { status: 'False', reason, message } }, 'waiting');
  if (!world.chatBot) {
    return waiting(
      'ChatBotNotFound',
      `ChatBot ${apiKey.spec.chatBotRef.name} does not exist in namespace ${apiKey.metadata.namespace}: ` +
        'create it, or correct spec.chatBotRef.name',
    );
  }
  if (!world.hash || !world.verifierSecret) {
    return waiting('WaitingForChatBot', 'the ChatBot has not created its key Secrets yet');
  }
  if (world.deliveryProblem) return waiting('DeliveryFailed', world.deliveryProblem);

  if (apiKey.spec.revoked) return planRevocation(world);
  if (world.staged) return planRotation(world, world.staged);
  if (rotationDue(world)) {
    return {
      kind: 'stage',
      notBefore: iso(t),
      notAfter: iso(t + parseDuration(apiKey.spec.validity)),
    };
  }
  return planSteadyState(world);
}

/** Why a new key is needed now, if it is. */
function rotationDue(world: ApiKeyWorld): boolean {
  const { apiKey, consumer, now } = world;
  const status = apiKey.status ?? {};
  if (!status.currentKeyId || !consumer.current) return true; // never issued, or the Secret was lost
  const current = currentKey(world);
  if (!current || current.state === 'Revoked') return true; // un-revoked: never re-enable a key
  if (now.getTime() >= renewalTime(world, current).getTime()) return true;
  const request = apiKey.metadata.annotations?.[rotateAnnotation];
  return request !== undefined && request !== status.observedRotateRequest;
}

function planRotation(world: ApiKeyWorld, staged: StagedKey): Step {
  const { apiKey, consumer } = world;
  const status = apiKey.status ?? {};
  // Committed already (the operator stopped before cleaning up): only the staged Secret is left.
  if (status.currentKeyId === staged.keyId) return { kind: 'unstage' };
  if (!isConditionTrue(status.conditions, 'Rotating')) {
    return statusStep(world, { rotating: true }, 'rotation-started');
  }
  const published = world.entry?.keys.find((k) => k.keyId === staged.keyId);
  if (published?.state !== 'Active') return { kind: 'publish', entry: rotatedEntry(world, staged) };
  if (consumer.current?.key !== staged.key) {
    // The outgoing key stays deliverable as previous-api-key while the verifier accepts it.
    const outgoing = consumer.current;
    const keepsWorking =
      outgoing &&
      world.entry?.keys.some((k) => k.keyId === outgoing.keyId && k.state === 'Retiring');
    return { kind: 'deliver', current: staged, previous: keepsWorking ? outgoing : undefined };
  }
  return statusStep(world, { commit: staged }, 'rotation-committed');
}

function planRevocation(world: ApiKeyWorld): Step {
  if (world.staged) return { kind: 'unstage' };
  const entry = world.entry ?? rebuiltEntry(world);
  const revoked: ApiKeyVerifier = {
    ...specFields(world),
    keys: live(entry.keys, world.now).map((k) => ({ ...withoutRetire(k), state: 'Revoked' })),
  };
  // The verifier first: that is what makes the key stop working, at once.
  if (!sameJson(world.entry, revoked)) return { kind: 'publish', entry: revoked };
  if (world.consumer.current || world.consumer.previous) return { kind: 'deliver' };
  return statusStep(
    world,
    {
      ready: {
        status: 'False',
        reason: 'Revoked',
        message:
          'spec.revoked is true: every key of this ApiKey is refused. Set it to false to issue a new key.',
      },
    },
    'revoked',
  );
}

function planSteadyState(world: ApiKeyWorld): Step {
  const { consumer, now } = world;
  const t = now.getTime();
  const entry = world.entry ?? rebuiltEntry(world);
  // After the grace period the consumer lets go of the old key first, the verifier second.
  const previous = consumer.previous;
  if (previous && !entry.keys.some((k) => k.keyId === previous.keyId && usable(k, now))) {
    return { kind: 'deliver', current: consumer.current };
  }
  const desired: ApiKeyVerifier = {
    ...specFields(world),
    keys: live(entry.keys, now).map((k) => rehashed(world, k)),
  };
  if (!sameJson(world.entry, desired)) return { kind: 'publish', entry: desired };

  const step = statusStep(world, {}, 'sync');
  if (step.kind === 'status') return step;
  const current = currentKey(world)!;
  const moments = [
    renewalTime(world, current).getTime(),
    ...desired.keys.flatMap((k) =>
      k.state === 'Retiring' && k.retireAfter
        ? [Date.parse(k.retireAfter), Date.parse(k.retireAfter) + retiredRecordMs]
        : [],
    ),
    ...desired.keys.flatMap((k) => (k.state === 'Revoked' ? [Date.parse(k.notAfter)] : [])),
  ].filter((m) => m > t);
  return { kind: 'done', revisitAt: moments.length ? new Date(Math.min(...moments)) : undefined };
}

/** The verifier entry once `staged` takes over: the old Active key turns Retiring. */
function rotatedEntry(world: ApiKeyWorld, staged: StagedKey): ApiKeyVerifier {
  const t = world.now.getTime();
  const retireAfter = t + effectiveGraceMs(world);
  const keys = live((world.entry ?? rebuiltEntry(world)).keys, world.now)
    .filter((k) => k.keyId !== staged.keyId)
    .map((k) =>
      k.state === 'Active'
        ? {
            ...k,
            state: 'Retiring' as const,
            retireAfter: iso(Math.min(retireAfter, Date.parse(k.notAfter))),
          }
        : k,
    );
  keys.push({
    keyId: staged.keyId,
    hash: world.hash!(staged.key),
    state: 'Active',
    notBefore: staged.notBefore,
    notAfter: staged.notAfter,
  });
  return { ...specFields(world), keys };
}

/**
 * The entry rebuilt from status and the consumer's plaintext, when the verifier Secret lost it
 * (deleted and recreated empty). Keys whose plaintext is gone cannot be hashed and are left out.
 */
function rebuiltEntry(world: ApiKeyWorld): ApiKeyVerifier {
  const plaintext = [world.consumer.current, world.consumer.previous].filter(
    (k) => k !== undefined,
  );
  const keys: VerifierKey[] = (world.apiKey.status?.keys ?? []).flatMap((k) => {
    const material = plaintext.find((p) => p.keyId === k.keyId);
    if (!material) return [];
    const key: VerifierKey = {
      keyId: k.keyId,
      hash: world.hash!(material.key),
      state: k.state,
      notBefore: k.notBefore,
      notAfter: k.notAfter,
    };
    return k.retireAfter ? [{ ...key, retireAfter: k.retireAfter }] : [key];
  });
  return { ...specFields(world), keys };
}

/** A key's hash recomputed from plaintext when it is at hand (the pepper may have changed). */
function rehashed(world: ApiKeyWorld, key: VerifierKey): VerifierKey {
  const material = [world.consumer.current, world.consumer.previous].find(
    (p) => p?.keyId === key.keyId,
  );
  return material ? { ...key, hash: world.hash!(material.key) } : key;
}

/**
 * How long the verifier keeps a retired key's record past its retirement. The runtime refuses the
 * key from retireAfter on by itself; the record only lets it tell the client "rotated out" rather
 * than "unknown key" for a while.
 */
export const retiredRecordMs = 10 * 60_000;

/** Keys the verifier keeps: retired ones briefly, revoked ones until they would have expired. */
function live(keys: VerifierKey[], now: Date): VerifierKey[] {
  const t = now.getTime();
  return keys.filter((k) => {
    if (k.state === 'Retiring')
      return !k.retireAfter || Date.parse(k.retireAfter) + retiredRecordMs > t;
    if (k.state === 'Revoked') return Date.parse(k.notAfter) > t;
    return true;
  });
}

/** Keys a client may still present: the active one, and retiring ones inside their grace period. */
export function usable(key: VerifierKey, now: Date): boolean {
  if (key.state === 'Active') return true;
  return (
    key.state === 'Retiring' && (!key.retireAfter || Date.parse(key.retireAfter) > now.getTime())
  );
}

function withoutRetire(key: VerifierKey): VerifierKey {
  const { retireAfter: _retire, ...rest } = key;
  return rest;
}

function specFields(world: ApiKeyWorld): Omit<ApiKeyVerifier, 'keys'> {
  const { spec, metadata } = world.apiKey;
  return {
    apiKey: metadata.name!,
    scopes: [...spec.scopes] as Scope[],
    requestsPerMinute: spec.rateLimit.requestsPerMinute,
  };
}

/** The current key's verifier record (rebuilt when the verifier lost this ApiKey's file). */
function currentKey(world: ApiKeyWorld): VerifierKey | undefined {
  const id = world.apiKey.status?.currentKeyId;
  return (world.entry ?? rebuiltEntry(world)).keys.find((k) => k.keyId === id);
}

/** The status the world calls for, as a step; 'done' when the live status already says it. */
function statusStep(world: ApiKeyWorld, change: StatusChange, why: StatusWhy): Step {
  const entryKeys = change.commit
    ? rotatedEntryKeys(world, change.commit)
    : (world.entry?.keys ?? []);
  const status = desiredStatus(world, change, entryKeys);
  return status ? { kind: 'status', status, why } : { kind: 'done' };
}

/** The verifier's keys once the staged key is committed: published already, or about to be. */
function rotatedEntryKeys(world: ApiKeyWorld, staged: StagedKey): VerifierKey[] {
  return world.entry?.keys.some((k) => k.keyId === staged.keyId)
    ? world.entry.keys
    : rotatedEntry(world, staged).keys;
}
