// The kit's public API: import from here, not from the files behind it. See README.md.

export { Manager, type ManagerOptions, type ManagerOutcome } from './manager.ts';
export { runUntilSignalled } from './process.ts';
export {
  Informer,
  type InformerOptions,
  type InformerHandler,
  type InformerView,
} from './informer.ts';
export type { InformerEvent, IndexFunction } from './cache.ts';
export {
  Controller,
  type ControllerOptions,
  type Reconciler,
  type ReconcileResult,
  type WatchMapping,
} from './controller.ts';
export { WorkQueue, type WorkQueueOptions } from './queue.ts';
export type { BackoffOptions } from './backoff.ts';
export {
  ObjectClient,
  fieldManager,
  type ObjectList,
  type ListOptions,
  type DeleteOptions,
} from './objects.ts';
export { KubeClient, type KubeClientOptions, type KubeRequest } from './rest.ts';
export { apiVersionOf, resourceName, resourcePath, type ResourceType } from './resource.ts';
export { objectKey, splitKey } from './object-key.ts';
export { controllerOwnerKey, controllerReference } from './owner.ts';
export {
  appliedHashAnnotation,
  applyReason,
  withAppliedHash,
  type ApplyReason,
} from './apply-decision.ts';
export { isSubset } from './subset.ts';
export {
  findCondition,
  isConditionTrue,
  kubeTime,
  setCondition,
  statusNeedsApply,
  type Condition,
  type ConditionStatus,
  type ConditionUpdate,
} from './conditions.ts';
export { sameJson } from './canonical-json.ts';
export { EventRecorder, type EventRecorderOptions, type EventType } from './events.ts';
export { LeaderElector, type LeaderElectionOptions } from './leader-election.ts';
export {
  ApiError,
  ConflictError,
  NotLeaderError,
  TerminalError,
  isAlreadyExists,
  isNotFound,
} from './errors.ts';
export { metricsRegistry } from './metrics.ts';
