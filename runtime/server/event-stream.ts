// Server-sent events (text/event-stream) on an express response: the framing both streaming
// APIs use. Writes are not paced by the client: an answer is at most MAX_TOKENS tokens, so what
// a slow reader leaves buffered stays small.
import type { Response } from 'express';

// Proxies and load balancers drop connections idle for a minute or so; a request can wait that
// long in the queue before its first token.
const HEARTBEAT_MS = 15_000;

export class EventStream {
  readonly #res: Response;
  readonly #heartbeat: NodeJS.Timeout;

  /** Sends the 200 and the event-stream headers at once, so the client knows it was admitted. */
  constructor(res: Response) {
    this.#res = res;
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      // nginx (and ingress-nginx) buffer responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), HEARTBEAT_MS);
    res.once('close', () => clearInterval(this.#heartbeat));
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
    if (!this.#res.writableEnded && !this.#res.destroyed) this.#res.write(text);
  }
}
