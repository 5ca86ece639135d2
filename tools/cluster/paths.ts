import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in tools/cluster/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Everything ClawBot's local tooling caches: built binaries (several hundred MB, reused across
 * clones and runs) and the state of running local control planes. Outside the repository on
 * purpose: a fresh clone must not rebuild Kubernetes.
 */
export function cacheRoot(): string {
  if (process.env.CLAWBOT_CACHE_DIR) return process.env.CLAWBOT_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'clawbot');
}

export const binRoot = () => join(cacheRoot(), 'bin');
export const clustersRoot = () => join(cacheRoot(), 'clusters');
/** What this machine's local nodes share: their network claims, the kernel settings before them. */
export const nodeHostRoot = () => join(cacheRoot(), 'node-host');
