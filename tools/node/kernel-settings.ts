// The machine-wide kernel settings a kubelet changes when it starts (setupKernelTunables in the
// kubelet's container manager: overcommit on, panic on oops, reboot 10 s after a panic, larger
// key quotas). Nothing else a node does reaches outside its namespaces. They are saved before the
// first node on this machine starts, and written back when the last one stops.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeHostRoot } from '../cluster/paths.ts';

export const kubeletKernelSettings = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

const savedFile = () => join(nodeHostRoot(), 'kernel-settings-before-nodes.json');

/** Records the settings as they are, unless a node that is still running recorded them first. */
export async function saveKernelSettings(): Promise<void> {
  if (await readSaved()) return;
  const values: Record<string, string> = {};
  for (const setting of kubeletKernelSettings) {
    values[setting] = (await readFile(`/proc/sys/${setting}`, 'utf8')).trim();
  }
  await mkdir(nodeHostRoot(), { recursive: true });
  await writeFile(savedFile(), JSON.stringify(values, null, 2));
}

/** Writes the recorded settings back and forgets them. */
export async function restoreKernelSettings(): Promise<void> {
  const values = await readSaved();
  if (!values) return;
  for (const [setting, value] of Object.entries(values)) {
    await writeFile(`/proc/sys/${setting}`, value);
  }
  await rm(savedFile(), { force: true });
}

async function readSaved(): Promise<Record<string, string> | undefined> {
  try {
    return JSON.parse(await readFile(savedFile(), 'utf8')) as Record<string, string>;
  } catch {
    return undefined;
  }
}
