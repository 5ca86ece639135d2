// What the image tools and the image tests read from a Dockerfile: its stages, their base images
// (ARGs substituted, build arguments taking precedence), and the build-context files it copies.

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
export function parseDockerfile(text: string, buildArgs: Record<string, string> = {}): Stage[] {
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
      args[name!] = buildArgs[name!] ?? value;
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

/** Base images: what stages start from that is not an earlier stage. */
export function baseImages(stages: Stage[]): string[] {
  const names = new Set(stages.map((s) => s.name));
  return [...new Set(stages.map((s) => s.from).filter((from) => !names.has(from)))];
}

/** Build-context paths the Dockerfile copies (COPY without --from). */
export function contextSources(stages: Stage[]): string[] {
  const sources = new Set<string>();
  for (const stage of stages) {
    for (const { keyword, args } of stage.instructions) {
      if (keyword !== 'COPY') continue;
      const tokens = args.split(/\s+/);
      if (tokens.some((t) => t.startsWith('--from='))) continue;
      const paths = tokens.filter((t) => !t.startsWith('--'));
      for (const source of paths.slice(0, -1)) sources.add(source);
    }
  }
  return [...sources];
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
