// RBAC rules taken apart into single grants (one verb on one resource), put back together without
// one of them, and read back out of the API server's "forbidden" messages.

import type { V1PolicyRule } from '@kubernetes/client-node';

export interface Grant {
  apiGroup: string;
  resource: string;
  verb: string;
  resourceNames?: string[];
}

export const grantName = (g: Grant) =>
  `${g.verb} ${g.resource}${g.apiGroup ? `.${g.apiGroup}` : ''}` +
  (g.resourceNames ? ` (${g.resourceNames.join(', ')})` : '');

export function grantsOf(rules: V1PolicyRule[]): Grant[] {
  return rules.flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((apiGroup) =>
      (rule.resources ?? []).flatMap((resource) =>
        rule.verbs.map((verb) => ({
          apiGroup,
          resource,
          verb,
          ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}),
        })),
      ),
    ),
  );
}

/** One rule per grant: rules that grant exactly these. */
export const rulesOf = (grants: Grant[]): V1PolicyRule[] =>
  grants.map((g) => ({
    apiGroups: [g.apiGroup],
    resources: [g.resource],
    verbs: [g.verb],
    ...(g.resourceNames ? { resourceNames: g.resourceNames } : {}),
  }));

/**
 * The grants an API server said were missing: its 403 message reads `… cannot <verb> resource
 * "<resource>" in API group "<group>" …` (quotes possibly escaped, as inside logged JSON).
 */
export function refusedGrants(text: string): Grant[] {
  const refusals = text.matchAll(
    /cannot (\w+) resource \\*"([^"\\]+)\\*" in API group \\*"([^"\\]*)\\*"/g,
  );
  return [...refusals].map(([, verb, resource, apiGroup]) => ({
    verb: verb!,
    resource: resource!,
    apiGroup: apiGroup!,
  }));
}

/** Whether a refusal is about this grant (resource names are not in the message). */
export const sameGrant = (refusal: Grant, grant: Grant) =>
  refusal.verb === grant.verb &&
  refusal.resource === grant.resource &&
  refusal.apiGroup === grant.apiGroup;
