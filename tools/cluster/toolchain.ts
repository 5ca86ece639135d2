// Builds the real Kubernetes binaries the tests and the demo run from their Go modules, once per
// version, into a cache outside the repository: the control plane (etcd, kube-apiserver,
// kube-controller-manager, kubectl, helm) and the local node (kube-scheduler, kubelet, kube-proxy,
// kube-router, CoreDNS, metrics-server, local-path-provisioner and the pod sandbox's pause
// program). The pinned versions live in tools/go/*/go.mod and nowhere else.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { binRoot, repoRoot } from './paths.ts';

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  helm: string;
}

export interface NodeBinaries {
  kubeScheduler: string;
  kubelet: string;
  kubeProxy: string;
  kubeRouter: string;
  pause: string;
  coredns: string;
  metricsServer: string;
  localPathProvisioner: string;
}

interface ToolModule {
  /** Folder under tools/go/ holding the pinned go.mod. */
  dir: string;
  /**
   * The module whose pinned version names the cache folder and the version ldflags; absent for
   * the project's own programs, whose cache folder is named by a hash of their sources.
   */
  module?: string;
  /** Cache folder prefix: bin/<name>-<version>/. */
  name: string;
  /** Go package → output file name. */
  outputs: Record<string, string>;
  ldflags(version: string): string[];
}

const k8sVersionPackages = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'];

const modules: ToolModule[] = [
  {
    dir: 'etcd',
    module: 'go.etcd.io/etcd/server/v3',
    name: 'etcd',
    outputs: { 'go.etcd.io/etcd/server/v3': 'etcd' },
    ldflags: () => [],
  },
  {
    dir: 'k8s',
    module: 'k8s.io/kubernetes',
    name: 'kubernetes',
    outputs: {
      'k8s.io/kubernetes/cmd/kube-apiserver': 'kube-apiserver',
      'k8s.io/kubernetes/cmd/kube-controller-manager': 'kube-controller-manager',
      'k8s.io/kubernetes/cmd/kubectl': 'kubectl',
    },
    ldflags: kubernetesLdflags,
  },
  {
    dir: 'helm',
    module: 'helm.sh/helm/v3',
    name: 'helm',
    outputs: { 'helm.sh/helm/v3/cmd/helm': 'helm' },
    ldflags: (version) => [
      `-X helm.sh/helm/v3/internal/version.version=${version}`,
      `-X helm.sh/helm/v3/internal/version.gitTreeState=clean`,
    ],
  },
];

// The local node's programs, built only when a cluster with a node is asked for. kube-scheduler,
// kubelet and kube-proxy come from the same pinned k8s.io/kubernetes as the control plane, in a
// cache folder of their own, so a control-plane-only machine never builds them.
const nodeModules: ToolModule[] = [
  {
    dir: 'k8s',
    module: 'k8s.io/kubernetes',
    name: 'kubernetes-node',
    outputs: {
      'k8s.io/kubernetes/cmd/kube-scheduler': 'kube-scheduler',
      'k8s.io/kubernetes/cmd/kubelet': 'kubelet',
      'k8s.io/kubernetes/cmd/kube-proxy': 'kube-proxy',
    },
    ldflags: kubernetesLdflags,
  },
  {
    dir: 'kube-router',
    module: 'github.com/cloudnativelabs/kube-router/v2',
    name: 'kube-router',
    outputs: { 'github.com/cloudnativelabs/kube-router/v2/cmd/kube-router': 'kube-router' },
    // What its Makefile sets, so its start-up log names the release.
    ldflags: (version) => [
      `-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${version}`,
      `-X github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate=${moduleTime('github.com/cloudnativelabs/kube-router/v2', version)}`,
    ],
  },
  { dir: 'pause', name: 'pause', outputs: { '.': 'pause' }, ldflags: () => [] },
  {
    dir: 'coredns',
    module: 'github.com/coredns/coredns',
    name: 'coredns',
    outputs: { 'github.com/coredns/coredns': 'coredns' },
    ldflags: () => [],
  },
  {
    dir: 'metrics-server',
    module: 'sigs.k8s.io/metrics-server',
    name: 'metrics-server',
    outputs: { 'sigs.k8s.io/metrics-server/cmd/metrics-server': 'metrics-server' },
    // What its Makefile sets, so its /version and start-up log name the release.
    ldflags: (version) => [`-X k8s.io/client-go/pkg/version.gitVersion=${version}`],
  },
  {
    dir: 'local-path-provisioner',
    module: 'github.com/rancher/local-path-provisioner',
    name: 'local-path-provisioner',
    outputs: { 'github.com/rancher/local-path-provisioner': 'local-path-provisioner' },
    ldflags: (version) => [`-X main.VERSION=${version}`],
  },
];

