// The data volume at /app/data. A claim is never recreated or shrunk: once it exists only its
// size request may grow, and it outlives the ChatBot when retainOnDelete is set.

import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { parseQuantity } from '../../common/quantity.ts';
import type { ResolvedChatBot } from './resolve.ts';

/** Undefined with storage.existingClaim: the user's claim is never touched. */
export function desiredClaim(
  bot: ResolvedChatBot,
  live: V1PersistentVolumeClaim | undefined,
): V1PersistentVolumeClaim | undefined {
  const { storage } = bot.cb.spec;
  if (!bot.claim.managed) return undefined;
  const metadata = {
    name: bot.claim.name,
    namespace: bot.cb.metadata.namespace,
    labels: bot.labels,
    // Without an owner the garbage collector leaves the claim (and the model and logs) behind.
    ...(storage.retainOnDelete ? {} : { ownerReferences: [bot.owner] }),
  };
  const liveSize = live?.spec?.resources?.requests?.storage;
  if (live?.spec) {
    // Access modes and class are immutable on a claim: repeat what it has (leaving them out of
    // an apply would ask the server to remove them). Only the request changes, only up, and only
    // once the claim is bound (the API server refuses to resize an unbound claim).
    const grow =
      live.status?.phase === 'Bound' &&
      (parseQuantity(storage.size) ?? 0) > (parseQuantity(liveSize ?? 0) ?? 0);
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata,
      spec: {
        accessModes: live.spec.accessModes,
        resources: { requests: { storage: String(grow ? storage.size : liveSize) } },
        ...(live.spec.storageClassName ? { storageClassName: live.spec.storageClassName } : {}),
      },
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata,
    spec: {
      accessModes: [bot.claim.accessMode],
      resources: { requests: { storage: String(storage.size) } },
      ...(storage.storageClassName ? { storageClassName: storage.storageClassName } : {}),
    },
  };
}
