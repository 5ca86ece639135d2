// How clients reach the replicas: a Service for the chat port, and, when the spec lists allowed
// networks, a NetworkPolicy that admits only them to it (the guide's firewall rule, in Kubernetes).

import type { V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import type { ResolvedChatBot } from './resolve.ts';

/** The in-cluster address of the chat API, reported in status.endpoint. */
export function endpointOf({ cb, names }: ResolvedChatBot): string {
  return `http://${names.service}.${cb.metadata.namespace}.svc:${cb.spec.runtime.port}`;
}

export function desiredService(bot: ResolvedChatBot): V1Service {
  const { cb } = bot;
  const annotations = cb.spec.service.annotations;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: bot.names.service,
      namespace: cb.metadata.namespace,
      labels: bot.labels,
      ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [bot.owner],
    },
    spec: {
      type: cb.spec.service.type,
      selector: bot.selectorLabels,
      // Only the chat port: health and metrics stay off the Service (and off load balancers).
      ports: [{ name: 'http', port: cb.spec.runtime.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** Undefined when the spec allows every network: the plan then deletes any previous policy. */
export function desiredNetworkPolicy(bot: ResolvedChatBot): V1NetworkPolicy | undefined {
  const { cb } = bot;
  const cidrs = cb.spec.network?.allowedCIDRs;
  if (!cidrs?.length) return undefined;
  // Built in the API's JSON field names; client-node's model type spells "from" as "_from".
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: bot.names.networkPolicy,
      namespace: cb.metadata.namespace,
      labels: bot.labels,
      ownerReferences: [bot.owner],
    },
    spec: {
      podSelector: { matchLabels: bot.selectorLabels },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: cidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [{ port: cb.spec.runtime.port, protocol: 'TCP' }],
        },
        // Probes and metric scrapes come from the node and the monitoring stack.
        { ports: [{ port: cb.spec.runtime.healthPort, protocol: 'TCP' }] },
      ],
    },
  };
  return policy as unknown as V1NetworkPolicy;
}
