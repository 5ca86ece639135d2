// Resident memory of a process on this machine, from /proc (Linux), for processes that export no
// metrics of their own, such as kube-apiserver and etcd here.

import { readFile } from 'node:fs/promises';

/** VmRSS in bytes, or undefined if the process is gone. */
export async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}
