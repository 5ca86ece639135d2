// Runs the pod of a Deployment the operator wrote as local processes, standing in for a kubelet
// on a machine without one: its volumes become local folders (claims persist, Secrets and
// ConfigMaps are kept in step with the cluster), its environment is resolved the way the kubelet
// resolves it, its init containers run to completion in order, then its container starts. The
// image is this checkout: `args` run through runtime/cli.ts, as the image's entrypoint does.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CoreV1Api,
  type KubeConfig,
  type V1Container,
  type V1Deployment,
  type V1EnvVar,
  type V1Volume,
} from '@kubernetes/client-node';
import { repoRoot } from '../cluster/paths.ts';
import { projectVolume, type Projection } from './projection.ts';

export interface LocalPodOptions {
  kubeConfig: KubeConfig;
  deployment: V1Deployment;
  /** Where volumes live; claims under <root>/claims/<name> outlive the pod (like a PV). */
  root: string;
  /** Overrides on top of the pod's environment (e.g. free ports in tests). */
  env?: Record<string, string>;
  /** Each line a container prints, with the container's name. */
  onLog?: (container: string, line: string) => void;
}

export class LocalPodError extends Error {}

export class LocalPod {
  readonly name: string;
  readonly env: Record<string, string>;
  private readonly main: ChildProcess;
  private readonly projections: Projection[];
  private readonly exited: Promise<number | null>;

  private constructor(
    name: string,
    env: Record<string, string>,
    main: ChildProcess,
    projections: Projection[],
  ) {
    this.name = name;
    this.env = env;
    this.main = main;
    this.projections = projections;
    this.exited = new Promise((resolve) => main.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the exit code when the container ends. */
  get exit(): Promise<number | null> {
    return this.exited;
  }

  static async start(options: LocalPodOptions): Promise<LocalPod> {
    const { deployment, kubeConfig } = options;
    const namespace = deployment.metadata!.namespace!;
    const spec = deployment.spec!.template.spec!;
    const name = `${deployment.metadata!.name}-local`;
    const log = options.onLog ?? (() => {});
    const core = kubeConfig.makeApiClient(CoreV1Api);

    const projections: Projection[] = [];
    const volumes = new Map<string, string>();
    for (const volume of spec.volumes ?? []) {
      volumes.set(
        volume.name,
        await localVolume(volume, options.root, namespace, kubeConfig, projections, log),
      );
    }
    // The kubelet starts containers only once their Secrets and ConfigMaps are there.
    await Promise.all(projections.map((p) => p.ready));

    const container = spec.containers[0]!;
    const resolve = mountResolver(container, volumes);
    const env = {
      ...(await resolveEnv(container, core, namespace, name)),
      ...options.env,
    };
    const localEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, resolve(v)]));

    for (const init of spec.initContainers ?? []) {
      const initResolve = mountResolver(init, volumes);
      const initEnv = Object.fromEntries(
        Object.entries({ ...(await resolveEnv(init, core, namespace, name)), ...options.env }).map(
          ([k, v]) => [k, initResolve(v)],
        ),
      );
      const child = run(init, initEnv, initResolve, log);
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      if (code !== 0) {
        for (const p of projections) p.stop();
        throw new LocalPodError(`init container ${init.name} failed with exit code ${code}`);
      }
    }
    const main = run(container, localEnv, resolve, log);
    return new LocalPod(name, localEnv, main, projections);
  }

  /** SIGTERM, as the kubelet sends it; resolves with the exit code. */
  async stop(): Promise<number | null> {
    for (const p of this.projections) p.stop();
    if (this.main.exitCode === null && this.main.signalCode === null) this.main.kill('SIGTERM');
    return this.exited;
  }
}

function run(
  container: V1Container,
  env: Record<string, string>,
  resolve: (value: string) => string,
  log: (container: string, line: string) => void,
): ChildProcess {
  if (container.command?.length) {
    throw new LocalPodError(
      `container ${container.name} sets a command; the local runner only runs the ClawBot runtime image's entrypoint`,
    );
  }
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'runtime/cli.ts'), ...(container.args ?? []).map(resolve)],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => log(container.name, line));
  }
  return child;
}

async function localVolume(
  volume: V1Volume,
  root: string,
  namespace: string,
  kubeConfig: KubeConfig,
  projections: Projection[],
  log: (container: string, line: string) => void,
): Promise<string> {
  const onError = (err: Error) => log('kubelet', `volume ${volume.name}: ${err.message}`);
  if (volume.persistentVolumeClaim) {
    const dir = join(root, 'claims', volume.persistentVolumeClaim.claimName);
    await mkdir(dir, { recursive: true });
    return dir;
  }
  if (volume.emptyDir) {
    const dir = join(root, 'empty', volume.name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return dir;
  }
  const source = volume.secret
    ? { kind: 'Secret' as const, name: volume.secret.secretName! }
    : volume.configMap
      ? { kind: 'ConfigMap' as const, name: volume.configMap.name! }
      : undefined;
  if (!source) {
    throw new LocalPodError(
      `volume ${volume.name} is of a kind the local runner does not provide (claims, emptyDir, Secrets and ConfigMaps only)`,
    );
  }
  const dir = join(root, 'volumes', volume.name);
  await rm(dir, { recursive: true, force: true });
  projections.push(projectVolume(kubeConfig, source.kind, namespace, source.name, dir, onError));
  return dir;
}

/** Rewrites container paths under a mount (e.g. /app/data/models/x) to the local folder. */
function mountResolver(container: V1Container, volumes: Map<string, string>) {
  const mounts = (container.volumeMounts ?? [])
    .map((m) => ({ path: m.mountPath.replace(/\/+$/, ''), local: volumes.get(m.name)! }))
    .sort((a, b) => b.path.length - a.path.length);
  return (value: string) => {
    for (const { path, local } of mounts) {
      if (value === path || value.startsWith(path + '/')) return local + value.slice(path.length);
    }
    return value;
  };
}

/** envFrom, then env, as the kubelet resolves them (later entries win). */
async function resolveEnv(
  container: V1Container,
  core: CoreV1Api,
  namespace: string,
  podName: string,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = await core.readNamespacedConfigMap({ namespace, name: from.configMapRef.name! });
      Object.assign(env, cm.data);
    }
    if (from.secretRef) {
      const secret = await core.readNamespacedSecret({ namespace, name: from.secretRef.name! });
      for (const [k, v] of Object.entries(secret.data ?? {}))
        env[k] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  for (const variable of container.env ?? [])
    env[variable.name] = await envValue(variable, core, namespace, podName);
  return env;
}

async function envValue(variable: V1EnvVar, core: CoreV1Api, namespace: string, podName: string) {
  const from = variable.valueFrom;
  if (!from) return variable.value ?? '';
  if (from.fieldRef) {
    const fields: Record<string, string> = {
      'metadata.name': podName,
      'metadata.namespace': namespace,
    };
    return fields[from.fieldRef.fieldPath] ?? '';
  }
  if (from.configMapKeyRef) {
    const cm = await core.readNamespacedConfigMap({ namespace, name: from.configMapKeyRef.name! });
    return cm.data?.[from.configMapKeyRef.key] ?? '';
  }
  if (from.secretKeyRef) {
    const secret = await core.readNamespacedSecret({ namespace, name: from.secretKeyRef.name! });
    const data = secret.data?.[from.secretKeyRef.key];
    return data === undefined ? '' : Buffer.from(data, 'base64').toString('utf8');
  }
  throw new LocalPodError(`env ${variable.name}: this kind of valueFrom is not supported locally`);
}
