// A real Kubernetes control plane on loopback: etcd + kube-apiserver + kube-controller-manager
// (garbage collector, Deployments → ReplicaSets, namespace deletion). No scheduler and no kubelet:
// Pods stay Pending, which is what the tests want to control themselves.

import { request } from 'node:https';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
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
import { ensureBinaries, type Binaries } from './toolchain.ts';

export interface ClusterState {
  name: string;
  /** The process whose lifetime bounds this cluster's (a test run); null for `cluster up`. */
  owner: { pid: number; startTime: string } | null;
  server: string;
  kubeconfig: string;
  binDirs: string[];
  processes: ProcessRecord[];
  startedAt: string;
}

export interface StartOptions {
  name: string;
  /** Keep running after this process exits (`npm run cluster -- up`). */
  detached?: boolean;
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
    // Ports picked by "listen on :0, then release" can be taken by someone else before our
    // component binds them; start again on fresh ports when that happens.
    for (let attempt = 1; ; attempt++) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, 'pki'), { recursive: true });
      try {
        return await ControlPlane.startIn(dir, options, binaries, log);
      } catch (err) {
        if (!(err instanceof ProcessExited && err.portTaken) || attempt >= 5) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
        log(`a port was taken while starting; retrying on new ports (attempt ${attempt + 1})`);
      }
    }
  }

  private static async startIn(
    dir: string,
    options: StartOptions,
    binaries: Binaries,
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
    const launched: Started[] = [];
    const launch = async (name: string, binary: string, args: string[]) => {
      const proc = startProcess(name, binary, args, join(dir, `${name}.log`), detached);
      launched.push(proc);
      state.processes.push(proc.record);
      // Record every pid at once, so a run killed during start-up is still cleaned up later.
      await writeFile(stateFile(dir), JSON.stringify(state, null, 2));
      return proc;
    };

    try {
      const pki = await createPki(join(dir, 'pki'));
      const [etcdPort, peerPort, apiPort, cmPort] = await Promise.all([
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

      state.server = `https://127.0.0.1:${apiPort}`;
      const apiserverArgs = [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${join(dir, 'pki')}`,
        `--tls-cert-file=${pki.servingCertFile}`,
        `--tls-private-key-file=${pki.servingKeyFile}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // The endpoint reconciler refuses loopback addresses; nothing here needs the
        // `kubernetes` Service's endpoints.
        '--endpoint-reconciler-type=none',
        // Room for 65 534 Services: every ChatBot has one, and benchmarks create thousands.
        '--service-cluster-ip-range=10.0.0.0/16',
        '--allow-privileged=true',
        '--disable-admission-plugins=ServiceAccount',
        '--authorization-mode=RBAC',
        `--client-ca-file=${pki.caCertFile}`,
        `--service-account-issuer=${state.server}/`,
        `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
        `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
      ];
      const startApiserver = async () => {
        const apiserver = await launch('kube-apiserver', binaries.kubeApiserver, apiserverArgs);
        await waitUntilReady(apiserver, () => apiOk(state.server, pki, '/readyz'), 90_000);
      };
      await startApiserver();

      await writeFile(state.kubeconfig, kubeconfigYaml(state.server, pki), { mode: 0o600 });
      const controllerManager = await launch(
        'kube-controller-manager',
        binaries.kubeControllerManager,
        [
          `--kubeconfig=${state.kubeconfig}`,
          '--leader-elect=false',
          '--controllers=garbage-collector-controller,deployment-controller,replicaset-controller,namespace-controller',
          `--secure-port=${cmPort}`,
          '--bind-address=127.0.0.1',
          `--cert-dir=${join(dir, 'pki', 'controller-manager')}`,
        ],
      );
      await waitUntilReady(
        controllerManager,
        () => httpsUnverifiedOk(`https://127.0.0.1:${cmPort}/healthz`),
        60_000,
      );
      await writeFile(stateFile(dir), JSON.stringify(state, null, 2));
      log(
        `control plane "${options.name}" ready at ${state.server} in ` +
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
      await terminate([...launched].reverse().map((p) => p.record));
      throw err;
    }
  }

  /** Stops every component and removes the cluster's data. */
  async stop(): Promise<void> {
    await stopCluster(this.state);
  }
}

/** Stops every component (gracefully, unless `graceMs` is 0) and deletes the cluster's data. */
export async function stopCluster(state: ClusterState, graceMs = 10_000): Promise<void> {
  await terminate([...state.processes].reverse(), graceMs);
  await rm(join(clustersRoot(), state.name), { recursive: true, force: true });
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

function kubeconfigYaml(server: string, pki: Pki): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'clawbot-local', cluster: { server, 'certificate-authority-data': b64(pki.caCert) } },
    ],
    users: [
      {
        name: 'clawbot-admin',
        user: {
          'client-certificate-data': b64(pki.adminCert),
          'client-key-data': b64(pki.adminKey),
        },
      },
    ],
    contexts: [
      { name: 'clawbot-local', context: { cluster: 'clawbot-local', user: 'clawbot-admin' } },
    ],
    'current-context': 'clawbot-local',
  });
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
