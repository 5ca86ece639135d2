// One real Kubernetes node on this machine, the set kind gives its users: containerd + runc, the
// kubelet, kube-proxy, the CNI bridge and NetworkPolicy enforcement (network-policy.ts), inside
// namespaces of their own (namespaces.ts, network.ts), registered with the local control plane,
// and then the cluster's add-ons (CoreDNS, local-path storage, metrics-server) running on it as
// pods.

import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commandFor } from '../cluster/command.ts';
import { kubeconfigYaml } from '../cluster/kubeconfig.ts';
import type { Pki } from '../cluster/pki.ts';
import { waitUntilReady, type Started } from '../cluster/processes.ts';
import type { NodeBinaries } from '../cluster/toolchain.ts';
import { eventually } from '../eventually.ts';
import { addonDeployments, addonObjects } from './addons.ts';
import { createCgroupRoot } from './cgroups.ts';
import { saveKernelSettings } from './kernel-settings.ts';
import { startInNode, startNodeNamespaces } from './namespaces.ts';
import { startNetworkPolicyFirewall } from './network-policy.ts';
import type { NodeNetwork } from './network.ts';
import {
  clusterDomain,
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  nodePaths,
  type NodeIdentity,
} from './node-config.ts';
import { loadImages, type NodeImages } from './node-images.ts';

const run = promisify(execFile);

/** The cluster DNS Service's address, in the control plane's Service range (10.0.0.0/16). */
export const clusterDnsIp = '10.0.0.10';

/** What a cluster's state records of its node. */
export interface NodeState {
  name: string;
  network: NodeNetwork;
  cgroupRoot: string;
  dir: string;
  containerdSocket: string;
}

export function nodeState(cluster: string, clusterDir: string, network: NodeNetwork): NodeState {
  const dir = join(clusterDir, 'node');
  return {
    name: `${cluster}-node`,
    network,
    cgroupRoot: `/clawbot-${cluster}`,
    dir,
    containerdSocket: nodePaths(dir).containerdSocket,
  };
}

export interface StartNodeInput {
  node: NodeState;
  server: string;
  pki: Pki;
  adminKubeconfig: string;
  kubectl: string;
  binaries: NodeBinaries;
  images: NodeImages;
  detached: boolean;
  /** Records a started process in the cluster's state (so it is stopped with the cluster). */
  track: (started: Started) => Promise<void>;
  /** How often the kubelet syncs pods (mounted Secrets follow within about this long). */
  syncFrequency?: string;
  log: (line: string) => void;
}

