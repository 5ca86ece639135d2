// The add-ons every kind cluster comes with, as objects to apply: CoreDNS (the cluster's DNS, so
// `<bot>.<namespace>.svc` answers from a pod), local-path-provisioner as the default StorageClass
// (claims bind to real folders on this machine), and metrics-server (the resource metrics API the
// HorizontalPodAutoscaler reads). Their images hold the same programs as upstream's, built here
// (tools/images/binary-image.ts); the manifests follow upstream's deploy files, trimmed to one node.

type Json = Record<string, unknown>;

export interface AddonImages {
  coredns: string;
  metricsServer: string;
  localPathProvisioner: string;
  /** An image with a shell for the provisioner's helper pods (mkdir and rm of volume folders). */
  shell: string;
}

export interface AddonSettings {
  images: AddonImages;
  clusterDns: string;
  clusterDomain: string;
  /** Where on this machine the volumes' folders are made. */
  localPathDir: string;
}

const system = 'kube-system';

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

export function addonObjects(settings: AddonSettings): Json[] {
  return [...coreDns(settings), ...localPath(settings), ...metricsServer(settings)];
}

/** The Deployments whose availability says the add-ons are up. */
export const addonDeployments = [
  { namespace: system, name: 'coredns' },
  { namespace: 'local-path-storage', name: 'local-path-provisioner' },
  { namespace: system, name: 'metrics-server' },
];

function serviceAccount(namespace: string, name: string): Json {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
}

function clusterRoleBinding(name: string, role: string, namespace: string, account: string): Json {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
  };
}

function deployment(namespace: string, name: string, pod: Json): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { 'k8s-app': name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'k8s-app': name } },
      template: { metadata: { labels: { 'k8s-app': name } }, spec: pod },
    },
  };
}

function coreDns({ images, clusterDns, clusterDomain }: AddonSettings): Json[] {
  // Only the cluster's own zones: a name outside them is refused, never forwarded, because
  // nothing on the local node may reach past this machine.
  const corefile = `${clusterDomain} in-addr.arpa ip6.arpa {
    errors
    health :8080 {
        lameduck 5s
    }
    ready :8181
    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {
        pods insecure
        ttl 30
    }
    prometheus :9153
    cache 30
    reload
    loadbalance
}
`;
  return [
    serviceAccount(system, 'coredns'),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        {
          apiGroups: [''],
          resources: ['endpoints', 'services', 'pods', 'namespaces'],
          verbs: ['list', 'watch'],
        },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          verbs: ['list', 'watch'],
        },
      ],
    },
    clusterRoleBinding('system:coredns', 'system:coredns', system, 'coredns'),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: system },
      data: { Corefile: corefile },
    },
    deployment(system, 'coredns', {
      serviceAccountName: 'coredns',
      priorityClassName: 'system-cluster-critical',
      // CoreDNS resolves for the cluster; it must not ask itself.
      dnsPolicy: 'Default',
      securityContext: {
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'coredns',
          image: images.coredns,
          imagePullPolicy: 'IfNotPresent',
          args: ['-conf', '/etc/coredns/Corefile'],
          ports: [
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
          ],
          resources: { requests: { cpu: '50m', memory: '70Mi' }, limits: { memory: '170Mi' } },
          livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
          securityContext: restrictedContainer,
          volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
    }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: system, labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        clusterIP: clusterDns,
        selector: { 'k8s-app': 'coredns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
  ];
}

function localPath({ images, localPathDir }: AddonSettings): Json[] {
  const namespace = 'local-path-storage';
  const account = 'local-path-provisioner';
  // One node, so this machine's folder is shared by every pod that mounts the claim: the
  // provisioner's shared-filesystem mode, which also serves ReadWriteMany claims.
  const config = { sharedFileSystemPath: localPathDir };
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      priorityClassName: 'system-node-critical',
      containers: [{ name: 'helper-pod', image: images.shell, imagePullPolicy: 'IfNotPresent' }],
    },
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    serviceAccount(namespace, account),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: account, namespace },
      rules: [
        {
          apiGroups: [''],
          resources: ['pods'],
          verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: account, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: account },
      rules: [
        {
          apiGroups: [''],
          resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: [''],
          resources: ['persistentvolumes'],
          verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
        },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        {
          apiGroups: ['storage.k8s.io'],
          resources: ['storageclasses'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
    clusterRoleBinding(account, account, namespace, account),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'local-path-config', namespace },
      data: {
        'config.json': JSON.stringify(config),
        // World-writable, as upstream's: a hostPath volume gets no fsGroup ownership.
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml': JSON.stringify(helperPod),
      },
    },
    deployment(namespace, account, {
      serviceAccountName: account,
      securityContext: {
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'local-path-provisioner',
          image: images.localPathProvisioner,
          imagePullPolicy: 'IfNotPresent',
          args: ['start', '--config', '/etc/config/config.json', '--service-account-name', account],
          env: [
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'CONFIG_MOUNT_PATH', value: '/etc/config/' },
          ],
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
          securityContext: restrictedContainer,
          volumeMounts: [{ name: 'config', mountPath: '/etc/config/' }],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'local-path-config' } }],
    }),
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: 'local-path',
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  ];
}

function metricsServer({ images }: AddonSettings): Json[] {
  const name = 'metrics-server';
  return [
    serviceAccount(system, name),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: 'system:aggregated-metrics-reader',
        labels: {
          'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
          'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
          'rbac.authorization.k8s.io/aggregate-to-view': 'true',
        },
      },
      rules: [
        {
          apiGroups: ['metrics.k8s.io'],
          resources: ['pods', 'nodes'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:metrics-server' },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'metrics-server-auth-reader', namespace: system },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'extension-apiserver-authentication-reader',
      },
      subjects: [{ kind: 'ServiceAccount', name, namespace: system }],
    },
    clusterRoleBinding(
      'metrics-server:system:auth-delegator',
      'system:auth-delegator',
      system,
      name,
    ),
    clusterRoleBinding('system:metrics-server', 'system:metrics-server', system, name),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: system, labels: { 'k8s-app': name } },
      spec: {
        selector: { 'k8s-app': name },
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }],
      },
    },
    deployment(system, name, {
      serviceAccountName: name,
      priorityClassName: 'system-cluster-critical',
      securityContext: {
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name,
          image: images.metricsServer,
          imagePullPolicy: 'IfNotPresent',
          args: [
            '--cert-dir=/tmp',
            '--secure-port=10250',
            '--kubelet-preferred-address-types=InternalIP',
            '--kubelet-use-node-status-port',
            '--metric-resolution=15s',
            // The kubelet's serving certificate is signed by the cluster's CA.
            '--kubelet-certificate-authority=/ca/ca.crt',
          ],
          ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
          readinessProbe: {
            httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' },
            periodSeconds: 5,
            failureThreshold: 3,
          },
          livenessProbe: {
            httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' },
            periodSeconds: 10,
            failureThreshold: 3,
          },
          resources: { requests: { cpu: '50m', memory: '100Mi' } },
          securityContext: restrictedContainer,
          volumeMounts: [
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'ca', mountPath: '/ca', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        { name: 'ca', configMap: { name: 'kube-root-ca.crt' } },
      ],
    }),
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'k8s-app': name } },
      spec: {
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        service: { name, namespace: system },
        // metrics-server serves with a certificate it makes itself, as upstream's manifest says.
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  ];
}
