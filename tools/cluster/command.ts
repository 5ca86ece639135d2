// Runs kubectl or helm against a control plane, failing with the tool's own error text.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Command = (args: string[], input?: string) => Promise<string>;

export function commandFor(binary: string, kubeconfig: string): Command {
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  return async (args, input) => {
    const child = run(binary, args, { env, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) child.child.stdin?.end(input);
    try {
      return (await child).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${binary.split('/').pop()} ${args.join(' ')}: ${e.stderr || e.message}`, {
        cause: err,
      });
    }
  };
}
