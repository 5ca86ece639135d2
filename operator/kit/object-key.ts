// Work-queue keys: "namespace/name" for namespaced objects and "name" for cluster-scoped ones, as in
// client-go, so a key names one object without holding on to it.

import type { KubernetesObject } from '@kubernetes/client-node';

export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name;
  if (!name) throw new Error('object has no metadata.name, so it has no key');
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
