// How many sockets a process on this machine holds open, from /proc (Linux): shows whether a
// client reuses its connections to the API server or opens one per request.

import { readdir, readlink } from 'node:fs/promises';

/** Open socket descriptors of the process, or undefined if it is gone. */
export async function openSockets(pid: number): Promise<number | undefined> {
  try {
    const fds = await readdir(`/proc/${pid}/fd`);
    const targets = await Promise.all(
      fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
    );
    return targets.filter((t) => t.startsWith('socket:')).length;
  } catch {
    return undefined;
  }
}
