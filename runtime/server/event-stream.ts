// Server-sent events (text/event-stream) on an express response: the framing both streaming
// APIs use. Writes are not paced by the client, since the model cannot wait for one reader in a
// batch of many. A client that stops reading is cut off instead: once the socket has refused
// data for STALL_MS, the connection is closed, which cancels the generation (exchange.ts) and
// frees its batch slot, so what a stalled reader leaves buffered stays bounded.
import type { Response } from 'express';
import type { Logger } from '../../common/log.ts';

// Proxies and load balancers drop connections idle for a minute or so; a request can wait that
// long in the queue before its first token.
const HEARTBEAT_MS = 15_000;
/** How long the socket may refuse data (its buffers full, nobody reading) before it is closed. */
export const STALL_MS = 30_000;

export class EventStream {
  readonly #res: Response;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #stallMs: number;
  readonly #logger: Logger | undefined;
  #stall: NodeJS.Timeout | undefined;

  /** Sends the 200 and the event-stream headers at once, so the client knows it was admitted. */
  constructor(res: Response, options: { logger?: Logger; stallMs?: number } = {}) {
    this.#res = res;
    this.#logger = options.logger;
    this.#stallMs = options.stallMs ?? STALL_MS;
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      // nginx (and ingress-nginx) buffer responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), HEARTBEAT_MS);
    res.on('drain', () => this.#clearStall());
    res.once('close', () => {
      clearInterval(this.#heartbeat);
      this.#clearStall();
    });
  }

  /** One event; `data` must not contain newlines (JSON.stringify output never does). */
  send(data: string, event?: string): void {
    this.#write(`${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`);
  }

  end(): void {
    clearInterval(this.#heartbeat);
    if (!this.#res.writableEnded) this.#res.end();
  }

  #write(text: string): void {
    if (this.#res.writableEnded || this.#res.destroyed) return;
    if (this.#res.write(text) || this.#stall) return;
    this.#stall = setTimeout(() => {
      this.#logger?.warn('the client stopped reading: closing its stream', {
        stalledSeconds: this.#stallMs / 1000,
        buffered: this.#res.writableLength,
      });
      this.#res.destroy();
    }, this.#stallMs);
  }

  #clearStall(): void {
    clearTimeout(this.#stall);
    this.#stall = undefined;
  }
}
