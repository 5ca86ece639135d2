// A ChatBot resolved once per reconcile: the decisions several children share (names, labels,
// how it scales, where its model lives, how its claim attaches), so each desired child reads
// them instead of deriving them again, and they cannot disagree between two children.

import type { V1OwnerReference } from '@kubernetes/client-node';
import { podPaths } from '../../common/runtime-env.ts';
import type { ChatBot } from '../api/types.generated.ts';
import { childNames, labels, ownerReference, selectorLabels } from './names.ts';

export interface ResolvedChatBot {
  /** The resource, its spec as the API server defaulted it. */
  readonly cb: ChatBot;
  readonly names: ReturnType<typeof childNames>;
  /** On every child. */
  readonly labels: Record<string, string>;
  /** Select the pods. */
  readonly selectorLabels: Record<string, string>;
  readonly owner: V1OwnerReference;
  readonly scaling: Scaling;
  /** Whether replicas may run on several nodes at once (so the claim must be ReadWriteMany). */
  readonly severalReplicas: boolean;
  readonly model: ModelLocation;
  readonly claim: ClaimPlan;
}

export type Scaling =
  | { mode: 'fixed'; replicas: number }
  | { mode: 'autoscaling'; minReplicas: number; maxReplicas: number; targetCPU: number };

export interface ModelLocation {
  /** MODEL_PATH inside the runtime container. */
  path: string;
  /** The model-loader init container's work, for url sources; absent: the model is mounted. */
  download?: { url: string; sha256: string; format: 'onnx' | 'gguf' };
}

export interface ClaimPlan {
  /** The claim mounted at /app/data. */
  name: string;
  /** False for storage.existingClaim: the user's claim, which the operator never writes. */
  managed: boolean;
  /** For a claim the operator creates. */
  accessMode: string;
}

export function resolveChatBot(cb: ChatBot): ResolvedChatBot {
  const names = childNames(cb.metadata.name!);
  const scaling = scalingOf(cb);
  const severalReplicas =
    scaling.mode === 'autoscaling' ? scaling.maxReplicas > 1 : scaling.replicas > 1;
  const { storage } = cb.spec;
  return {
    cb,
    names,
    labels: labels(cb),
    selectorLabels: selectorLabels(cb),
    owner: ownerReference(cb),
    scaling,
    severalReplicas,
    model: modelLocation(cb),
    claim: {
      name: storage.existingClaim ?? names.claim,
      managed: !storage.existingClaim,
      // A ReadWriteOnce volume attaches to one node only, so replicas spread over nodes would
      // sit in "Multi-Attach error". One replica gets ReadWriteOnce (supported everywhere); more
      // need ReadWriteMany. The admission rules refuse an explicit ReadWriteOnce with more.
      accessMode: storage.accessMode ?? (severalReplicas ? 'ReadWriteMany' : 'ReadWriteOnce'),
    },
  };
}

/** The guide's default when the spec says nothing: autoscale 2–10 replicas at 70 % CPU. */
function scalingOf(cb: ChatBot): Scaling {
  const { replicas, autoscaling } = cb.spec.scaling;
  if (replicas !== undefined) return { mode: 'fixed', replicas };
  return {
    mode: 'autoscaling',
    minReplicas: autoscaling?.minReplicas ?? 2,
    maxReplicas: autoscaling?.maxReplicas ?? 10,
    targetCPU: autoscaling?.targetCPUUtilizationPercentage ?? 70,
  };
}

function modelLocation(cb: ChatBot): ModelLocation {
  const { source, format } = cb.spec.model;
  if (source.url && source.sha256) {
    const sha256 = source.sha256.toLowerCase();
    // One folder per content hash: a new model never overwrites the one pods are serving.
    return {
      path: `${podPaths.models}/${sha256.slice(0, 16)}`,
      download: { url: source.url, sha256, format },
    };
  }
  const inner = source.pvc?.path ?? source.image?.path ?? '/';
  return { path: joinPath(podPaths.modelSource, inner) };
}

function joinPath(base: string, inner: string): string {
  const trimmed = inner.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${base}/${trimmed}` : base;
}
