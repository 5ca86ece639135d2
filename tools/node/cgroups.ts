// The node's cgroups: one folder (the kubelet's cgroupRoot) in every cgroup hierarchy this machine
// mounts, created before the kubelet starts (it refuses a root with missing paths) and removed
// after the node has stopped. This machine mounts cgroup v1 hierarchies under /sys/fs/cgroup.

import { readdir, readFile, rmdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../cluster/processes.ts';

const cgroupFs = '/sys/fs/cgroup';

async function hierarchies(): Promise<string[]> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter(
      ([, path, type]) => (type === 'cgroup' || type === 'cgroup2') && path!.startsWith(cgroupFs),
    )
    .map(([, path]) => path!);
}

/** Creates `/<root>` in every hierarchy; a new cpuset must be given its parent's CPUs and nodes. */
export async function createCgroupRoot(root: string): Promise<void> {
  for (const hierarchy of await hierarchies()) {
    const dir = join(hierarchy, root);
    await mkdir(dir, { recursive: true });
    if (hierarchy.endsWith('/cpuset')) {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const current = (await readFile(join(dir, file), 'utf8')).trim();
        if (!current) await writeFile(join(dir, file), await readFile(join(hierarchy, file)));
      }
    }
  }
}

/**
 * Removes `/<root>` and everything below it, deepest first. Called once every process of the
 * node is gone; the kernel may take a moment to release a cgroup whose last task just exited.
 */
export async function removeCgroupRoot(root: string): Promise<void> {
  for (const hierarchy of await hierarchies()) {
    const top = join(hierarchy, root);
    if (!(await stat(top).catch(() => undefined))) continue;
    for (const dir of await depthFirst(top)) {
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || attempt >= 50) {
            throw new Error(`could not remove cgroup ${dir}: ${(err as Error).message}`, {
              cause: err,
            });
          }
          await sleep(100);
        }
      }
    }
  }
}

async function depthFirst(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const below: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) below.push(...(await depthFirst(join(dir, entry.name))));
  }
  return [...below, dir];
}
