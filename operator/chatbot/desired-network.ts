// How clients reach the replicas: a Service for the chat port; an Ingress when the spec exposes it
// outside the cluster (the guide's 80/443); and, when the spec lists allowed networks, a
// NetworkPolicy that admits only them to it (the guide's firewall rule, in Kubernetes).

import type { V1Ingress, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
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
  const controllers = cb.spec.expose?.controllerNamespaceSelector;
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
          from: [
            ...cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            // Exposed clients arrive from the ingress controller's pods, not their own address.
            ...(controllers ? [{ namespaceSelector: { matchLabels: controllers } }] : []),
          ],
          ports: [{ port: cb.spec.runtime.port, protocol: 'TCP' }],
        },
        // Probes and metric scrapes come from the node and the monitoring stack.
        { ports: [{ port: cb.spec.runtime.healthPort, protocol: 'TCP' }] },
      ],
    },
  };
  return policy as unknown as V1NetworkPolicy;
}

/**
 * Proxies buffer and time out what a chat needs unbuffered and long: tokens must reach the client
 * as they are made, and an answer without streaming can take minutes. ingress-nginx reads these
 * annotations (the runtime's X-Accel-Buffering: no header covers streams as well); other
 * controllers ignore them.
 */
const proxyAnnotations = {
  'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
  'nginx.ingress.kubernetes.io/proxy-read-timeout': '600',
  'nginx.ingress.kubernetes.io/proxy-send-timeout': '600',
  // The runtime's own body limit (1 MiB), so both refuse the same requests.
  'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
};

/** Undefined without spec.expose: the plan then deletes any previous Ingress. */
export function desiredIngress(bot: ResolvedChatBot): V1Ingress | undefined {
  const { cb } = bot;
  const expose = cb.spec.expose;
  if (!expose) return undefined;
  const issuer = expose.tls?.issuerRef;
  const certManager = issuer
    ? {
        [issuer.kind === 'ClusterIssuer'
          ? 'cert-manager.io/cluster-issuer'
          : 'cert-manager.io/issuer']: issuer.name,
      }
    : {};
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: bot.names.ingress,
      namespace: cb.metadata.namespace,
      labels: bot.labels,
      annotations: { ...proxyAnnotations, ...certManager },
      ownerReferences: [bot.owner],
    },
    spec: {
      ...(expose.ingressClassName ? { ingressClassName: expose.ingressClassName } : {}),
      ...(expose.tls ? { tls: [{ hosts: [expose.host], secretName: expose.tls.secretName }] } : {}),
      rules: [
        {
          host: expose.host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: bot.names.service, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  };
}
