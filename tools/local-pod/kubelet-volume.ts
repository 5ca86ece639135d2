// Writes a directory the way the kubelet updates a mounted Secret or ConfigMap (tests of hot
// reload, and the local pod runner that stands in for a kubelet), so readers see the real
// sequence of filesystem operations:
//   1. the new content goes into a fresh hidden directory ..<timestamp>.<n>
//   2. a symlink ..data_tmp pointing at it is renamed over ..data (the atomic switch)
//   3. each visible name is a symlink to ..data/<name>; names no longer present are removed
//   4. the previous hidden directory is deleted

import { mkdir, readlink, rename, rm, symlink, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

let generation = 0;

export async function writeLikeKubelet(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  const stamp = new Date().toISOString().replace(/[-:.]/g, '_');
  const version = `..${stamp}.${process.pid}.${++generation}`;
  await mkdir(join(dir, version));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, version, name), content, { mode: 0o644 });
  }

  await rm(join(dir, '..data_tmp'), { force: true });
  await symlink(version, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));

  const visible = (await readdir(dir)).filter((name) => !name.startsWith('.'));
  for (const name of visible) {
    if (!(name in files)) await rm(join(dir, name));
  }
  for (const name of Object.keys(files)) {
    if (!visible.includes(name)) await symlink(join('..data', name), join(dir, name));
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true, force: true });
}
