// Whether this machine can hold a local node: it takes Linux, root (network namespaces, cgroups,
// mounts), cgroup hierarchies, and Debian's packages (installed by apt-get when missing).

import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { debianPackages } from './debian-packages.ts';

/** Why a node cannot run here, or undefined when it can. */
export function nodeUnsupportedReason(): string | undefined {
  if (process.platform !== 'linux')
    return `a local node needs Linux, and this is ${process.platform}`;
  if (process.getuid?.() !== 0) {
    return 'a local node needs root: it creates a network namespace, cgroups and mounts';
  }
  if (!existsSync('/sys/fs/cgroup'))
    return 'a local node needs cgroups, and /sys/fs/cgroup is absent';
  const installed = Object.keys(debianPackages).every((pkg) => {
    try {
      return (
        execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status}', pkg]).toString() ===
        'installed'
      );
    } catch {
      return false;
    }
  });
  if (!installed && !existsSync('/usr/bin/apt-get')) {
    return `a local node needs Debian's packages (${Object.keys(debianPackages).join(', ')}), and this machine has no apt-get`;
  }
  return undefined;
}
