// The local node's network, laid out the way kind lays out a node container's: the node has a
// network namespace of its own ("clawbot-<cluster>") whose eth0 is one end of a veth pair; the
// other end stays on this machine. The pod bridge, kube-proxy's and kube-router's rules (and
// kube-router's ipsets) and the kubelet's ports all live inside that namespace, so they never
// touch this machine's own network, and a second cluster's node gets a namespace (and address
// ranges) of its own.
//
//   this machine  cbnode<i>  10.201.<i>.1/30 ── eth0 10.201.<i>.2/30  node namespace
//                 route 10.202.<i>.0/24 via the node                   └ cni0 10.202.<i>.1/24, pods
//
// The node namespace has no default route: pods reach this machine (the API server listens on
// 10.201.<i>.1) and each other, nothing beyond.

import { execFile } from 'node:child_process';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clustersRoot, nodeHostRoot } from '../cluster/paths.ts';

const run = promisify(execFile);

export interface NodeNetwork {
  index: number;
  netns: string;
  hostInterface: string;
  hostIp: string;
  nodeIp: string;
  podCidr: string;
  podGateway: string;
}

/** How many node networks one machine can hold at once (one per running cluster with a node). */
export const maxNodes = 250;

/** The network of the node with this index (1 … maxNodes), for the cluster of this name. */
function nodeNetwork(index: number, cluster: string): NodeNetwork {
  return {
    index,
    netns: `clawbot-${cluster}`,
    hostInterface: `cbnode${index}`,
    hostIp: `10.201.${index}.1`,
    nodeIp: `10.201.${index}.2`,
    podCidr: `10.202.${index}.0/24`,
    podGateway: `10.202.${index}.1`,
  };
}

const claimsDir = () => join(nodeHostRoot(), 'networks');

/**
 * Takes the lowest free node index for `cluster`: a claim file created exclusively, so two
 * clusters starting at once never share one. Claims of clusters whose folder is gone (a killed
 * run whose cleanup never came) are taken over.
 */
export async function claimNodeNetwork(cluster: string): Promise<NodeNetwork> {
  await mkdir(claimsDir(), { recursive: true });
  for (let index = 1; index <= maxNodes; index++) {
    const file = join(claimsDir(), String(index));
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(cluster);
      await handle.close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = (await readFile(file, 'utf8').catch(() => '')).trim();
      const ownerAlive = await readdir(join(clustersRoot(), owner)).then(
        () => owner !== '',
        () => false,
      );
      if (ownerAlive && owner !== cluster) continue;
      await rm(file, { force: true });
      index--; // try the same index again, now free
      continue;
    }
    const network = nodeNetwork(index, cluster);
    if (!(await addressInUse(network))) return network;
    // Something else on this machine already uses this range.
    await rm(file, { force: true });
  }
  throw new Error(`every one of the ${maxNodes} local node networks is in use`);
}

export async function releaseNodeNetwork(network: NodeNetwork): Promise<void> {
  await rm(join(claimsDir(), String(network.index)), { force: true });
}

async function addressInUse(network: NodeNetwork): Promise<boolean> {
  const { stdout: addresses } = await run('ip', ['-o', '-4', 'addr', 'show']);
  const { stdout: routes } = await run('ip', ['-4', 'route', 'show']);
  const prefix = network.hostIp.slice(0, network.hostIp.lastIndexOf('.') + 1);
  const pods = network.podCidr.slice(0, network.podCidr.lastIndexOf('.') + 1);
  return addresses.includes(` ${prefix}`) || routes.includes(pods);
}

const ip = (...args: string[]) => run('ip', args);

/** Creates the namespace, the veth pair and the routes (after removing any leftovers). */
export async function createNodeNetwork(network: NodeNetwork): Promise<void> {
  await removeNodeNetwork(network);
  const { netns, hostInterface } = network;
  await ip('netns', 'add', netns);
  await ip('link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  await ip('addr', 'add', `${network.hostIp}/30`, 'dev', hostInterface);
  await ip('link', 'set', hostInterface, 'up');
  await ip('-n', netns, 'addr', 'add', `${network.nodeIp}/30`, 'dev', 'eth0');
  await ip('-n', netns, 'link', 'set', 'eth0', 'up');
  await ip('-n', netns, 'link', 'set', 'lo', 'up');
  await ip('route', 'add', network.podCidr, 'via', network.nodeIp, 'dev', hostInterface);
  // Inside the node only (these are per network namespace): route between eth0 and the pod
  // bridge, and let kube-proxy's and kube-router's rules see bridged traffic, as on any
  // Kubernetes node.
  for (const setting of ['net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']) {
    await ip('netns', 'exec', netns, 'sysctl', '-q', '-w', setting);
  }
}

/**
 * Deletes the veth pair (its route goes with it) and the namespace; the pod bridge, the pods'
 * veths and kube-proxy's rules live inside it and go with it. Safe to call when they are absent.
 */
export async function removeNodeNetwork(network: NodeNetwork): Promise<void> {
  await ip('link', 'del', network.hostInterface).catch(() => {});
  await ip('netns', 'del', network.netns).catch(() => {});
}
