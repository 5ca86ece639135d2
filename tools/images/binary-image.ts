// Images of one static binary (FROM scratch) for the local node's own programs: the pod sandbox
// (pause), CoreDNS, metrics-server and local-path-provisioner, built from their Go modules by
// tools/cluster/toolchain.ts. No registry can be reached, so the node cannot pull the upstream
// images; these hold the same programs at the same pinned versions.

import { copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { cacheRoot } from '../cluster/paths.ts';
import { buildFolder, contentHash, upToDate } from './bases.ts';
import { imageId } from './podman.ts';

type Progress = (line: string) => void;

/** An unprivileged uid/gid for programs that need none (the distroless "nonroot"). */
export const nonRootUser = 65532;

/**
 * Builds `reference` from the binary unless it exists already, built from the same binary. The
 * binary's cache folder names its version (tools/cluster/toolchain.ts), so its path is its content.
 */
export async function ensureBinaryImage(
  reference: string,
  binary: string,
  progress: Progress,
): Promise<string> {
  const name = basename(binary);
  const containerfile = `FROM scratch
COPY ${name} /${name}
USER ${nonRootUser}:${nonRootUser}
ENTRYPOINT ["/${name}"]
`;
  const content = contentHash(binary, containerfile);
  if (await upToDate(reference, content)) return (await imageId(reference))!;
  progress(`building ${reference} from ${basename(dirname(binary))}`);
  const dir = join(cacheRoot(), 'images', `binary-${name}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await copyFile(binary, join(dir, name));
  return buildFolder(reference, dir, containerfile, content, progress);
}
