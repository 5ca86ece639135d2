// `npm run runtime -- <command>`: the runtime image's entrypoint. Each command lives in its own
// module, loaded only when chosen, so `serve` never pays for the importer and vice versa.

interface Command {
  summary: string;
  /** The module's `run(argv)` resolves to the process exit code. */
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  'load-model': {
    summary: 'fetch, verify and prepare a model folder (the init container)',
    load: () => import('./loader/cli.ts'),
  },
  serve: {
    summary: 'serve the chat API and the health endpoints (configured by environment)',
    load: () => import('./server/serve.ts'),
  },
  'import-gguf': {
    summary: 'convert a Llama-family GGUF into an ONNX model folder',
    load: () => import('./model/import-gguf-command.ts'),
  },
  'tiny-model': {
    summary: 'write a tiny random-weight test model folder',
    load: () => import('./model/tiny-model-command.ts'),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return (
    `usage: npm run runtime -- <command> [options]\n\n${lines.join('\n')}\n\n` +
    'Run a command with --help for its options.'
  );
}

const HELP = ['help', '--help', '-h'];

const [name, ...argv] = process.argv.slice(2);
if (name !== undefined && HELP.includes(name)) {
  console.log(usage());
  process.exit(0);
}
// hasOwn: "constructor" or "toString" are unknown commands, not Object's methods.
const command = name !== undefined && Object.hasOwn(commands, name) ? commands[name] : undefined;
if (!command) {
  console.error(name === undefined ? usage() : `unknown command "${name}"\n\n${usage()}`);
  process.exit(name === undefined ? 0 : 2);
}
process.exitCode = await (await command.load()).run(argv);
