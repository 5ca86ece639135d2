// Runs a process with a ServiceAccount's permissions without a token for it: a kubeconfig that
// authenticates as the test cluster's admin and impersonates the account (the `as` field, which
// client-node and kubectl send as the Impersonate-User header). The API server then authorizes
// every request as the account, with the groups it would have (system:serviceaccounts, …).

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { TestCluster } from '../cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const serviceAccountUser = (namespace: string, name: string) =>
  `system:serviceaccount:${namespace}:${name}`;

/** Writes a kubeconfig acting as `user` into `dir` and returns its path. */
export async function impersonatingKubeconfig(
  cluster: TestCluster,
  user: string,
  dir: string,
): Promise<string> {
  const config = parse(await readFile(cluster.kubeconfig, 'utf8')) as Json;
  const context = (config.contexts as Json[]).find((c) => c.name === config['current-context'])!;
  const entry = (config.users as Json[]).find((u) => u.name === context.context.user)!;
  entry.user.as = user;
  const file = join(dir, `${user.replace(/[^\w-]/g, '_')}.kubeconfig`);
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}
