// Peak resident memory of a running process (Linux): the kernel's high-water mark, so a short
// spike between two samples is not missed.
import { readFile } from 'node:fs/promises';

/** VmHWM in bytes, or undefined if the process is gone. */
export async function peakResidentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}
