// The chart run through the real helm binary without a cluster (lint, template), and the
// rendered objects parsed for assertions.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { commandFor, type Command } from '../../tools/cluster/command.ts';
import { repoRoot } from '../../tools/cluster/paths.ts';
import { ensureBinaries, kubernetesVersion } from '../../tools/cluster/toolchain.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const chartDir = join(repoRoot, 'charts/clawbot-operator');

let helmCommand: Promise<Command> | undefined;

/** helm with no kubeconfig at all: lint and template must not need a cluster. */
export function helm(args: string[]): Promise<string> {
  helmCommand ??= ensureBinaries().then(({ helm: binary }) =>
    commandFor(binary, join(tmpdir(), 'clawbot-no-cluster', 'kubeconfig')),
  );
  return helmCommand.then((run) => run(args));
}

/** helm arguments setting these values, one --set-json per top-level value (no files). */
export const withValues = (args: string[], values: Json): string[] => [
  ...args,
  ...Object.entries(values).flatMap(([key, value]) => [
    '--set-json',
    `${key}=${JSON.stringify(value)}`,
  ]),
];

/**
 * Offline, helm assumes Kubernetes 1.20, which the chart's kubeVersion refuses: render for the
 * version the tests' control plane runs.
 */
export const kubeVersion = kubernetesVersion();

/** The objects `helm template` renders for these values, in release `release` of `namespace`. */
export async function render(
  values: Json = {},
  { release = 'clawbot', namespace = 'clawbot-system' } = {},
): Promise<Json[]> {
  const out = await helm(
    withValues(
      ['template', release, chartDir, '--namespace', namespace, '--kube-version', kubeVersion],
      values,
    ),
  );
  return parseAllDocuments(out)
    .map((doc) => doc.toJSON() as Json | null)
    .filter((object): object is Json => object !== null);
}

/** The one rendered object of this kind (and name); throws if there is not exactly one. */
export function only(objects: Json[], kind: string, name?: string): Json {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  }
  return found[0]!;
}
