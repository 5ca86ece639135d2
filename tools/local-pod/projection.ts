// Keeps a local folder in step with a Secret or ConfigMap, as the kubelet keeps a mounted volume:
// every change is written with the kubelet's atomic `..data` switch, so the runtime's hot reload
// sees exactly what it sees in a pod (only faster: the kubelet takes up to a minute or so).

import type { KubeConfig } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import { writeLikeKubelet } from './kubelet-volume.ts';

export interface Projection {
  /** Resolves once the object existed and its first content was written. */
  ready: Promise<void>;
  stop(): void;
}

export function projectVolume(
  kubeConfig: KubeConfig,
  kind: 'Secret' | 'ConfigMap',
  namespace: string,
  name: string,
  dir: string,
  onError: (err: Error) => void,
): Projection {
  const plural = kind === 'Secret' ? 'secrets' : 'configmaps';
  let stopped = false;
  let abort: AbortController | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  let writing = Promise.resolve();

  const write = (object: { data?: Record<string, string> }) => {
    const files = Object.fromEntries(
      Object.entries(object.data ?? {}).map(([file, value]) => [
        file,
        kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value,
      ]),
    );
    // One write at a time, in order: a later version must never be overwritten by an earlier one.
    writing = writing.then(() => writeLikeKubelet(dir, files)).then(resolveReady, onError);
  };

  const watch = async () => {
    while (!stopped) {
      try {
        const ended = new Promise<void>((resolve) => {
          void new Watch(kubeConfig)
            .watch(
              `/api/v1/namespaces/${namespace}/${plural}`,
              { fieldSelector: `metadata.name=${name}` },
              (type, object: { data?: Record<string, string> }) => {
                if (type === 'ADDED' || type === 'MODIFIED') write(object);
              },
              () => resolve(),
            )
            .then(
              (controller) => (abort = controller),
              () => resolve(),
            );
        });
        await ended;
      } catch (err) {
        onError(err as Error);
      }
      // The watch ended (server timeout, restart): start another after a breath.
      if (!stopped) await new Promise((r) => setTimeout(r, 500));
    }
  };
  void watch();
  return {
    ready,
    stop: () => {
      stopped = true;
      abort?.abort();
    },
  };
}
