// The local node's configuration files, as pure functions of where the node lives and how its
// network is laid out: containerd (with its CRI plugin), the CNI network, the kubelet and
// kube-proxy. Every choice that differs from upstream's defaults says why.

import { stringify } from 'yaml';
import type { NodeNetwork } from './network.ts';

export interface NodePaths {
  /** The node's folder under the cluster's (deleted with the cluster). */
  dir: string;
  containerdSocket: string;
  containerdRoot: string;
  cniConfDir: string;
  cniBinDir: string;
  ipamDir: string;
  kubeletRoot: string;
  podLogs: string;
  localPathDir: string;
  resolvConf: string;
}

export interface NodeIdentity {
  nodeName: string;
  /** Top of the node's cgroups (one per node, so two nodes on one machine never meet). */
  cgroupRoot: string;
  sandboxImage: string;
  clusterDns: string;
  clusterDomain: string;
}

export const clusterDomain = 'cluster.local';

export function nodePaths(dir: string): NodePaths {
  return {
    dir,
    containerdSocket: `${dir}/containerd.sock`,
    containerdRoot: `${dir}/containerd`,
    cniConfDir: `${dir}/cni`,
    // Debian's containernetworking-plugins.
    cniBinDir: '/usr/lib/cni',
    ipamDir: `${dir}/ipam`,
    kubeletRoot: `${dir}/kubelet`,
    podLogs: `${dir}/pod-logs`,
    localPathDir: `${dir}/local-path`,
    resolvConf: `${dir}/resolv.conf`,
  };
}

/** containerd 1.6 configuration (version 2): CRI on runc with cgroupfs, images never pulled. */
export function containerdConfig(paths: NodePaths, identity: NodeIdentity): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${paths.containerdRoot}"
# In the node's own /run (a tmpfs of its mount namespace): gone when the node stops.
state = "/run/containerd"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "${paths.containerdSocket}"

[ttrpc]
  address = "${paths.containerdSocket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${paths.containerdRoot}/opt"

[${cri}]
  # registry.k8s.io cannot be reached: the pause program is built here (tools/go/pause).
  sandbox_image = "${identity.sandboxImage}"
  # A negative oom_score_adj needs CAP_SYS_RESOURCE, which this machine does not give.
  restrict_oom_score_adj = true
  # containerd 2's default: pods may bind ports below 1024 without a capability (CoreDNS's 53).
  enable_unprivileged_ports = true
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        # No systemd on this machine: the kubelet's cgroupfs driver, and runc's.
        SystemdCgroup = false
  [${cri}.cni]
    bin_dir = "${paths.cniBinDir}"
    conf_dir = "${paths.cniConfDir}"
`;
}

/** The pod network: one bridge, addresses from the node's pod range, host ports, loopback. */
export function cniConfig(paths: NodePaths, network: NodeNetwork): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'clawbot',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // Pods reach nothing beyond this machine, so nothing needs masquerading.
          ipMasq: false,
          // A pod reaching itself through its Service comes back over the bridge.
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: paths.ipamDir,
            ranges: [[{ subnet: network.podCidr, gateway: network.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'loopback' },
      ],
    },
    null,
    2,
  );
}

export interface KubeletConfigInput {
  paths: NodePaths;
  identity: NodeIdentity;
  network: NodeNetwork;
  clientCaFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  /** How often the kubelet syncs every pod (and so refreshes mounted Secrets). */
  syncFrequency: string;
}

export function kubeletConfig(input: KubeletConfigInput): string {
  const { paths, identity, network } = input;
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: network.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    tlsCertFile: input.servingCertFile,
    tlsPrivateKeyFile: input.servingKeyFile,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: input.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    // This machine has cgroup v1 and no systemd; kubelet 1.35+ refuses v1 unless told.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: identity.cgroupRoot,
    failSwapOn: false,
    podLogsDir: paths.podLogs,
    // Pods get the cluster's DNS; upstream resolvers stay out (nothing leaves this machine).
    clusterDNS: [identity.clusterDns],
    clusterDomain: identity.clusterDomain,
    resolvConf: paths.resolvConf,
    syncFrequency: input.syncFrequency,
    // Images here were built on this machine and cannot be pulled again: never collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // The machine is shared with builds and tests; evict only when it is really short.
    evictionHard: {
      'memory.available': '200Mi',
      'nodefs.available': '2%',
      'imagefs.available': '2%',
      'nodefs.inodesFree': '2%',
    },
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
  });
}

export interface KubeProxyConfigInput {
  identity: NodeIdentity;
  network: NodeNetwork;
  kubeconfig: string;
}

export function kubeProxyConfig(input: KubeProxyConfigInput): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    hostnameOverride: input.identity.nodeName,
    clientConnection: { kubeconfig: input.kubeconfig },
    clusterCIDR: input.network.podCidr,
    bindAddress: input.network.nodeIp,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // nf_conntrack_max is the machine's, not the node's: leave it (and the hash size) alone.
    conntrack: { maxPerCore: 0 },
    // Lowering its own OOM score needs CAP_SYS_RESOURCE.
    oomScoreAdj: 0,
  });
}
