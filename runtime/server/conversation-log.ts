// Conversation logs: one JSON line per finished exchange, in daily files under
// CONVERSATION_LOG_DIR, pruned by age and total size when the server starts and periodically.
// Logging is best effort by design: a full or failing disk costs log lines (a warning, and a
// count of the lines lost), never a chat answer.
import { appendFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Counter } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import type { ChatMessage, FinishReason } from '../engine/types.ts';
import { filesToDelete, type LogFile, logFileName, writerName } from './log-retention.ts';

export interface ConversationRecord {
  time: string;
  /** The API key's id (not the key); "standalone" for API_KEY mode. */
  key_id: string | undefined;
  model: string;
  route: string;
  messages: ChatMessage[];
  answer: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  finish_reason: FinishReason;
}

export interface ConversationLogOptions {
  dir: string;
  retentionMs: number;
  maxBytes: number;
  logger: Logger;
  /** Counts every line that could not be written; the warning comes only once per outage. */
  writeFailures: Pick<Counter, 'inc'>;
  /** How often retention is enforced while running. Default 10 minutes. */
  sweepIntervalMs?: number;
  /** This process's part of the file names; the host (pod) name by default. */
  writer?: string;
  now?: () => Date;
}

const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60_000;

export class ConversationLog {
  readonly #options: Required<ConversationLogOptions>;
  /** Appends run one after another, so lines keep their order and close() can wait for them. */
  #writes: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(options: ConversationLogOptions) {
    this.#options = {
      sweepIntervalMs: DEFAULT_SWEEP_INTERVAL_MS,
      writer: writerName(hostname()),
      now: () => new Date(),
      ...options,
    };
  }

  /** Enforces retention once, then every sweep interval. */
  async start(): Promise<void> {
    await this.sweep();
    this.#timer = setInterval(() => void this.sweep(), this.#options.sweepIntervalMs);
    this.#timer.unref();
  }

  /** Queues one line; never throws, never waits. */
  append(record: ConversationRecord): void {
    const line = JSON.stringify(record) + '\n';
    const file = join(this.#options.dir, logFileName(this.#options.now(), this.#options.writer));
    this.#writes = this.#writes.then(() => this.#write(file, line));
  }

  /** Deletes what retention says to delete; problems are logged, not thrown. */
  async sweep(): Promise<void> {
    const { dir, retentionMs, maxBytes, logger } = this.#options;
    try {
      const files: LogFile[] = [];
      for (const name of await readdir(dir).catch(ifMissing([]))) {
        const info = await stat(join(dir, name)).catch(ifMissing(undefined));
        if (info?.isFile()) files.push({ name, bytes: info.size });
      }
      const doomed = filesToDelete(files, this.#options.now(), { retentionMs, maxBytes });
      // force: another replica sharing the volume may have deleted the same file already.
      for (const name of doomed) await rm(join(dir, name), { force: true });
      if (doomed.length > 0)
        logger.info('conversation logs deleted by retention', { files: doomed });
    } catch (error) {
      logger.warn('cannot enforce conversation log retention', { dir, error });
    }
  }

  /** Stops the sweeps and waits for queued lines. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#writes;
  }

  async #write(file: string, line: string): Promise<void> {
    try {
      await appendFile(file, line, { mode: 0o640 }).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await mkdir(this.#options.dir, { recursive: true });
        await appendFile(file, line, { mode: 0o640 });
      });
      if (this.#failing) this.#options.logger.info('conversation log writable again', { file });
      this.#failing = false;
    } catch (error) {
      this.#options.writeFailures.inc();
      // One warning per outage rather than one per request.
      if (!this.#failing) {
        this.#options.logger.warn(
          'cannot write the conversation log; chat requests go on, but exchanges are not logged ' +
            'until it is writable (check the volume at CONVERSATION_LOG_DIR, or set CONVERSATION_LOG=false)',
          { file, error },
        );
      }
      this.#failing = true;
    }
  }
}

const ifMissing =
  <T>(fallback: T) =>
  (error: NodeJS.ErrnoException): T => {
    if (error.code === 'ENOENT') return fallback;
    throw error;
  };