function kubernetesLdflags(version: string): string[] {
  const [major, minor] = version.replace(/^v/, '').split('.');
  // Without these, /version says v0.0.0-master and Helm refuses charts with a kubeVersion.
  return k8sVersionPackages.flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=${moduleTime('k8s.io/kubernetes', version)}`,
  ]);
}

/** The cache folder's version: the pinned module version, or a hash of the program's sources. */
function versionOf(mod: ToolModule): string {
  if (mod.module) return pinnedVersion(mod.dir, mod.module);
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'main.go']) {
    hash.update(readFileSync(join(repoRoot, 'tools', 'go', mod.dir, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

/** The version of `module` pinned in tools/go/<dir>/go.mod. */
export function pinnedVersion(dir: string, module: string): string {
  const goMod = readFileSync(join(repoRoot, 'tools', 'go', dir, 'go.mod'), 'utf8');
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`(?:^|\\s)${escaped}\\s+(v[^\\s]+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`tools/go/${dir}/go.mod does not require ${module}`);
  return match[1];
}

export const kubernetesVersion = () => pinnedVersion('k8s', 'k8s.io/kubernetes');
export const helmVersion = () => pinnedVersion('helm', 'helm.sh/helm/v3');
export const etcdVersion = () => pinnedVersion('etcd', 'go.etcd.io/etcd/server/v3');
export const corednsVersion = () => pinnedVersion('coredns', 'github.com/coredns/coredns');
export const metricsServerVersion = () =>
  pinnedVersion('metrics-server', 'sigs.k8s.io/metrics-server');
export const localPathProvisionerVersion = () =>
  pinnedVersion('local-path-provisioner', 'github.com/rancher/local-path-provisioner');
/** The pause program's version: a hash of its sources (it is the project's own). */
export const pauseVersion = () => versionOf(nodeModules.find((m) => m.name === 'pause')!);

// The release's publication time from the module proxy's .info file: a reproducible buildDate.
function moduleTime(module: string, version: string): string {
  const result = spawnSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
    cwd: join(repoRoot, 'tools', 'go', 'k8s'),
    encoding: 'utf8',
    env: goEnv(),
  });
  try {
    const info = JSON.parse(result.stdout) as { Info?: string };
    if (info.Info) return (JSON.parse(readFileSync(info.Info, 'utf8')) as { Time: string }).Time;
  } catch {
    // Fall through: a missing date only makes `version` output less precise.
  }
  return '1970-01-01T00:00:00Z';
}

function goEnv(): NodeJS.ProcessEnv {
  // GOTOOLCHAIN=local: a go.mod asking for a newer Go fails loudly instead of downloading one.
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };
}

export function checkGo(): void {
  const result = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(
      'Go is not installed or not on PATH. ClawBot builds its local control plane (etcd, ' +
        'kube-apiserver, kube-controller-manager, kubectl) and helm from their Go modules: install ' +
        'Go 1.26 or newer (https://go.dev/doc/install, or your distribution package, e.g. ' +
        '`apt install golang-1.26`) and run the command again.',
    );
  }
}

type Progress = (line: string) => void;

const defaultProgress: Progress = (line) => {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(line + '\n');
};

/** Returns the control plane's cached binaries, building any that are missing. */
export async function ensureBinaries(progress: Progress = defaultProgress): Promise<Binaries> {
  const paths = await ensureBuilt(modules, progress);
  return {
    etcd: paths.etcd!,
    kubeApiserver: paths['kube-apiserver']!,
    kubeControllerManager: paths['kube-controller-manager']!,
    kubectl: paths.kubectl!,
    helm: paths.helm!,
  };
}

