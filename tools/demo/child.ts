// A Node child process of the demo (the operator), its output in a log file, stopped with SIGTERM.

import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface Child {
  process: ChildProcess;
  stop(): Promise<number | null>;
}

export async function startChild(
  name: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
): Promise<Child> {
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // A child that dies at once (bad flags, no cluster) should fail the demo now, not later.
  const early = await Promise.race([exited, new Promise((r) => setTimeout(r, 1000, 'running'))]);
  if (early !== 'running') throw new Error(`${name} exited with code ${early}; see ${logFile}`);
  return {
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
