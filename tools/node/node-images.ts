// Images on the local node. No registry is reachable from it, so every image a pod uses is built
// here by podman and copied into the node's containerd (`ctr images import`), where the kubelet
// finds it with pull policy IfNotPresent, as if it had been pulled.

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  corednsVersion,
  localPathProvisionerVersion,
  metricsServerVersion,
  pauseVersion,
  type NodeBinaries,
} from '../cluster/toolchain.ts';
import { ensureDebianBase, debianImage } from '../images/bases.ts';
import { ensureBinaryImage } from '../images/binary-image.ts';
import { imageId, podmanEnvironment } from '../images/podman.ts';
import type { AddonImages } from './addons.ts';

type Progress = (line: string) => void;

export interface NodeImages extends AddonImages {
  pause: string;
}

/** Builds (or finds) the images the node itself runs: its pod sandbox and its add-ons. */
export async function ensureNodeImages(
  binaries: NodeBinaries,
  progress: Progress,
): Promise<NodeImages> {
  const images: NodeImages = {
    pause: `clawbot.local/pause:${pauseVersion()}`,
    coredns: `clawbot.local/coredns:${corednsVersion()}`,
    metricsServer: `clawbot.local/metrics-server:${metricsServerVersion()}`,
    localPathProvisioner: `clawbot.local/local-path-provisioner:${localPathProvisionerVersion()}`,
    shell: debianImage,
  };
  await ensureBinaryImage(images.pause, binaries.pause, progress);
  await ensureBinaryImage(images.coredns, binaries.coredns, progress);
  await ensureBinaryImage(images.metricsServer, binaries.metricsServer, progress);
  await ensureBinaryImage(images.localPathProvisioner, binaries.localPathProvisioner, progress);
  await ensureDebianBase(progress);
  return images;
}

const importedFile = (nodeDir: string) => join(nodeDir, 'images.json');

/** What has been copied into this node: reference → podman image id. */
async function imported(nodeDir: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(importedFile(nodeDir), 'utf8').catch(() => '{}')) as Record<
    string,
    string
  >;
}

/**
 * Copies images into the node's containerd, skipping those it already holds in the same build.
 * Returns the references it copied.
 */
export async function loadImages(
  nodeDir: string,
  containerdSocket: string,
  references: string[],
  progress: Progress,
): Promise<string[]> {
  const done = await imported(nodeDir);
  const copied: string[] = [];
  for (const reference of references) {
    const id = await imageId(reference);
    if (!id) throw new Error(`no image ${reference} on this machine to load into the node`);
    if (done[reference] === id) continue;
    progress(`loading ${reference} into the node`);
    await pipeImage(reference, containerdSocket);
    done[reference] = id;
    copied.push(reference);
    await writeFile(importedFile(nodeDir), JSON.stringify(done, null, 2));
  }
  return copied;
}

/** `podman save` into `ctr images import`, through a pipe (images are hundreds of MB). */
async function pipeImage(reference: string, containerdSocket: string): Promise<void> {
  const save = spawn('podman', ['save', '--format', 'oci-archive', reference], {
    env: await podmanEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const load = spawn(
    'ctr',
    ['--address', containerdSocket, '--namespace', 'k8s.io', 'images', 'import', '-'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  save.stdout.pipe(load.stdin);
  let errors = '';
  save.stderr.setEncoding('utf8').on('data', (c: string) => (errors = (errors + c).slice(-4000)));
  load.stderr.setEncoding('utf8').on('data', (c: string) => (errors = (errors + c).slice(-4000)));
  const exit = (child: ReturnType<typeof spawn>) =>
    new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
  const [saved, loaded] = await Promise.all([exit(save), exit(load)]);
  if (saved !== 0 || loaded !== 0) {
    throw new Error(`loading ${reference} into the node failed:\n${errors}`);
  }
}