/** Returns the local node's cached binaries, building any that are missing. */
export async function ensureNodeBinaries(
  progress: Progress = defaultProgress,
): Promise<NodeBinaries> {
  const paths = await ensureBuilt(nodeModules, progress);
  return {
    kubeScheduler: paths['kube-scheduler']!,
    kubelet: paths.kubelet!,
    kubeProxy: paths['kube-proxy']!,
    kubeRouter: paths['kube-router']!,
    pause: paths.pause!,
    coredns: paths.coredns!,
    metricsServer: paths['metrics-server']!,
    localPathProvisioner: paths['local-path-provisioner']!,
  };
}

async function ensureBuilt(
  list: ToolModule[],
  progress: Progress,
): Promise<Record<string, string>> {
  const paths: Record<string, string> = {};
  for (const mod of list) {
    const version = versionOf(mod);
    const dir = join(binRoot(), `${mod.name}-${version}`);
    const wanted = Object.values(mod.outputs).map((file) => join(dir, file));
    if (!wanted.every((file) => existsSync(file))) await build(mod, version, dir, progress);
    for (const file of Object.values(mod.outputs)) paths[file] = join(dir, file);
  }
  return paths;
}

async function build(mod: ToolModule, version: string, dir: string, progress: Progress) {
  checkGo();
  await mkdir(binRoot(), { recursive: true });
  const release = await lock(join(binRoot(), `.${mod.name}-${version}.lock`), progress);
  try {
    // Another process may have finished the same build while we waited for the lock.
    if (Object.values(mod.outputs).every((file) => existsSync(join(dir, file)))) return;
    const staging = `${dir}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    for (const [pkg, file] of Object.entries(mod.outputs)) {
      await goBuild(mod, version, pkg, join(staging, file), progress);
    }
    // Rename last, so an interrupted build never leaves a cache folder that looks complete.
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } finally {
    await release();
  }
}

async function goBuild(
  mod: ToolModule,
  version: string,
  pkg: string,
  output: string,
  progress: Progress,
) {
  const cwd = join(repoRoot, 'tools', 'go', mod.dir);
  const name = output.split('/').pop();
  const total = countPackages(cwd, pkg);
  const started = Date.now();
  let compiled = 0;
  const report = () => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    progress(
      `building ${name} ${version} from Go modules: ${compiled} of at most ${total} packages ` +
        `compiled, ${Math.floor(elapsed / 60)}m${String(elapsed % 60).padStart(2, '0')}s ` +
        `(first build only; cached in ${binRoot()})`,
    );
  };
  report();
  const timer = setInterval(report, process.stderr.isTTY ? 1000 : 30_000);
  const args = [
    'build',
    '-v',
    '-trimpath',
    '-tags=selinux,notest',
    `-ldflags=-s -w ${mod.ldflags(version).join(' ')}`,
    '-o',
    output,
    pkg,
  ];
  const child = spawn('go', args, { cwd, env: goEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // `go build -v` names each package as it compiles it; anything else is an error message.
    for (const line of chunk.split('\n')) {
      if (/^[\w.\-/]+$/.test(line)) compiled++;
      else if (line.trim()) tail = (tail + line + '\n').slice(-4000);
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  clearInterval(timer);
  if (code !== 0) {
    throw new Error(`go build ${pkg} (in tools/go/${mod.dir}) failed with exit ${code}:\n${tail}`);
  }
  const elapsed = Math.round((Date.now() - started) / 1000);
  progress(`built ${name} ${version} in ${elapsed}s\n`);
}

function countPackages(cwd: string, pkg: string): number {
  const result = spawnSync('go', ['list', '-deps', pkg], { cwd, env: goEnv(), encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n').filter(Boolean).length : 0;
}

// A lock file holding the builder's pid; a lock whose process is gone (a killed build) is taken over.
async function lock(path: string, progress: Progress): Promise<() => Promise<void>> {
  let announced = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (!holder || !isAlive(holder)) {
        await rm(path, { force: true });
        continue;
      }
      if (!announced) progress(`waiting for another build (pid ${holder}) of the same tools\n`);
      announced = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
