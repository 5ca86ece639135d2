// Fault injection for tests: CLAWBOT_FAILPOINT=<name> makes the operator kill itself (SIGKILL, no
// cleanup, exactly like a node failure) right after the write named <name>. Tests use it to stop
// a key rotation between any two of its writes and check that nothing is lost.
//
// Armed only when the operator runs from its TypeScript sources, as the tests run it. The image
// runs the compiled JavaScript, where this module's URL ends in .js: there the variable is
// ignored (main.ts warns), so no Deployment can make a released operator kill itself.

const variable = 'CLAWBOT_FAILPOINT';

export function armedFailpoint(
  moduleUrl: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const name = env[variable];
  return name && moduleUrl.endsWith('.ts') ? name : undefined;
}

/** Set in the environment but not armed: worth a warning, never an effect. */
export const ignoredFailpoint = (env: Readonly<Record<string, string | undefined>>) =>
  env[variable] && !armedFailpoint(import.meta.url, env) ? variable : undefined;

const armed = armedFailpoint(import.meta.url, process.env);

export function failpoint(name: string): void {
  if (armed !== name) return;
  process.stderr.write(
    JSON.stringify({
      level: 'warn',
      msg: 'failpoint reached: killing the process',
      failpoint: name,
    }) + '\n',
  );
  process.kill(process.pid, 'SIGKILL');
}
