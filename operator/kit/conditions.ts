// metav1.Condition bookkeeping. lastTransitionTime records when status last flipped, so it must
// survive reconciles that merely recompute the same status — otherwise every reconcile would
// rewrite the status (a write when idle) and the time would mean nothing.

import { isSubset } from './subset.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339, whole seconds, as metav1.Time serialises. */
  lastTransitionTime: string;
  /** CamelCase, for programs. */
  reason: string;
  /** For people: what is wrong and what to do. */
  message: string;
}

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/**
 * The conditions with `update` set. lastTransitionTime is `now` for a new condition or one whose
 * status flips, and kept otherwise. Other conditions and the order are kept; the input is not
 * changed.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const current = findCondition(list, update.type);
  const lastTransitionTime =
    current && current.status === update.status ? current.lastTransitionTime : kubeTime(now);
  const next: Condition = { ...update, lastTransitionTime };
  return current ? list.map((c) => (c === current ? next : c)) : [...list, next];
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(
  conditions: readonly Condition[] | undefined,
  type: string,
): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Whether a desired status differs from the live one: desired ⊆ live (see isSubset), except that
 * the conditions' lastTransitionTime is not compared, so a status computed afresh does not count
 * as a change. A condition added or dropped changes the list's length, which counts.
 */
export function statusNeedsApply(desired: object, live: object | undefined): boolean {
  const { conditions, ...rest } = desired as { conditions?: unknown };
  const comparable = Array.isArray(conditions)
    ? {
        ...rest,
        conditions: conditions.map((c: Record<string, unknown>) => ({
          ...c,
          lastTransitionTime: undefined,
        })),
      }
    : desired;
  return !isSubset(comparable, live ?? {});
}

/** metav1.Time's form: RFC 3339 in UTC with whole seconds. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
