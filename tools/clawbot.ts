// `npm run clawbot -- <group> <command> [options]`: the ClawBot user's command line. Commands
// sit in a table of groups (fernet, later apikey, …); adding one is adding an entry.
// Exit codes: 0 done, 1 the operation was refused (e.g. an invalid token), 2 wrong usage.

import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../common/duration.ts';
import {
  decryptFernet,
  encryptFernet,
  FernetError,
  generateFernetKey,
  parseFernetKey,
} from '../common/fernet.ts';

interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

interface Command {
  summary: string;
  /** Arguments after `<group> <command>`, for the help text. */
  args: string;
  options: ParseArgsOptionsConfig;
  /** Resolves to the exit code; prints results on stdout. */
  run(parsed: Parsed): Promise<number>;
}

interface Group {
  summary: string;
  commands: Record<string, Command>;
}

class UsageError extends Error {}

const groups: Record<string, Group> = {
  fernet: {
    summary: 'Fernet tokens (how the operator can deliver API keys encrypted)',
    commands: {
      'generate-key': {
        summary: 'print a new random Fernet key',
        args: '',
        options: {},
        run: async () => {
          console.log(generateFernetKey());
          return 0;
        },
      },
      encrypt: {
        summary: 'encrypt text (argument, or standard input) into a token',
        args: '--key <key> [<text>]',
        options: { key: { type: 'string' } },
        run: async ({ values, positionals }) => {
          const key = fernetKey(values);
          console.log(encryptFernet(key, await input(positionals, 'text')));
          return 0;
        },
      },
      decrypt: {
        summary: 'decrypt a token (argument, or standard input) and print its text',
        args: '--key <key> [--ttl <seconds|duration>] [<token>]',
        options: { key: { type: 'string' }, ttl: { type: 'string' } },
        run: async ({ values, positionals }) => {
          const key = fernetKey(values);
          const ttlSeconds = values.ttl === undefined ? undefined : ttl(String(values.ttl));
          const token = (await input(positionals, 'token')).toString('utf8');
          process.stdout.write(decryptFernet(key, token, { ttlSeconds }));
          if (process.stdout.isTTY) process.stdout.write('\n');
          return 0;
        },
      },
    },
  },
};

function fernetKey(values: Parsed['values']) {
  if (typeof values.key !== 'string') {
    throw new UsageError('--key <key> is required (make one with `fernet generate-key`)');
  }
  return parseFernetKey(values.key);
}

function ttl(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  try {
    return Math.floor(parseDuration(text) / 1000);
  } catch (error) {
    throw new UsageError(`--ttl: ${(error as Error).message}, or as whole seconds`);
  }
}

// Reading secrets from standard input keeps them out of shell history and `ps`.
async function input(positionals: string[], what: string): Promise<Buffer> {
  if (positionals.length > 1) throw new UsageError(`give one ${what}, not ${positionals.length}`);
  if (positionals[0] !== undefined) return Buffer.from(positionals[0], 'utf8');
  if (process.stdin.isTTY)
    throw new UsageError(`give the ${what} as an argument or on standard input`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  // A token never contains whitespace; text to encrypt is taken byte for byte.
  return what === 'token' ? Buffer.from(data.toString('utf8').trim(), 'utf8') : data;
}

function usage(): string {
  const lines = Object.entries(groups).flatMap(([groupName, group]) => [
    `  ${groupName}: ${group.summary}`,
    ...Object.entries(group.commands).map(
      ([name, c]) => `    ${`${groupName} ${name} ${c.args}`.trimEnd()}\n        ${c.summary}`,
    ),
  ]);
  return `usage: npm run clawbot -- <group> <command> [options]\n\n${lines.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [groupName, commandName, ...rest] = argv;
  if (groupName === undefined || groupName === 'help' || groupName === '--help') {
    console.log(usage());
    return 0;
  }
  const group = groups[groupName];
  const command = commandName === undefined ? undefined : group?.commands[commandName];
  if (!command) {
    const what = group
      ? `unknown ${groupName} command "${commandName ?? ''}"`
      : `unknown group "${groupName}"`;
    console.error(`${what}\n\n${usage()}`);
    return 2;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true });
    return await command.run(parsed);
  } catch (error) {
    if (error instanceof FernetError) {
      console.error(`clawbot: ${error.message}`);
      return 1;
    }
    const isUsage =
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!isUsage) throw error;
    console.error(
      `${(error as Error).message}\nusage: npm run clawbot -- ${groupName} ${commandName} ${command.args}`,
    );
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
