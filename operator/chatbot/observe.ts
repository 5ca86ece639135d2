// What is actually going on with a ChatBot, read from its Deployment, its pods and its claim: the
// conditions say the pods' truth (no GPU free, out of memory, crash looping, bad image, model that
// won't load) instead of a Ready that only means "the Deployment exists".

import type {
  V1ContainerStatus,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Pod,
} from '@kubernetes/client-node';
import type { ChatBot } from '../api/types.generated.ts';
import type { ResolvedChatBot } from './resolve.ts';

export interface ObservedCondition {
  type: 'Ready' | 'Progressing' | 'Degraded' | 'ModelReady';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface Observed {
  deployment?: V1Deployment;
  pods: V1Pod[];
  claim?: V1PersistentVolumeClaim;
  /** Children the operator could not write in this reconcile, with the API server's reason. */
  applyFailures?: string[];
}

export interface Observation {
  conditions: ObservedCondition[];
  replicas: number;
  readyReplicas: number;
}

interface Problem {
  reason: string;
  message: string;
}

/** Most severe first: the first problem found names Degraded's reason. */
function podProblems(cb: ChatBot, pods: V1Pod[]): Problem[] {
  const found = new Map<string, { pods: string[]; detail: string }>();
  const note = (reason: string, pod: V1Pod, detail: string) => {
    const entry = found.get(reason) ?? { pods: [], detail };
    entry.pods.push(pod.metadata?.name ?? '?');
    found.set(reason, entry);
  };

  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const unschedulable = pod.status?.conditions?.find(
      (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
    );
    if (unschedulable) {
      const gpu = /nvidia\.com\/gpu/.test(unschedulable.message ?? '');
      note(gpu ? 'InsufficientGPU' : 'Unschedulable', pod, unschedulable.message ?? '');
    }
    for (const status of pod.status?.initContainerStatuses ?? []) {
      const failed = terminatedWithError(status);
      if (failed !== undefined) note('ModelLoadFailed', pod, failed);
    }
    for (const status of pod.status?.containerStatuses ?? []) {
      const last = status.lastState?.terminated;
      if (last?.reason === 'OOMKilled' || status.state?.terminated?.reason === 'OOMKilled') {
        note('OOMKilled', pod, '');
      }
      const waiting = status.state?.waiting?.reason;
      if (
        waiting === 'ImagePullBackOff' ||
        waiting === 'ErrImagePull' ||
        waiting === 'InvalidImageName'
      ) {
        note('ImagePullBackOff', pod, status.state?.waiting?.message ?? '');
      } else if (waiting === 'CrashLoopBackOff') {
        note('CrashLoopBackOff', pod, last?.message ?? last?.reason ?? '');
      } else if (waiting === 'CreateContainerConfigError') {
        note('ContainerConfigError', pod, status.state?.waiting?.message ?? '');
      }
    }
  }

  const advice: Record<string, (detail: string, pods: string) => string> = {
    InsufficientGPU: (d, p) =>
      `pods ${p} are Pending: no node has ${cb.spec.resources.gpu} free nvidia.com/gpu (${d.trim()}). ` +
      'Add GPU nodes, lower resources.gpu, or set resources.gpu: 0 to run on CPU.',
    Unschedulable: (d, p) =>
      `pods ${p} cannot be scheduled (${d.trim()}). Check resources, nodeSelector and tolerations.`,
    OOMKilled: (_d, p) =>
      `the runtime in pods ${p} was killed for exceeding its memory limit ` +
      `(resources.memory ${cb.spec.resources.memory}). Raise resources.memory, lower ` +
      'runtime.maxConcurrency, or use a smaller or quantized model.',
    ImagePullBackOff: (d, p) =>
      `pods ${p} cannot pull the runtime image (${d.trim()}). Check runtime.image and the registry credentials.`,
    ModelLoadFailed: (d, p) =>
      `the model loader failed in pods ${p}: ${d.trim()}. Check model.source (url reachable, sha256 ` +
      'matching, a supported model) and the storage space.',
    CrashLoopBackOff: (d, p) =>
      `the runtime keeps crashing in pods ${p}${d ? `: ${d.trim()}` : ''}. See \`kubectl logs --previous\`.`,
    ContainerConfigError: (d, p) => `pods ${p} cannot start: ${d.trim()}`,
  };
  return Object.keys(advice)
    .filter((reason) => found.has(reason))
    .map((reason) => {
      const { pods: names, detail } = found.get(reason)!;
      return { reason, message: advice[reason]!(detail, names.join(', ')) };
    });
}

/**
 * Why the loader failed, if it has: its own exit once it has finished (a retry that succeeded
 * clears an earlier failure), else the attempt before the one waiting or running now.
 */
function terminatedWithError(status: V1ContainerStatus): string | undefined {
  const t = status.state?.terminated ?? status.lastState?.terminated;
  return t && t.exitCode !== 0 ? t.message?.trim() || `exit code ${t.exitCode}` : undefined;
}

function storageProblems(
  bot: ResolvedChatBot,
  claim: V1PersistentVolumeClaim | undefined,
): Problem[] {
  const { name } = bot.claim;
  if (!claim) {
    return !bot.claim.managed
      ? [
          {
            reason: 'ClaimNotFound',
            message: `storage.existingClaim ${name} does not exist; create it or remove the field.`,
          },
        ]
      : [];
  }
  const problems: Problem[] = [];
  if (claim.status?.phase === 'Pending') {
    problems.push({
      reason: 'StoragePending',
      message:
        `claim ${name} is Pending: no volume is bound yet. Check that storage class ` +
        `"${claim.spec?.storageClassName ?? '(default)'}" exists and supports ` +
        `${claim.spec?.accessModes?.join(', ')}.`,
    });
  }
  const modes = claim.spec?.accessModes ?? [];
  if (bot.severalReplicas && !modes.includes('ReadWriteMany')) {
    problems.push({
      reason: 'StorageAccessMode',
      message:
        `claim ${name} is ${modes.join(', ')}, but the spec asks for more than one replica: replicas ` +
        'on other nodes cannot mount it (Multi-Attach error). Use a ReadWriteMany claim ' +
        '(storage.existingClaim or a new ChatBot), or scaling.replicas: 1.',
    });
  }
  return problems;
}

export function observe(bot: ResolvedChatBot, observed: Observed): Observation {
  const { deployment, pods } = observed;
  const replicas = deployment?.status?.replicas ?? 0;
  const readyReplicas = deployment?.status?.readyReplicas ?? 0;
  const desired = deployment?.spec?.replicas ?? 0;
  const problems = [...podProblems(bot.cb, pods), ...storageProblems(bot, observed.claim)];
  if (observed.applyFailures?.length) {
    problems.unshift({
      reason: 'ApplyFailed',
      message: `the operator could not update ${observed.applyFailures.join('; ')}`,
    });
  }

  const stalled = deployment?.status?.conditions?.find(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stalled) {
    problems.push({
      reason: 'ProgressDeadlineExceeded',
      message: stalled.message ?? 'the rollout stalled',
    });
  }

  const generation = deployment?.metadata?.generation ?? 0;
  const updated = deployment?.status?.updatedReplicas ?? 0;
  const available = deployment?.status?.availableReplicas ?? 0;
  // As the Deployment itself judges it: done when every replica runs the current template and
  // is available, and no old replica is left.
  const rolling =
    !deployment ||
    (deployment.status?.observedGeneration ?? 0) < generation ||
    updated < desired ||
    available < desired ||
    replicas > updated;

  const degraded: ObservedCondition = problems.length
    ? {
        type: 'Degraded',
        status: 'True',
        reason: problems[0]!.reason,
        message: problems.map((p) => p.message).join(' '),
      }
    : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems seen' };

  const progressing: ObservedCondition = stalled
    ? {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: stalled.message ?? '',
      }
    : rolling
      ? {
          type: 'Progressing',
          status: 'True',
          reason: 'RollingOut',
          message: `${updated} of ${desired} replicas run the current configuration, ${available} available`,
        }
      : {
          type: 'Progressing',
          status: 'False',
          reason: 'RolloutComplete',
          message: `all ${desired} replicas run the current configuration`,
        };

  const loading = pods.some((pod) =>
    pod.status?.initContainerStatuses?.some((s) => s.name === 'model-loader' && s.state?.running),
  );
  const loadFailed = problems.find((p) => p.reason === 'ModelLoadFailed');
  const modelReady: ObservedCondition =
    readyReplicas > 0
      ? {
          type: 'ModelReady',
          status: 'True',
          reason: 'ModelLoaded',
          message: 'a replica has loaded the model and serves it',
        }
      : loadFailed
        ? {
            type: 'ModelReady',
            status: 'False',
            reason: 'ModelLoadFailed',
            message: loadFailed.message,
          }
        : loading
          ? {
              type: 'ModelReady',
              status: 'False',
              reason: 'ModelLoading',
              message: 'the model loader is downloading and verifying the model',
            }
          : {
              type: 'ModelReady',
              status: 'False',
              reason: 'NotLoaded',
              message: 'no replica has loaded the model yet',
            };

  const ready: ObservedCondition =
    readyReplicas > 0
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'Serving',
          message: `${readyReplicas} of ${desired} replicas ready`,
        }
      : desired === 0 && deployment
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'ScaledToZero',
            message: 'scaling.replicas is 0',
          }
        : {
            type: 'Ready',
            status: 'False',
            reason: problems[0]?.reason ?? 'ReplicasNotReady',
            message: problems[0]?.message ?? `0 of ${desired} replicas ready yet`,
          };

  return { conditions: [ready, progressing, degraded, modelReady], replicas, readyReplicas };
}
