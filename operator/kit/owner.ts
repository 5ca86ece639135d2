// Children name their controller in an ownerReference marked controller: true. That link lets a
// change to a child (a Deployment scaled by hand, a Secret deleted) wake the owner's reconcile, and
// lets the garbage collector delete children with their owner.

import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { apiVersionOf, type ResourceType } from './resource.ts';

/**
 * The key of object's controlling owner if that owner is of type `owner` (same kind and API
 * group), else undefined. A namespaced owner lives in its child's namespace.
 */
export function controllerOwnerKey(
  object: KubernetesObject,
  owner: ResourceType,
): string | undefined {
  const ref = object.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!ref || ref.kind !== owner.kind || groupOf(ref.apiVersion) !== owner.group) return undefined;
  const namespace = object.metadata?.namespace;
  if (owner.namespaced && !namespace) return undefined;
  return owner.namespaced ? `${namespace}/${ref.name}` : ref.name;
}

/** The ownerReference that makes `owner` the controller of a child (put it in the child's metadata). */
export function controllerReference(
  owner: KubernetesObject,
  resource: ResourceType,
): V1OwnerReference {
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!name || !uid) {
    throw new Error(
      `an owner reference needs the owner's name and uid: use the ${resource.kind} as read from the API`,
    );
  }
  return {
    apiVersion: apiVersionOf(resource),
    kind: resource.kind,
    name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
