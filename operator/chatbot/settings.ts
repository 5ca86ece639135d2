// Decisions derived from a ChatBot's spec that several child objects share: how it scales, how its
// claim may be attached, and where its model lives inside the pods.

import { createHash } from 'node:crypto';
import { podPaths } from '../../common/runtime-env.ts';
import type { ChatBot } from '../api/types.generated.ts';
import { childNames } from './names.ts';

export type Scaling =
  | { mode: 'fixed'; replicas: number }
  | { mode: 'autoscaling'; minReplicas: number; maxReplicas: number; targetCPU: number };

/** The guide's default when the spec says nothing: autoscale 2–10 replicas at 70 % CPU. */
export function scalingOf(cb: ChatBot): Scaling {
  const { replicas, autoscaling } = cb.spec.scaling;
  if (replicas !== undefined) return { mode: 'fixed', replicas };
  return {
    mode: 'autoscaling',
    minReplicas: autoscaling?.minReplicas ?? 2,
    maxReplicas: autoscaling?.maxReplicas ?? 10,
    targetCPU: autoscaling?.targetCPUUtilizationPercentage ?? 70,
  };
}

export const mayRunSeveralReplicas = (scaling: Scaling) =>
  scaling.mode === 'autoscaling' ? scaling.maxReplicas > 1 : scaling.replicas > 1;

/**
 * A ReadWriteOnce volume attaches to one node only, so replicas spread over nodes would sit in
 * "Multi-Attach error". One replica gets ReadWriteOnce (supported everywhere); more need
 * ReadWriteMany. The admission rules already refuse an explicit ReadWriteOnce with more replicas.
 */
export function claimAccessMode(cb: ChatBot): string {
  return (
    cb.spec.storage.accessMode ??
    (mayRunSeveralReplicas(scalingOf(cb)) ? 'ReadWriteMany' : 'ReadWriteOnce')
  );
}

export const claimName = (cb: ChatBot) =>
  cb.spec.storage.existingClaim ?? childNames(cb.metadata.name!).claim;

export interface ModelLocation {
  /** MODEL_PATH inside the runtime container. */
  path: string;
  /** The model-loader init container's work, for url sources. */
  download?: { url: string; sha256: string; format: 'onnx' | 'gguf' };
}

export function modelLocation(cb: ChatBot): ModelLocation {
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

/** A short stable hash of JSON-able values, for pod-template annotations that roll the pods. */
export function contentHash(...values: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 16);
}
