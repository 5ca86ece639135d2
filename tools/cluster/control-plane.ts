// A real Kubernetes control plane on loopback: etcd + kube-apiserver + kube-controller-manager
// (garbage collector, Deployments → ReplicaSets, namespace deletion). Without a node there is no
// scheduler and no kubelet: Pods stay Pending, which is what the tests of the operator's own
// logic want to control themselves. With `node: true` it is a whole cluster, as kind makes one:
// kube-scheduler, every controller, and a real node (tools/node) that runs the pods.

import { request } from 'node:https';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { kubeconfigYaml } from './kubeconfig.ts';
import { clustersRoot } from './paths.ts';
import { createPki, type Pki } from './pki.ts';
import {
  freePort,
  isRunning,
  processStartTime,
  ProcessExited,
  startProcess,
  terminate,
  waitUntilReady,
  type ProcessRecord,
  type Started,
} from './processes.ts';
import {
  ensureBinaries,
  ensureNodeBinaries,
  type Binaries,
  type NodeBinaries,
} from './toolchain.ts';
import { ensureDebianPackages } from '../node/debian-packages.ts';
import { nodeUnsupportedReason } from '../node/support.ts';
import { removeCgroupRoot } from '../node/cgroups.ts';
import { restoreKernelSettings } from '../node/kernel-settings.ts';
import {
  claimNodeNetwork,
  createNodeNetwork,
  releaseNodeNetwork,
  removeNodeNetwork,
} from '../node/network.ts';
import { nodeState, startNode, type NodeState } from '../node/node.ts';
import { ensureNodeImages, type NodeImages } from '../node/node-images.ts';

export interface ClusterState {
  name: string;
  /** The process whose lifetime bounds this cluster's (a test run); null for `cluster up`. */
  owner: { pid: number; startTime: string } | null;
  server: string;
  kubeconfig: string;
  binDirs: string[];
  processes: ProcessRecord[];
  startedAt: string;
  /** The cluster's node, when it has one. */
  node?: NodeState;
}

export interface StartOptions {
  name: string;
  /** Keep running after this process exits (`npm run cluster -- up`). */
  detached?: boolean;
  /** A whole cluster: kube-scheduler, every controller and a real node that runs pods. */
  node?: boolean;
  log?: (line: string) => void;
}

const stateFile = (dir: string) => join(dir, 'state.json');

export class ControlPlane {
  readonly state: ClusterState;
  readonly binaries: Binaries;
  readonly dir: string;
  private readonly restartApi: () => Promise<void>;

  private constructor(
    state: ClusterState,
    binaries: Binaries,
    dir: string,
    restartApi: () => Promise<void>,
  ) {
    this.state = state;
    this.binaries = binaries;
    this.dir = dir;
    this.restartApi = restartApi;
  }

  /**
   * Stops kube-apiserver and starts it again on the same port, as an upgrade or a crash would:
   * clients see their connections and watches drop. Resolves once it is ready again.
   */
  restartApiServer(): Promise<void> {
    return this.restartApi();
  }

  get kubeconfig(): string {
    return this.state.kubeconfig;
  }

