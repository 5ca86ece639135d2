// The benchmark's side of a contestant's process (generator-process.ts): start it, send it one
// generation at a time, read its peak memory, stop it. Its other output goes to a log file.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { logTail } from '../../tools/cluster/processes.ts';
import type { BenchPrompt, TimedGeneration } from './generator.ts';
import {
  PROTOCOL_MARK,
  type GenerateRequest,
  type GeneratorConfig,
  type GeneratorKind,
  type ToParent,
} from './generator-protocol.ts';
import { peakResidentBytes } from './peak-rss.ts';

export interface GeneratorChild {
  kind: GeneratorKind;
  pid: number;
  settings: Record<string, unknown>;
  loadMs: number;
  generate(prompt: BenchPrompt, maxTokens: number): Promise<TimedGeneration>;
  peakResidentBytes(): Promise<number | undefined>;
  close(): Promise<void>;
}

export async function startGenerator(
  kind: GeneratorKind,
  config: GeneratorConfig,
  logFile: string,
): Promise<GeneratorChild> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'generator-process.ts'), kind, JSON.stringify(config)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const messages = createInterface({ input: child.stdout })[Symbol.asyncIterator]();

  const next = async (): Promise<ToParent> => {
    for (;;) {
      const line = await Promise.race([messages.next(), exited.then(() => undefined)]);
      if (line === undefined || line.done) {
        throw new Error(
          `${kind} exited (code ${await exited}); its log ${logFile} ends:\n${logTail(logFile)}`,
        );
      }
      if (line.value.startsWith(PROTOCOL_MARK)) {
        return JSON.parse(line.value.slice(PROTOCOL_MARK.length)) as ToParent;
      }
      log.write(`${line.value}\n`);
    }
  };

  const ready = await next();
  if (ready.type !== 'ready') throw new Error(`${kind} did not start: ${JSON.stringify(ready)}`);
  return {
    kind,
    pid: child.pid!,
    settings: ready.settings,
    loadMs: ready.loadMs,
    async generate(prompt, maxTokens) {
      const request: GenerateRequest = { prompt, maxTokens };
      child.stdin.write(`${JSON.stringify(request)}\n`);
      const answer = await next();
      if (answer.type === 'result') return answer.result;
      throw new Error(`${kind}: ${answer.type === 'error' ? answer.message : 'unexpected answer'}`);
    },
    peakResidentBytes: () => peakResidentBytes(child.pid!),
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      log.end();
    },
  };
}
