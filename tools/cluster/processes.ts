// Child-process bookkeeping for the local control plane. Every process is recorded with its pid
// AND its kernel start time, so a later run can tell "our etcd from a killed test run" apart from
// an unrelated process that happens to have reused the pid.

import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAlive } from './toolchain.ts';

export interface ProcessRecord {
  name: string;
  pid: number;
  startTime: string;
}

/** Field 22 of /proc/<pid>/stat: the process start time in clock ticks since boot. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function isRunning(record: { pid: number; startTime: string | null }): boolean {
  if (!isAlive(record.pid)) return false;
  const now = processStartTime(record.pid);
  return now === undefined || record.startTime === null || now === record.startTime;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a local port'));
      });
    });
  });
}

export interface Started {
  child: ChildProcess;
  record: ProcessRecord;
  logFile: string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

export function startProcess(
  name: string,
  binary: string,
  args: string[],
  logFile: string,
  detached: boolean,
): Started {
  const fd = openSync(logFile, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd], detached });
  closeSync(fd);
  if (detached) child.unref();
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  const pid = child.pid ?? -1;
  return { child, logFile, exited, record: { name, pid, startTime: processStartTime(pid) ?? '' } };
}

export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Stops processes (in the given order): SIGTERM, then SIGKILL for any still alive after `graceMs`. */
export async function terminate(records: ProcessRecord[], graceMs = 10_000): Promise<void> {
  for (const record of records) {
    if (!isRunning(record)) continue;
    try {
      process.kill(record.pid, 'SIGTERM');
    } catch {
      continue;
    }
    const deadline = Date.now() + graceMs;
    while (isRunning(record) && Date.now() < deadline) await sleep(50);
    if (isRunning(record)) {
      try {
        process.kill(record.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      while (isRunning(record)) await sleep(20);
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `ready` until it returns true. Fails early, with the log's last lines, when the process
 * exits first: a crashed component should say why, not time out.
 */
export async function waitUntilReady(
  started: Started,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  let exitCode: number | null | undefined;
  void started.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new ProcessExited(started.record.name, exitCode, logTail(started.logFile));
    }
    if (await ready().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(
    `${started.record.name} was not ready within ${timeoutMs / 1000}s; its log (${started.logFile}) ends:\n` +
      logTail(started.logFile),
  );
}

export class ProcessExited extends Error {
  readonly portTaken: boolean;
  constructor(name: string, code: number | null, tail: string) {
    super(`${name} exited with code ${code} before it was ready; its log ends:\n${tail}`);
    this.portTaken = /address already in use/i.test(tail);
  }
}
