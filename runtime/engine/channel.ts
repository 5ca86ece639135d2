// An unbounded single-consumer async queue: the engine pushes deltas as tokens arrive, the HTTP
// layer iterates at its own pace (or not at all: pushing never waits for a reader).

export class Channel<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #closed = false;
  #error: unknown = undefined;
  #waiting: (() => void) | undefined;

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake();
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** Ends the stream with an error, thrown to the reader after the items already pushed. */
  fail(error: unknown): void {
    if (this.#closed) return;
    this.#error = error;
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }
}
