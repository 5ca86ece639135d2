// Which resource type a request or informer is about, and the URL paths that follow from it.

/** A resource type: "" is the core group (Pods, Secrets, …). */
export interface ResourceType {
  group: string;
  version: string;
  /** The plural in URLs, e.g. "deployments". */
  plural: string;
  kind: string;
  namespaced: boolean;
}

export function apiVersionOf(resource: ResourceType): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

/** e.g. "deployments.apps", the name RBAC rules and error messages use. */
export function resourceName(resource: ResourceType): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

/**
 * The URL path of a collection (no name) or of one object. A namespaced resource without a
 * namespace means "across all namespaces", which only lists and watches may use.
 */
export function resourcePath(
  resource: ResourceType,
  target: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  const root = resource.group
    ? `/apis/${resource.group}/${resource.version}`
    : `/api/${resource.version}`;
  if (!resource.namespaced && target.namespace) {
    throw new Error(`${resourceName(resource)} is cluster-scoped: do not give it a namespace`);
  }
  const scope =
    resource.namespaced && target.namespace ? `/namespaces/${enc(target.namespace)}` : '';
  const object = target.name === undefined ? '' : `/${enc(target.name)}`;
  if (target.subresource && target.name === undefined) {
    throw new Error(`the ${target.subresource} subresource needs an object name`);
  }
  const sub = target.subresource ? `/${target.subresource}` : '';
  return `${root}${scope}/${resource.plural}${object}${sub}`;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** The resource types the kit itself reads and writes. */
export const leases: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
};

export const coreEvents: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
};