  static async start(options: StartOptions): Promise<ControlPlane> {
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    await removeStaleClusters(log);
    const dir = join(clustersRoot(), options.name);
    const existing = await readState(options.name);
    if (existing && existing.processes.some(isRunning)) {
      throw new Error(
        `a control plane named "${options.name}" is already running (${existing.server}); ` +
          `stop it with \`npm run cluster -- down\` first`,
      );
    }
    const binaries = await ensureBinaries();
    const node = options.node ? await prepareNode(log) : undefined;
    // Ports picked by "listen on :0, then release" can be taken by someone else before our
    // component binds them; start again on fresh ports when that happens.
    for (let attempt = 1; ; attempt++) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, 'pki'), { recursive: true });
      try {
        return await ControlPlane.startIn(dir, options, binaries, node, log);
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        if (!(err instanceof ProcessExited && err.portTaken) || attempt >= 5) throw err;
        log(`a port was taken while starting; retrying on new ports (attempt ${attempt + 1})`);
      }
    }
  }

  private static async startIn(
    dir: string,
    options: StartOptions,
    binaries: Binaries,
    node: PreparedNode | undefined,
    log: (line: string) => void,
  ): Promise<ControlPlane> {
    const started = Date.now();
    const detached = options.detached ?? false;
    const self = processStartTime(process.pid);
    const state: ClusterState = {
      name: options.name,
      owner: detached || !self ? null : { pid: process.pid, startTime: self },
      server: '',
      kubeconfig: join(dir, 'kubeconfig'),
      binDirs: [...new Set([dirname(binaries.kubectl), dirname(binaries.helm)])],
      processes: [],
      startedAt: new Date().toISOString(),
    };
    const saveState = () => writeFile(stateFile(dir), JSON.stringify(state, null, 2));
    // Record every pid at once, so a run killed during start-up is still cleaned up later.
    const track = async (proc: Started) => {
      state.processes.push(proc.record);
      await saveState();
    };
    const launch = async (name: string, binary: string, args: string[]) => {
      const proc = startProcess(name, binary, args, join(dir, `${name}.log`), detached);
      await track(proc);
      return proc;
    };

    try {
      if (node) {
        // The API server listens where the node's pods can reach it: this machine's end of the
        // node's veth pair (pods cannot reach this machine's loopback).
        state.node = nodeState(options.name, dir, await claimNodeNetwork(options.name));
        await saveState();
        await createNodeNetwork(state.node.network);
      }
      const apiHost = state.node?.network.hostIp ?? '127.0.0.1';
      const pki = await createPki(join(dir, 'pki'), {
        apiServerIps: state.node ? [apiHost, kubernetesServiceIp] : [],
        node: state.node && { name: state.node.name, ip: state.node.network.nodeIp },
      });
      const [etcdPort, peerPort, apiPort, cmPort, schedulerPort] = await Promise.all([
        freePort(),
        freePort(),
        freePort(),
        freePort(),
        freePort(),
      ]);
      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const etcd = await launch('etcd', binaries.etcd, [
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ]);
      await waitUntilReady(etcd, () => httpOk(`${etcdUrl}/health`), 30_000);

      state.server = `https://${apiHost}:${apiPort}`;
      const apiserverArgs = [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${join(dir, 'pki')}`,
        `--tls-cert-file=${pki.servingCertFile}`,
        `--tls-private-key-file=${pki.servingKeyFile}`,
        `--secure-port=${apiPort}`,
        `--bind-address=${apiHost}`,
        `--advertise-address=${apiHost}`,
        // Room for 65 534 Services: every ChatBot has one, and benchmarks create thousands.
        `--service-cluster-ip-range=${serviceCidr}`,
        '--allow-privileged=true',
        `--client-ca-file=${pki.caCertFile}`,
        `--service-account-issuer=${state.server}/`,
        `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
        `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
        ...(pki.node ? nodeApiserverArgs(pki) : controlPlaneOnlyApiserverArgs),
      ];
      const startApiserver = async () => {
        const apiserver = await launch('kube-apiserver', binaries.kubeApiserver, apiserverArgs);
        await waitUntilReady(apiserver, () => apiOk(state.server, pki, '/readyz'), 90_000);
      };
      await startApiserver();

      await writeFile(
        state.kubeconfig,
        kubeconfigYaml(state.server, pki.caCert, {
          name: 'clawbot-admin',
          cert: pki.adminCert,
          key: pki.adminKey,
        }),
        { mode: 0o600 },
      );
      const controllerManager = await launch(
        'kube-controller-manager',
        binaries.kubeControllerManager,
        [
          `--kubeconfig=${state.kubeconfig}`,
          '--leader-elect=false',
          `--secure-port=${cmPort}`,
          '--bind-address=127.0.0.1',
          `--cert-dir=${join(dir, 'pki', 'controller-manager')}`,
          ...(node ? nodeControllerManagerArgs(pki) : controlPlaneOnlyControllers),
        ],
      );
      await waitUntilReady(
        controllerManager,
        () => httpsUnverifiedOk(`https://127.0.0.1:${cmPort}/healthz`),
        60_000,
      );
      if (node && state.node) {
        const schedulerKubeconfig = join(dir, 'kube-scheduler.kubeconfig');
        await writeFile(
          schedulerKubeconfig,
          kubeconfigYaml(state.server, pki.caCert, {
            name: 'kube-scheduler',
            ...pki.node!.schedulerClient,
          }),
          { mode: 0o600 },
        );
        const scheduler = await launch('kube-scheduler', node.binaries.kubeScheduler, [
          `--kubeconfig=${schedulerKubeconfig}`,
          '--leader-elect=false',
          `--secure-port=${schedulerPort}`,
          '--bind-address=127.0.0.1',
        ]);
        await waitUntilReady(
          scheduler,
          () => httpsUnverifiedOk(`https://127.0.0.1:${schedulerPort}/healthz`),
          60_000,
        );
        await startNode({
          node: state.node,
          server: state.server,
          pki,
          adminKubeconfig: state.kubeconfig,
          kubectl: binaries.kubectl,
          binaries: node.binaries,
          images: node.images,
          detached,
          track,
          log,
        });
      }
      await saveState();
      log(
        `${state.node ? 'cluster' : 'control plane'} "${options.name}" ready at ${state.server} in ` +
          `${((Date.now() - started) / 1000).toFixed(1)}s`,
      );
      const restartApi = async () => {
        const old = state.processes.filter((p) => p.name === 'kube-apiserver');
        await terminate(old);
        state.processes = state.processes.filter((p) => !old.includes(p));
        await startApiserver();
      };
      return new ControlPlane(state, binaries, dir, restartApi);
    } catch (err) {
      await stopCluster(state, 0).catch(() => {});
      throw err;
    }
  }

  /** Stops every component and removes the cluster's data. */
  async stop(): Promise<void> {
    await stopCluster(this.state);
  }
}

/**
 * Stops every component (gracefully, unless `graceMs` is 0) and deletes the cluster's data. A
 * node's network, cgroups and claim go too, and the kernel settings the kubelet changed are put
 * back once no other node runs on this machine.
 */
