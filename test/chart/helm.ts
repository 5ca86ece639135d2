// The chart run through the real helm binary without a cluster (lint, template), and the
// rendered objects parsed for assertions.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { commandFor, type Command } from '../../tools/cluster/command.ts';
import { repoRoot } from '../../tools/cluster/paths.ts';
import { ensureBinaries } from '../../tools/cluster/toolchain.ts';

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

/** A values file for `helm -f` (JSON is YAML). */
export async function valuesFile(values: Json): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'clawbot-values-')), 'values.yaml');
  await writeFile(file, JSON.stringify(values));
  return file;
}

/** The objects `helm template` renders for these values, in release `release` of `namespace`. */
export async function render(
  values: Json = {},
  { release = 'clawbot', namespace = 'clawbot-system' } = {},
): Promise<Json[]> {
  const out = await helm([
    'template',
    release,
    chartDir,
    '--namespace',
    namespace,
    '-f',
    await valuesFile(values),
  ]);
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
