// Dockerfiles read and their stages played out on this machine, for tests where no Docker engine
// exists: each stage becomes a folder standing for its filesystem. COPY copies from the build
// context (honouring .dockerignore) or from an earlier stage's folder; `npm ci` is stood in for
// by this checkout's installed packages (production ones only with --omit=dev); `rm -rf` removes
// inside the stage; compile steps (tsc, and echo writing its config) run for real. Other RUN
// steps (downloads, users, cache cleaning) leave nothing these checks read and are skipped.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../tools/cluster/paths.ts';

const run = promisify(execFile);

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  /** The image it starts from, ARGs substituted. */
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** The instructions of a Dockerfile, by stage (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (!line && !pending)) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: keyword!.toUpperCase(), args: rest!.trim() };
    if (instruction.keyword === 'ARG' && !stages.length) {
      const [name, value = ''] = instruction.args.split('=');
      args[name!] = value;
    } else if (instruction.keyword === 'FROM') {
      const substituted = instruction.args.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_m, a: string, b: string) => args[a ?? b] ?? '',
      );
      const [from, as, name] = substituted.split(/\s+/).filter((t) => !t.startsWith('--'));
      stages.push({
        from: from!,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The exec form (a JSON array) of ENTRYPOINT, CMD or HEALTHCHECK's CMD. */
export function execForm(args: string): string[] {
  return JSON.parse(args.slice(args.indexOf('['))) as string[];
}

/** ENV's KEY=value pairs. */
export function envOf(args: string): Record<string, string> {
  return Object.fromEntries(
    [...args.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, k, v]) => [k!, v!.replace(/^"|"$/g, '')]),
  );
}

/** The last instruction of this kind in a stage. */
export const last = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).at(-1);

export interface PlayedStage {
  stage: Stage;
  /** The folder standing for the stage's filesystem root. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  /** COPY --from sources that are in a base image's files, which cannot be checked here. */
  fromBaseImage: string[];
}

/**
 * Plays out every stage, each in a folder of one temporary folder (removeStages deletes it);
 * rejects naming the instruction when a COPY source is missing or excluded from the build
 * context, or a compile step fails.
 */
export async function playStages(stages: Stage[], context: string): Promise<PlayedStage[]> {
  const ignored = await dockerignore(context);
  const dir = await mkdtemp(join(tmpdir(), 'clawbot-image-'));
  const played: PlayedStage[] = [];
  try {
    for (const [index, stage] of stages.entries()) {
      const root = join(dir, `${index}-${stage.name ?? 'final'}`);
      await mkdir(root);
      const state: PlayedStage = { stage, root, workdir: '/', env: {}, fromBaseImage: [] };
      for (const instruction of stage.instructions) {
        await play(instruction, state, played, context, ignored).catch((err: Error) => {
          const where = `${stage.name ?? 'final'} stage, ${instruction.keyword} ${instruction.args}`;
          throw new Error(`${where}: ${err.message}`, { cause: err });
        });
      }
      played.push(state);
    }
    return played;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Deletes what playStages wrote (links into this checkout are removed, never followed). */
export async function removeStages(played: PlayedStage[] | undefined): Promise<void> {
  if (played?.length) await rm(dirname(played[0]!.root), { recursive: true, force: true });
}

async function play(
  { keyword, args }: Instruction,
  state: PlayedStage,
  earlier: PlayedStage[],
  context: string,
  ignored: (path: string) => boolean,
): Promise<void> {
  const inStage = (path: string) => join(state.root, posix.resolve(state.workdir, path));
  switch (keyword) {
    case 'WORKDIR':
      state.workdir = posix.resolve(state.workdir, args);
      await mkdir(inStage('.'), { recursive: true });
      return;
    case 'ENV':
      Object.assign(state.env, envOf(args));
      return;
    case 'COPY': {
      const tokens = args.split(/\s+/);
      const from = tokens.find((t) => t.startsWith('--from='))?.slice('--from='.length);
      const [dest, ...sources] = tokens.filter((t) => !t.startsWith('--')).reverse();
      for (const source of sources.reverse()) {
        let origin: string;
        if (from === undefined) {
          origin = join(context, source);
          if (!existsSync(origin)) throw new Error(`${source} is not in the build context`);
          if (ignored(source)) throw new Error(`${source} is excluded by .dockerignore`);
        } else {
          const stage = earlier.find((s) => s.stage.name === from);
          if (!stage) throw new Error(`no earlier stage named ${from}`);
          if (!stage.stage.instructions.length) {
            state.fromBaseImage.push(`${from}:${source}`);
            continue;
          }
          origin = join(stage.root, source);
          if (!existsSync(origin)) throw new Error(`stage ${from} produced no ${source}`);
        }
        const target = dest!.endsWith('/')
          ? join(inStage(dest!), basename(source))
          : inStage(dest!);
        await mkdir(dirname(target), { recursive: true });
        await cp(origin, target, { recursive: true, verbatimSymlinks: true });
      }
      return;
    }
    case 'RUN':
      for (const command of args.split('&&').map((c) => c.trim())) {
        await runStep(command, state, inStage);
      }
      return;
  }
}

async function runStep(
  command: string,
  state: PlayedStage,
  inStage: (path: string) => string,
): Promise<void> {
  if (/^npm ci\b/.test(command)) {
    await installPackages(inStage('node_modules'), /--omit=dev/.test(command));
  } else if (/^rm -rf /.test(command)) {
    for (const path of command.slice('rm -rf '.length).split(/\s+/)) {
      const target = inStage(path);
      // Never through a link into this checkout's own node_modules.
      const parent = await realpath(dirname(target));
      if (relative(await realpath(state.root), parent).startsWith('..')) {
        throw new Error(`${path} leads outside the stage`);
      }
      await rm(target, { recursive: true, force: true });
    }
  } else if (/^(npx )?tsc\b|^echo\b/.test(command)) {
    await run('sh', ['-c', command], {
      cwd: inStage('.'),
      env: { ...process.env, PATH: `${join(repoModules(), '.bin')}:${process.env.PATH}` },
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      // tsc reports on stdout.
      throw new Error(`${command} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`.trim());
    });
  }
}

const repoModules = () => join(repoRoot, 'node_modules');

/** node_modules as `npm ci` leaves it: all packages, or only production ones (--omit=dev). */
async function installPackages(target: string, productionOnly: boolean): Promise<void> {
  if (!productionOnly) {
    await symlink(repoModules(), target);
    return;
  }
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  const top = new Set<string>();
  for (const path of stdout.split('\n')) {
    const inside = relative(repoModules(), path).split('/');
    if (inside[0] === '..' || !inside[0]) continue;
    top.add(inside[0].startsWith('@') ? `${inside[0]}/${inside[1]}` : inside[0]);
  }
  for (const name of top) {
    await mkdir(dirname(join(target, name)), { recursive: true });
    await symlink(join(repoModules(), name), join(target, name));
  }
}

/** Whether .dockerignore keeps a path out of the build context (its patterns, simply). */
async function dockerignore(context: string): Promise<(path: string) => boolean> {
  const text = await readFile(join(context, '.dockerignore'), 'utf8').catch(() => '');
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}(/|$)`));
  return (path) => patterns.some((p) => p.test(posix.normalize(path)));
}