export async function stopCluster(state: ClusterState, graceMs = 10_000): Promise<void> {
  await terminate([...state.processes].reverse(), graceMs);
  if (state.node) {
    await removeNodeNetwork(state.node.network);
    await removeCgroupRoot(state.node.cgroupRoot);
    await releaseNodeNetwork(state.node.network);
  }
  await rm(join(clustersRoot(), state.name), { recursive: true, force: true });
  if (state.node && !(await otherNodesRunning(state.name))) await restoreKernelSettings();
}

async function otherNodesRunning(except: string): Promise<boolean> {
  const names = await readdir(clustersRoot()).catch(() => [] as string[]);
  for (const name of names) {
    if (name === except) continue;
    const state = await readState(name);
    if (state?.node && state.processes.some(isRunning)) return true;
  }
  return false;
}

export async function readState(name: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(
      await readFile(stateFile(join(clustersRoot(), name)), 'utf8'),
    ) as ClusterState;
  } catch {
    return undefined;
  }
}

/**
 * Clusters whose owning process is gone (a test run killed midway) are stopped and deleted, so
 * their processes and ports never leak into the next run. Clusters from `cluster up` have no owner
 * and are left alone.
 */
export async function removeStaleClusters(log: (line: string) => void): Promise<void> {
  const names = await readdir(clustersRoot()).catch(() => [] as string[]);
  for (const name of names) {
    const state = await readState(name);
    if (!state) {
      // A folder without state is the leftover of a start that died before writing any.
      await rm(join(clustersRoot(), name), { recursive: true, force: true });
      continue;
    }
    if (state.owner === null || isRunning(state.owner)) continue;
    const alive = state.processes.filter(isRunning);
    log(
      `removing control plane "${name}" left by an earlier run (owner pid ${state.owner.pid} is gone)` +
        (alive.length ? `; stopping ${alive.map((p) => `${p.name} pid ${p.pid}`).join(', ')}` : ''),
    );
    // Its data is thrown away, so there is nothing to shut down gracefully.
    await stopCluster(state, 0);
  }
}

/** The Service range of the control plane; the node's policy firewall leaves it alone. */
export const serviceCidr = '10.0.0.0/16';
/** The `kubernetes` Service's address: the first of the Service range. */
const kubernetesServiceIp = '10.0.0.1';

// Without a node: no kubelet will ever ask for the `kubernetes` Service's endpoints (and the
// reconciler refuses loopback addresses), and no pod will run to need a service account token.
const controlPlaneOnlyApiserverArgs = [
  '--endpoint-reconciler-type=none',
  '--disable-admission-plugins=ServiceAccount',
  '--authorization-mode=RBAC',
];

const controlPlaneOnlyControllers = [
  '--controllers=garbage-collector-controller,deployment-controller,replicaset-controller,namespace-controller',
];

/** A cluster with a node: kubelets authorised as nodes, the kubelet API, aggregated APIs. */
function nodeApiserverArgs(pki: Pki): string[] {
  const node = pki.node!;
  return [
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--kubelet-client-certificate=${node.apiserverKubeletClient.certFile}`,
    `--kubelet-client-key=${node.apiserverKubeletClient.keyFile}`,
    `--kubelet-certificate-authority=${pki.caCertFile}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--requestheader-client-ca-file=${node.frontProxyCaFile}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${node.frontProxyClient.certFile}`,
    `--proxy-client-key-file=${node.frontProxyClient.keyFile}`,
    // This machine runs no kube-proxy of its own: reach aggregated APIs (metrics-server) at
    // their pods' addresses, which it routes to the node, not at their Service's.
    '--enable-aggregator-routing=true',
  ];
}

/** Every controller kubeadm runs, with what they need to sign and to publish the CA. */
function nodeControllerManagerArgs(pki: Pki): string[] {
  return [
    '--controllers=*',
    `--root-ca-file=${pki.caCertFile}`,
    `--service-account-private-key-file=${pki.serviceAccountKeyFile}`,
    `--cluster-signing-cert-file=${pki.caCertFile}`,
    `--cluster-signing-key-file=${pki.caKeyFile}`,
  ];
}

export interface PreparedNode {
  binaries: NodeBinaries;
  images: NodeImages;
}

/** What a node needs before anything starts: packages, binaries and images (once, cached). */
export async function prepareNode(log: (line: string) => void): Promise<PreparedNode> {
  const unsupported = nodeUnsupportedReason();
  if (unsupported) throw new Error(`${unsupported} (a cluster without a node runs anywhere)`);
  await ensureDebianPackages(log);
  const binaries = await ensureNodeBinaries();
  return { binaries, images: await ensureNodeImages(binaries, log) };
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

function apiOk(server: string, pki: Pki, path: string): Promise<boolean> {
  return httpsGet(new URL(path, server), {
    ca: pki.caCert,
    cert: pki.adminCert,
    key: pki.adminKey,
  });
}

// The controller-manager serves /healthz with a self-signed certificate of its own.
function httpsUnverifiedOk(url: string): Promise<boolean> {
  return httpsGet(new URL(url), { rejectUnauthorized: false });
}

function httpsGet(
  url: URL,
  tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean },
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
