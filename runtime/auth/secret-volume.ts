// Reading and watching a mounted Kubernetes Secret. The kubelet writes a new version into a fresh
// hidden directory and swaps the `..data` symlink to it in one rename; the visible file names are
// symlinks through `..data`. A rename in the directory is what fs.watch sees, so watching the
// directory (not the files, whose inodes never change) catches every update. Events can be
// missed (some filesystems, an overflowing inotify queue), hence the periodic re-read as well.

import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The visible files of a Secret volume (or any directory of text files), by name. */
export async function readSecretVolume(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue; // the kubelet's ..data and timestamped directories
    try {
      files.set(name, await readFile(join(dir, name), 'utf8'));
    } catch (error) {
      // Removed between listing and reading, or a directory: not a file of the Secret now.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR') throw error;
    }
  }
  return files;
}

export interface VolumeWatchOptions {
  /** Re-read at least this often even without events. */
  intervalMs: number;
  /** Events within this window cause one reload: a swap fires several. */
  settleMs: number;
  onError(error: Error): void;
}

/** Calls `onChange` after changes in `dir` and every intervalMs; returns a stop function. */
export function watchSecretVolume(
  dir: string,
  onChange: () => void,
  options: VolumeWatchOptions,
): () => void {
  let settle: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(settle);
    settle = setTimeout(onChange, options.settleMs);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, schedule);
    watcher.on('error', options.onError);
  } catch (error) {
    options.onError(error as Error);
  }
  const poll = setInterval(onChange, options.intervalMs);
  poll.unref();
  return () => {
    clearTimeout(settle);
    clearInterval(poll);
    watcher?.close();
  };
}
