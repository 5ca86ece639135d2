// The Debian packages the local node and the image builds run on, pinned like the Go modules are.
// They are installed with apt-get when missing (the machine's own package sources; bookworm's
// versions), never upgraded or downgraded when present in another version.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Package → the bookworm version the node was built and tested on. */
export const debianPackages: Record<string, string> = {
  // The container runtime the kubelet talks CRI to, and the OCI runtime under it.
  containerd: '1.6.20~ds1-1+deb12u3',
  runc: '1.1.5+ds1-1+deb12u1',
  // bridge, host-local, loopback and portmap: the pod network.
  'containernetworking-plugins': '1.1.1+ds1-3+b5',
  // kube-proxy's, kube-router's and portmap's packet rules.
  iptables: '1.8.9-2',
  // The address sets kube-router's NetworkPolicy rules match against.
  ipset: '7.17-1',
  // ip netns / veth for the node's network namespace.
  iproute2: '6.1.0-3',
  // Builds the images from the project's Dockerfiles.
  podman: '4.3.1+ds1-8+deb12u1+b3',
  // The Debian root filesystem of the base images.
  mmdebstrap: '1.3.5-7',
};

type Progress = (line: string) => void;

async function installedVersion(pkg: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('dpkg-query', ['-W', '-f', '${db:Status-Status} ${Version}', pkg]);
    const [status, version] = stdout.trim().split(' ');
    return status === 'installed' ? version : undefined;
  } catch {
    return undefined;
  }
}

/** Installs the pinned packages that are missing; says which present ones differ from the pin. */
export async function ensureDebianPackages(progress: Progress): Promise<void> {
  const missing: string[] = [];
  for (const [pkg, version] of Object.entries(debianPackages)) {
    const installed = await installedVersion(pkg);
    if (installed === undefined) missing.push(`${pkg}=${version}`);
    else if (installed !== version) {
      progress(`note: ${pkg} ${installed} is installed; the local node was tested with ${version}`);
    }
  }
  if (!missing.length) return;
  const command = `apt-get install --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `the local node needs these Debian packages, and installing them needs root: ${command}`,
    );
  }
  const apt = (args: string[]) =>
    run('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 * 1024 * 1024,
    });
  progress(`installing Debian packages (once): ${missing.join(' ')}`);
  const install = ['install', '-y', '-q', '--no-install-recommends', ...missing];
  try {
    await apt(install);
  } catch {
    // A fresh machine may have no package lists yet, or stale ones.
    progress('apt-get install failed; updating the package lists and trying again');
    await apt(['update', '-q']);
    await apt(install).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`${command} failed:\n${err.stderr || err.message}`, { cause: err });
    });
  }
}