export async function startNode(input: StartNodeInput): Promise<void> {
  const { node, pki, detached, track, log } = input;
  const nodePki = pki.node!;
  const paths = nodePaths(node.dir);
  const identity: NodeIdentity = {
    nodeName: node.name,
    cgroupRoot: node.cgroupRoot,
    sandboxImage: input.images.pause,
    clusterDns: clusterDnsIp,
    clusterDomain,
  };
  for (const dir of [
    paths.containerdRoot,
    paths.cniConfDir,
    paths.ipamDir,
    paths.kubeletRoot,
    paths.podLogs,
    paths.localPathDir,
  ]) {
    await mkdir(dir, { recursive: true });
  }
  const file = (name: string) => join(node.dir, name);
  await writeFile(file('containerd.toml'), containerdConfig(paths, identity));
  await writeFile(join(paths.cniConfDir, '10-clawbot.conflist'), cniConfig(paths, node.network));
  // No upstream resolvers: pods resolve the cluster's names through CoreDNS, and nothing else.
  await writeFile(paths.resolvConf, '# the local node has no upstream DNS\n');
  await writeFile(
    file('kubelet.yaml'),
    kubeletConfig({
      paths,
      identity,
      network: node.network,
      clientCaFile: pki.caCertFile,
      servingCertFile: nodePki.kubeletServing.certFile,
      servingKeyFile: nodePki.kubeletServing.keyFile,
      syncFrequency: input.syncFrequency ?? '10s',
    }),
  );
  const kubeconfig = async (name: string, user: { cert: string; key: string }) => {
    const path = file(`${name}.kubeconfig`);
    await writeFile(path, kubeconfigYaml(input.server, pki.caCert, { name, ...user }), {
      mode: 0o600,
    });
    return path;
  };
  const kubeletKubeconfig = await kubeconfig('kubelet', nodePki.kubeletClient);
  const kubeProxyKubeconfig = await kubeconfig('kube-proxy', nodePki.kubeProxyClient);
  await writeFile(
    file('kube-proxy.yaml'),
    kubeProxyConfig({ identity, network: node.network, kubeconfig: kubeProxyKubeconfig }),
  );

  await saveKernelSettings();
  await createCgroupRoot(node.cgroupRoot);
  const namespaces = await startNodeNamespaces(
    {
      netns: node.network.netns,
      dir: node.dir,
      pause: input.binaries.pause,
      detached,
    },
    track,
  );
  const inNode = async (name: string, binary: string, args: string[]) => {
    const started = await startInNode(
      namespaces.initPid,
      name,
      binary,
      args,
      file(`${name}.log`),
      detached,
    );
    await track(started);
    return started;
  };

  const containerd = await inNode('containerd', 'containerd', [
    '--config',
    file('containerd.toml'),
  ]);
  await waitUntilReady(
    containerd,
    () => run('ctr', ['--address', paths.containerdSocket, 'version']).then(() => true),
    30_000,
  );
  await loadImages(node.dir, paths.containerdSocket, Object.values(input.images), log);

  const kubelet = await inNode('kubelet', input.binaries.kubelet, [
    `--config=${file('kubelet.yaml')}`,
    `--kubeconfig=${kubeletKubeconfig}`,
    `--root-dir=${paths.kubeletRoot}`,
    `--hostname-override=${node.name}`,
    `--node-ip=${node.network.nodeIp}`,
    '--v=1',
  ]);
  await inNode('kube-proxy', input.binaries.kubeProxy, [
    `--config=${file('kube-proxy.yaml')}`,
    '--v=1',
  ]);

  const kubectl = commandFor(input.kubectl, input.adminKubeconfig);
  await waitUntilReady(kubelet, () => nodeReady(kubectl, node.name), 120_000);
  log(`node ${node.name} is Ready`);
  // Before the add-ons, so that policies hold from the first pod on.
  await startNetworkPolicyFirewall({
    binary: input.binaries.kubeRouter,
    nodeName: node.name,
    server: input.server,
    caCert: pki.caCert,
    dir: node.dir,
    kubectl,
    startInNode: inNode,
  });
  await installAddons(kubectl, input.images, paths.localPathDir);
}

async function nodeReady(kubectl: ReturnType<typeof commandFor>, name: string): Promise<boolean> {
  const out = await kubectl([
    'get',
    'node',
    name,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  ]);
  return out.trim() === 'True';
}

async function installAddons(
  kubectl: ReturnType<typeof commandFor>,
  images: NodeImages,
  localPathDir: string,
): Promise<void> {
  const objects = addonObjects({ images, clusterDns: clusterDnsIp, clusterDomain, localPathDir });
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  await kubectl(
    ['apply', '--server-side', '--field-manager=clawbot-cluster', '-f', '-'],
    JSON.stringify(list),
  );
  for (const { namespace, name } of addonDeployments) {
    await kubectl(['rollout', 'status', '-n', namespace, `deployment/${name}`, '--timeout=180s']);
  }
  // The resource metrics API answers once metrics-server has scraped the kubelet once.
  await eventually(
    'the metrics API (metrics-server)',
    async () => {
      await kubectl([
        'wait',
        '--for=condition=Available',
        'apiservice/v1beta1.metrics.k8s.io',
        '--timeout=5s',
      ]);
      return true;
    },
    120_000,
    1000,
  );
}
