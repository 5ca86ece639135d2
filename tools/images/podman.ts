// podman, configured by the project instead of by the machine: image storage under the ClawBot
// cache, the cgroupfs manager and a file event log (no systemd here), file limits this VM lets a
// container have (it cannot raise them), and Docker's resolution of short names (docker.io) so
// the Dockerfiles' `FROM node:…` finds the bases built here. Nothing is ever pulled: every image
// a build needs is built on this machine first.

import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../cluster/paths.ts';

const configDir = () => join(cacheRoot(), 'containers');

function configFiles() {
  const dir = configDir();
  return {
    containers: join(dir, 'containers.conf'),
    storage: join(dir, 'storage.conf'),
    registries: join(dir, 'registries.conf'),
  };
}

let configured: Promise<NodeJS.ProcessEnv> | undefined;

/** The environment that points podman at the project's configuration. */
export function podmanEnvironment(): Promise<NodeJS.ProcessEnv> {
  configured ??= (async () => {
    const files = configFiles();
    await mkdir(configDir(), { recursive: true });
    await writeFile(
      files.containers,
      [
        '[containers]',
        // Without CAP_SYS_RESOURCE a container cannot get limits above this machine's own.
        'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        '',
      ].join('\n'),
    );
    await writeFile(
      files.storage,
      [
        '[storage]',
        'driver = "overlay"',
        `graphroot = "${join(configDir(), 'storage')}"`,
        'runroot = "/run/clawbot/containers"',
        '',
      ].join('\n'),
    );
    await writeFile(
      files.registries,
      ['unqualified-search-registries = ["docker.io"]', 'short-name-mode = "permissive"', ''].join(
        '\n',
      ),
    );
    return {
      ...process.env,
      CONTAINERS_CONF: files.containers,
      CONTAINERS_STORAGE_CONF: files.storage,
      CONTAINERS_REGISTRIES_CONF: files.registries,
    };
  })();
  return configured;
}

export interface PodmanOptions {
  /** Each line podman writes (stdout and stderr), as it comes. */
  onLine?: (line: string) => void;
}

/** Runs podman; resolves with its stdout, rejects with the end of its output. */
export async function podman(args: string[], options: PodmanOptions = {}): Promise<string> {
  const env = await podmanEnvironment();
  const child = spawn('podman', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let tail = '';
  const lines = (chunk: string, keep: boolean) => {
    if (keep) stdout += chunk;
    tail = (tail + chunk).slice(-6000);
    if (options.onLine) for (const line of chunk.split('\n')) if (line.trim()) options.onLine(line);
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => lines(c, true));
  child.stderr.setEncoding('utf8').on('data', (c: string) => lines(c, false));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error('podman is not installed (the Debian package podman)', { cause: err })
          : err,
      ),
    );
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`podman ${args.slice(0, 2).join(' ')} … failed (exit ${code}):\n${tail}`);
  }
  return stdout;
}

/** The image's id, or undefined when this machine has no image by that name. */
export async function imageId(reference: string): Promise<string | undefined> {
  try {
    return (await podman(['image', 'inspect', '--format', '{{.Id}}', reference])).trim();
  } catch {
    return undefined;
  }
}

/** The value of one label of a local image, or undefined. */
export async function imageLabel(reference: string, label: string): Promise<string | undefined> {
  try {
    const out = await podman([
      'image',
      'inspect',
      '--format',
      `{{index .Labels "${label}"}}`,
      reference,
    ]);
    const value = out.trim();
    return value && value !== '<no value>' ? value : undefined;
  } catch {
    return undefined;
  }
}
