// The ClawBot runtime as deployed: `node runtime/cli.ts serve` in its own process, configured by
// environment variables only, on free loopback ports. The benchmark talks to it over HTTP like any
// client (POST /api/auth once, then bearer tokens) and reads its peak memory from /proc.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  freePort,
  processStartTime,
  terminate,
  waitUntilReady,
  type Started,
} from '../../tools/cluster/processes.ts';
import { repoRoot } from '../../tools/cluster/paths.ts';
import { peakResidentBytes } from './peak-rss.ts';

export interface RuntimeServer {
  url: string;
  token: string;
  pid: number;
  /** The variables it was started with (the API key left out). */
  env: Record<string, string>;
  peakResidentBytes(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export async function startRuntimeServer(
  onnxDir: string,
  maxConcurrency: number,
  logFile: string,
): Promise<RuntimeServer> {
  const [port, healthPort] = [await freePort(), await freePort()];
  const apiKey = randomBytes(16).toString('hex');
  const env = {
    MODEL_PATH: onnxDir,
    PORT: String(port),
    HEALTH_PORT: String(healthPort),
    MAX_CONCURRENCY: String(maxConcurrency),
    // Every stream of the largest wave is admitted at once; none waits in the queue.
    MAX_QUEUE: String(maxConcurrency),
    // The benchmark measures generation, not the standalone key's default limit of 1000/min.
    RATE_LIMIT_RPM: '1000000',
    CONVERSATION_LOG: 'false',
    LOG_LEVEL: 'warn',
  };
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [join(repoRoot, 'runtime', 'cli.ts'), 'serve'], {
    env: { ...process.env, ...env, API_KEY: apiKey },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const pid = child.pid!;
  const record = { name: 'clawbot runtime', pid, startTime: processStartTime(pid) ?? '' };
  const started: Started = {
    child,
    record,
    logFile,
    exited: new Promise((resolve) => child.on('exit', resolve)),
  };
  await waitUntilReady(
    started,
    async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok,
    300_000,
  );
  const url = `http://127.0.0.1:${port}`;
  const auth = await fetch(`${url}/api/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: apiKey }),
  });
  if (!auth.ok) throw new Error(`POST /api/auth: HTTP ${auth.status} ${await auth.text()}`);
  const { token } = (await auth.json()) as { token: string };
  return {
    url,
    token,
    pid,
    env,
    peakResidentBytes: () => peakResidentBytes(pid),
    stop: () => terminate([record], 30_000),
  };
}
