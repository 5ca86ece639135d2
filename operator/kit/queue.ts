// A work queue of object keys with client-go's guarantees, which make reconcilers simple:
// - a key waiting in the queue is not added twice (ten events in a burst cost one reconcile);
// - a key being processed is never handed to a second worker; if it is added meanwhile it is
//   queued again once the first worker calls done();
// - failed keys come back after a per-key exponential backoff (addRateLimited/forget);
// - addAfter(key, ms) brings a key back later; when several are pending, the earliest wins.

import { KeyBackoff, type BackoffOptions } from './backoff.ts';
import { realClock, type Clock } from './clock.ts';
import { workQueueMetrics } from './metrics.ts';

export interface WorkQueueOptions {
  /** The `name` label of the workqueue_* metrics (the controller's name). */
  name: string;
  backoff?: BackoffOptions;
  clock?: Clock;
}

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly backoff: KeyBackoff;
  /** Keys ready to be handed out, in order. */
  private readonly ready: string[] = [];
  /** Keys that need processing: those in `ready`, plus those re-added while being processed. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  /** When each ready key was added, for the queue-duration metric. */
  private readonly addedAt = new Map<string, number>();
  /** Keys waiting for addAfter: when they are due, and how to cancel their timer. */
  private readonly delayed = new Map<string, { dueAt: number; cancel: () => void }>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.backoff = new KeyBackoff(options.backoff);
    workQueueMetrics.depth.set({ name: this.name }, 0);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    workQueueMetrics.adds.inc({ name: this.name });
    // A key being processed goes back in the queue when done() is called, not before.
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Adds key after ms; if it is already waiting, the earlier of the two times wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.clock.now() + ms;
    const waiting = this.delayed.get(key);
    if (waiting && waiting.dueAt <= dueAt) return;
    waiting?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { dueAt, cancel });
  }

  /** Adds key again after its backoff delay, which doubles with each failure in a row. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    workQueueMetrics.retries.inc({ name: this.name });
    this.addAfter(key, this.backoff.next(key));
  }

  /** The key succeeded: its next failure backs off from the base delay again. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** How many times in a row key has been retried. */
  retries(key: string): number {
    return this.backoff.failuresOf(key);
  }

  /**
   * The next key to process, waiting for one if needed; undefined once the queue is shut down.
   * Call done(key) when finished with it.
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) return Promise.resolve(this.handOut(key));
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    workQueueMetrics.workDuration.observe(
      { name: this.name },
      (this.clock.now() - startedAt) / 1000,
    );
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
    if (this.processing.size === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
  }

  /** Keys ready to be processed (not counting those being processed or waiting for a delay). */
  len(): number {
    return this.ready.length;
  }

  /**
   * Stops the queue: adds are ignored, pending delays are cancelled and get() returns undefined,
   * so workers finish the key they hold and exit. Keys still queued are dropped: they are
   * reconciled again by whoever runs next, from a fresh list.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    this.ready.length = 0;
    this.dirty.clear();
    this.addedAt.clear();
    workQueueMetrics.depth.set({ name: this.name }, 0);
    this.getters.splice(0).forEach((resolve) => resolve(undefined));
  }

  /** Resolves once no key is being processed. */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(key: string): void {
    this.addedAt.set(key, this.clock.now());
    const getter = this.getters.shift();
    if (getter) {
      getter(this.handOut(key));
      return;
    }
    this.ready.push(key);
    workQueueMetrics.depth.set({ name: this.name }, this.ready.length);
  }

  private handOut(key: string): string {
    const now = this.clock.now();
    workQueueMetrics.queueDuration.observe(
      { name: this.name },
      (now - (this.addedAt.get(key) ?? now)) / 1000,
    );
    this.addedAt.delete(key);
    this.dirty.delete(key);
    this.processing.set(key, now);
    workQueueMetrics.depth.set({ name: this.name }, this.ready.length);
    return key;
  }
}
