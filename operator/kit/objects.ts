// Reads and writes of any resource type by group/version/plural, raw JSON in and out (no typed
// deserialisation, so what a reconciler compares is exactly what the API server returned).
// Writes use server-side apply with one field manager, so the operator owns exactly the fields it
// sets and nobody else's.

import type { KubernetesObject } from '@kubernetes/client-node';
import { applyReason, withAppliedHash, type ApplyReason } from './apply-decision.ts';
import { statusNeedsApply } from './conditions.ts';
import { isAlreadyExists, isNotFound } from './errors.ts';
import type { KubeClient } from './rest.ts';
import { apiVersionOf, resourceName, resourcePath, type ResourceType } from './resource.ts';

/** The field manager of every write the operator makes. */
export const fieldManager = 'clawbot-operator';

export interface ObjectList<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export interface ListOptions {
  /** Omit to list across all namespaces. */
  namespace?: string;
  labelSelector?: string;
  limit?: number;
  continue?: string;
  signal?: AbortSignal;
}

export interface DeleteOptions {
  /** Delete only this incarnation of the object / only if unchanged since read. */
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
}

export class ObjectClient {
  private readonly kube: KubeClient;

  constructor(kube: KubeClient) {
    this.kube = kube;
  }

  /** The object, or undefined if it does not exist. */
  async get<T extends KubernetesObject>(
    resource: ResourceType,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    try {
      return await this.kube.request<T>({
        method: 'GET',
        path: resourcePath(resource, { namespace, name }),
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One page of objects; pass the returned metadata.continue to get the next. */
  list<T extends KubernetesObject>(
    resource: ResourceType,
    options: ListOptions = {},
  ): Promise<ObjectList<T>> {
    return this.kube.request<ObjectList<T>>({
      method: 'GET',
      path: resourcePath(resource, { namespace: options.namespace }),
      query: {
        labelSelector: options.labelSelector,
        limit: options.limit,
        continue: options.continue,
      },
      signal: options.signal,
    });
  }

  /**
   * Server-side apply: the object becomes the operator's intent for the fields it contains
   * (forcing ownership of fields another manager set). apiVersion and kind are filled in.
   */
  apply<T extends KubernetesObject>(resource: ResourceType, object: T): Promise<T> {
    return this.applyTo(resource, object, undefined);
  }

  /** Server-side apply of `status` on the status subresource (nothing else of object is sent). */
  applyStatus<T extends KubernetesObject & { status?: unknown }>(
    resource: ResourceType,
    object: T,
  ): Promise<T> {
    const { name, namespace } = identity(resource, object);
    return this.applyTo(
      resource,
      { metadata: { name, namespace }, status: object.status } as T,
      'status',
    );
  }

  /**
   * Applies desired only if live differs from it (see applyReason), stamping the applied-hash
   * annotation. Returns why it applied, or undefined when it sent nothing.
   */
  async applyIfChanged<T extends KubernetesObject>(
    resource: ResourceType,
    desired: T,
    live: KubernetesObject | undefined,
  ): Promise<ApplyReason | undefined> {
    const stamped = withAppliedHash({
      ...desired,
      apiVersion: apiVersionOf(resource),
      kind: resource.kind,
    });
    const reason = applyReason(stamped, live);
    if (reason) await this.apply(resource, stamped);
    return reason;
  }

  /** Applies status only if it differs from live.status (see statusNeedsApply); true if it did. */
  async applyStatusIfChanged<T extends KubernetesObject & { status?: unknown }>(
    resource: ResourceType,
    live: T,
    status: NonNullable<T['status']>,
  ): Promise<boolean> {
    if (!statusNeedsApply(status, live.status as object | undefined)) return false;
    await this.applyStatus(resource, { ...live, status });
    return true;
  }

  /** Creates the object; with ignoreAlreadyExists, an existing one is success (returns undefined). */
  async create<T extends KubernetesObject>(
    resource: ResourceType,
    object: T,
    options: { ignoreAlreadyExists?: boolean } = {},
  ): Promise<T | undefined> {
    const { namespace } = identity(resource, object, { nameOptional: true });
    try {
      return await this.kube.request<T>({
        method: 'POST',
        path: resourcePath(resource, { namespace }),
        query: { fieldManager },
        body: { ...object, apiVersion: apiVersionOf(resource), kind: resource.kind },
      });
    } catch (err) {
      if (options.ignoreAlreadyExists && isAlreadyExists(err)) return undefined;
      throw err;
    }
  }

  /**
   * Replaces the object, only if it is unchanged since it was read: metadata.resourceVersion is
   * required, and a ConflictError means someone else wrote in between — read again and decide again.
   */
  update<T extends KubernetesObject>(
    resource: ResourceType,
    object: T,
    options: { subresource?: 'status' } = {},
  ): Promise<T> {
    const { name, namespace } = identity(resource, object);
    if (!object.metadata?.resourceVersion) {
      throw new Error(
        `update of ${resourceName(resource)} ${name} needs metadata.resourceVersion (from the read ` +
          'it is based on), so that a concurrent change is detected; use apply to write without one',
      );
    }
    return this.kube.request<T>({
      method: 'PUT',
      path: resourcePath(resource, { namespace, name, subresource: options.subresource }),
      query: { fieldManager },
      body: { ...object, apiVersion: apiVersionOf(resource), kind: resource.kind },
    });
  }

  /** A JSON merge patch (RFC 7386). */
  mergePatch<T extends KubernetesObject>(
    resource: ResourceType,
    target: { name: string; namespace?: string },
    patch: unknown,
  ): Promise<T> {
    return this.kube.request<T>({
      method: 'PATCH',
      path: resourcePath(resource, target),
      query: { fieldManager },
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /** Deletes the object; true if this call deleted it, false if it was already gone. */
  async delete(
    resource: ResourceType,
    target: { name: string; namespace?: string },
    options: DeleteOptions = {},
  ): Promise<boolean> {
    try {
      await this.kube.request({
        method: 'DELETE',
        path: resourcePath(resource, target),
        body: { apiVersion: 'v1', kind: 'DeleteOptions', ...options },
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private applyTo<T extends KubernetesObject>(
    resource: ResourceType,
    object: T,
    subresource: 'status' | undefined,
  ): Promise<T> {
    const { name, namespace } = identity(resource, object);
    return this.kube.request<T>({
      method: 'PATCH',
      path: resourcePath(resource, { namespace, name, subresource }),
      query: { fieldManager, force: true },
      body: { ...object, apiVersion: apiVersionOf(resource), kind: resource.kind },
      contentType: 'application/apply-patch+yaml',
    });
  }
}

function identity(
  resource: ResourceType,
  object: KubernetesObject,
  options: { nameOptional?: boolean } = {},
): { name: string; namespace?: string } {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  if (!name && !(options.nameOptional && object.metadata?.generateName)) {
    throw new Error(`a ${resource.kind} needs metadata.name`);
  }
  if (resource.namespaced && !namespace) {
    throw new Error(`${resource.kind} ${name} is namespaced: set metadata.namespace`);
  }
  return { name, namespace };
}
