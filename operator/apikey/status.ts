// The ApiKey's status: its keys as the verifier holds them (ids, states and times, never a hash
// or a key), the current key's expiry and renewal time, and the Ready and Rotating conditions.
// Computed from the world alone; the planner decides when it is written.

import { parseDuration } from '../../common/duration.ts';
import type { VerifierKey } from '../../common/runtime-secrets.ts';
import type { ApiKeyStatus, KeyStatus } from '../api/types.generated.ts';
import { sameJson, setCondition, type Condition, type ConditionUpdate } from '../kit/index.ts';
import { rotateAnnotation } from './names.ts';
import { effectiveGraceMs, renewalTime } from './schedule.ts';
import type { ApiKeyWorld, StagedKey } from './world.ts';

export interface StatusChange {
  ready?: Pick<ConditionUpdate, 'status' | 'reason' | 'message'>;
  rotating?: boolean;
  /** The rotation's one status write: the staged key becomes current. */
  commit?: StagedKey;
}

/**
 * The status the world calls for, given the verifier's keys once the step is done; undefined when
 * the live status already says it.
 */
export function desiredStatus(
  world: ApiKeyWorld,
  change: StatusChange,
  entryKeys: VerifierKey[],
): ApiKeyStatus | undefined {
  const { apiKey, now } = world;
  const live = apiKey.status ?? {};
  const generation = apiKey.metadata.generation;
  const status: ApiKeyStatus = { ...live, observedGeneration: generation };

  if (change.commit) {
    status.currentKeyId = change.commit.keyId;
    status.revision = (live.revision ?? 0) + 1;
    const request = apiKey.metadata.annotations?.[rotateAnnotation];
    if (request !== undefined) status.observedRotateRequest = request;
  }
  status.keys = entryKeys.map(toKeyStatus);
  const current = entryKeys.find((k) => k.keyId === status.currentKeyId);
  if (current) {
    status.expiresAt = current.notAfter;
    status.renewalTime = renewalTime(world, current).toISOString();
  }

  const rotating = change.rotating ?? (world.staged !== undefined && !change.commit);
  let conditions = setCondition(
    live.conditions as Condition[] | undefined,
    rotating
      ? {
          type: 'Rotating',
          status: 'True',
          reason: 'Rotating',
          message: `issuing key ${world.staged?.keyId ?? ''}`.trim(),
          observedGeneration: generation,
        }
      : {
          type: 'Rotating',
          status: 'False',
          reason: 'Idle',
          message: 'no rotation under way',
          observedGeneration: generation,
        },
    now,
  );
  const ready = change.ready ?? readiness(world, current);
  conditions = setCondition(
    conditions,
    { type: 'Ready', ...ready, observedGeneration: generation },
    now,
  );
  status.conditions = conditions;

  // setCondition keeps lastTransitionTime unless a status flips, so a status computed afresh
  // equals the live one when nothing changed.
  if (!change.commit && sameJson(live, status)) return undefined;
  return status;
}

function readiness(
  world: ApiKeyWorld,
  current: VerifierKey | undefined,
): Pick<ConditionUpdate, 'status' | 'reason' | 'message'> {
  if (!current)
    return { status: 'False', reason: 'Issuing', message: 'the first key is being issued' };
  const graceMs = effectiveGraceMs(world);
  const asked = parseDuration(world.apiKey.spec.rotation.gracePeriod);
  const note =
    graceMs > asked
      ? ` The grace period is raised to ${Math.ceil(graceMs / 60_000)}m (the ChatBot's token TTL plus clock skew), so tokens issued before a rotation live out their lifetime.`
      : '';
  return {
    status: 'True',
    reason: 'KeyActive',
    message:
      `key ${current.keyId} is in Secret ${world.apiKey.spec.secretName}, valid until ${current.notAfter}; ` +
      `the next rotation is at ${renewalTime(world, current).toISOString()}.${note}`,
  };
}

function toKeyStatus(key: VerifierKey): KeyStatus {
  const status: KeyStatus = {
    keyId: key.keyId,
    state: key.state,
    notBefore: key.notBefore,
    notAfter: key.notAfter,
  };
  return key.retireAfter ? { ...status, retireAfter: key.retireAfter } : status;
}
