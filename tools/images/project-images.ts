// The project's two images, built by podman from Dockerfile.operator and Dockerfile.runtime (its
// CPU variant: the CUDA base cannot be had here), tagged with the references the Helm chart uses
// by default so `helm install` runs them unchanged:
//
//   operator      <chart image.repository>:<appVersion>
//   runtime-cpu   <runtime repository>:<appVersion>-cpu
//
// An image is rebuilt only when its Dockerfile, build arguments, base images or the files it
// copies change (a content label); podman's layer cache then keeps unchanged steps (npm ci).

import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { runtimeImageRepository } from '../../operator/options.ts';
import { cacheRoot, repoRoot } from '../cluster/paths.ts';
import { ensureDebianPackages } from '../node/debian-packages.ts';
import { contentHash, contentLabel, ensureNodeBase, stepProgress, upToDate } from './bases.ts';
import { baseImages, contextSources, parseDockerfile } from './dockerfile.ts';
import { imageId, podman } from './podman.ts';

const run = promisify(execFile);

type Progress = (line: string) => void;

export interface ProjectImage {
  name: 'operator' | 'runtime-cpu';
  dockerfile: string;
  buildArgs: Record<string, string>;
  reference: string;
}

export interface BuiltImage extends ProjectImage {
  id: string;
  /** False when an image built from the same content was already here. */
  built: boolean;
}

const chartDir = join(repoRoot, 'charts', 'clawbot-operator');

export async function projectImages(): Promise<ProjectImage[]> {
  const chart = parse(await readFile(join(chartDir, 'Chart.yaml'), 'utf8')) as {
    appVersion: string;
  };
  const values = parse(await readFile(join(chartDir, 'values.yaml'), 'utf8')) as {
    image: { repository: string };
  };
  const runtimeStages = parseDockerfile(
    await readFile(join(repoRoot, 'Dockerfile.runtime'), 'utf8'),
  );
  // The CPU variant's base: the Node image the build stages already use.
  const nodeBase = baseImages(runtimeStages).find((b) => b.startsWith('node:'))!;
  return [
    {
      name: 'operator',
      dockerfile: 'Dockerfile.operator',
      buildArgs: {},
      reference: `${values.image.repository}:${chart.appVersion}`,
    },
    {
      name: 'runtime-cpu',
      dockerfile: 'Dockerfile.runtime',
      buildArgs: { RUNTIME_BASE: nodeBase, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      reference: `${runtimeImageRepository}:${chart.appVersion}-cpu`,
    },
  ];
}

/** Builds (or finds up to date) every project image, bases first. */
export async function ensureProjectImages(progress: Progress): Promise<BuiltImage[]> {
  await ensureDebianPackages(progress);
  const built: BuiltImage[] = [];
  for (const image of await projectImages()) built.push(await ensureImage(image, progress));
  return built;
}

async function ensureImage(image: ProjectImage, progress: Progress): Promise<BuiltImage> {
  const text = await readFile(join(repoRoot, image.dockerfile), 'utf8');
  const stages = parseDockerfile(text, image.buildArgs);
  const baseIds: string[] = [];
  for (const base of baseImages(stages)) {
    const node = /^node:(\d+\.\d+\.\d+)-bookworm-slim$/.exec(base);
    if (!node) {
      throw new Error(
        `${image.dockerfile} starts from ${base}, which cannot be pulled or built on this machine`,
      );
    }
    baseIds.push(await ensureNodeBase(`docker.io/library/${base}`, node[1]!, progress));
  }
  const content = contentHash(
    text,
    JSON.stringify(image.buildArgs),
    ...baseIds,
    await hashContext(contextSources(stages)),
  );
  if (await upToDate(image.reference, content)) {
    return { ...image, id: (await imageId(image.reference))!, built: false };
  }
  progress(`building ${image.reference} from ${image.dockerfile}`);
  const started = Date.now();
  const secret = await npmrcSecret();
  await podman(
    [
      'build',
      '--pull=never',
      // The build's `npm ci` reaches the npm registry the way this machine does.
      '--network=host',
      '--layers',
      '--file',
      image.dockerfile,
      ...Object.entries(image.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      '--secret',
      `id=npmrc,src=${secret}`,
      '--label',
      `${contentLabel}=${content}`,
      '--tag',
      image.reference,
      repoRoot,
    ],
    { onLine: stepProgress(progress, image.reference) },
  );
  progress(`built ${image.reference} in ${Math.round((Date.now() - started) / 1000)}s`);
  return { ...image, id: (await imageId(image.reference))!, built: true };
}

/**
 * This machine's npm settings that decide how the registry is reached (registry, proxies, CA),
 * as the npmrc the Dockerfiles mount as a build secret: it never lands in an image layer.
 */
async function npmrcSecret(): Promise<string> {
  const { stdout } = await run('npm', ['config', 'list', '--json']);
  const config = JSON.parse(stdout) as Record<string, unknown>;
  const lines: string[] = [];
  for (const key of ['registry', 'proxy', 'https-proxy', 'noproxy', 'strict-ssl']) {
    const value = config[key];
    if (value !== null && value !== undefined && value !== '') lines.push(`${key}=${value}`);
  }
  // The CAs npm trusts here: its cafile, and NODE_EXTRA_CA_CERTS, which Node (and so npm) adds
  // to every TLS connection. npm's cafile alone can be missing from this view: it may sit in a
  // global npmrc next to the system's Node, which npm does not read when run by the project's.
  const caFiles = [config.cafile, process.env.NODE_EXTRA_CA_CERTS].filter(
    (file): file is string => typeof file === 'string' && file !== '' && existsSync(file),
  );
  const certs = new Set<string>();
  for (const file of caFiles) {
    const pem = await readFile(file, 'utf8');
    for (const cert of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ??
      []) {
      certs.add(cert);
    }
  }
  // npm's `ca` takes PEM certificates with their newlines written as \n.
  for (const cert of certs) lines.push(`ca[]="${cert.replace(/\r?\n/g, '\\n')}"`);
  const dir = join(cacheRoot(), 'images');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'build.npmrc');
  await writeFile(file, lines.join('\n') + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

/** A hash of the build-context files the Dockerfile copies (paths and contents). */
async function hashContext(sources: string[]): Promise<string> {
  const hash = createHash('sha256');
  const ignored = await dockerignore();
  const visit = async (path: string): Promise<void> => {
    const rel = relative(repoRoot, path);
    if (ignored(rel)) return;
    if ((await stat(path)).isDirectory()) {
      for (const entry of (await readdir(path)).sort()) await visit(join(path, entry));
    } else {
      hash
        .update(rel)
        .update('\0')
        .update(await readFile(path))
        .update('\0');
    }
  };
  for (const source of sources) await visit(join(repoRoot, source));
  return hash.digest('hex');
}

/** Whether .dockerignore keeps a path out of the build context (its patterns, simply). */
async function dockerignore(): Promise<(path: string) => boolean> {
  const text = await readFile(join(repoRoot, '.dockerignore'), 'utf8').catch(() => '');
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}(/|$)`));
  return (path) => patterns.some((p) => p.test(path));
}
