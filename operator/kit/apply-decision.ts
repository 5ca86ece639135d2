// Zero writes when idle: decide whether a desired object (an apply configuration) needs to be
// applied, given the live object from the cache. Two checks, because each misses what the other
// catches:
// - a hash of the desired object, stored in an annotation when applying, changes whenever the
//   desired state does — including when a field is removed, which a subset test cannot see;
// - desired ⊆ live catches someone editing or deleting, by hand, a field we set.

import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { canonicalJson } from './canonical-json.ts';
import { isSubset } from './subset.ts';

export const appliedHashAnnotation = 'clawbot.dev/applied-hash';

/** Why an apply is needed: no live object, the desired state changed, or live was edited. */
export type ApplyReason = 'absent' | 'desired-changed' | 'live-drifted';

/** The desired object with the hash of its content in the applied-hash annotation. */
export function withAppliedHash<T extends KubernetesObject>(desired: T): T {
  const bare = withoutHash(desired);
  return {
    ...bare,
    metadata: {
      ...bare.metadata,
      annotations: { ...bare.metadata?.annotations, [appliedHashAnnotation]: hashOf(bare) },
    },
  };
}

/** Why desired must be applied over live, or undefined when live already is what we want. */
export function applyReason(
  desired: KubernetesObject,
  live: KubernetesObject | undefined,
): ApplyReason | undefined {
  if (!live) return 'absent';
  const bare = withoutHash(desired);
  if (live.metadata?.annotations?.[appliedHashAnnotation] !== hashOf(bare))
    return 'desired-changed';
  if (!isSubset(bare, live)) return 'live-drifted';
  return undefined;
}

/** sha256 of the object's JSON with keys sorted, so key order does not change the hash. */
export function hashOf(value: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(value) ?? '')
    .digest('hex');
}

// The object as it was before withAppliedHash: no hash annotation, and no annotations map at all if
// that leaves it empty, so {annotations: {}} and no annotations hash the same.
function withoutHash<T extends KubernetesObject>(object: T): T {
  const annotations = object.metadata?.annotations;
  if (!annotations) return object;
  const { [appliedHashAnnotation]: _hash, ...rest } = annotations;
  const metadata = { ...object.metadata };
  if (Object.keys(rest).length > 0) metadata.annotations = rest;
  else delete metadata.annotations;
  return { ...object, metadata };
}
