// A controller turns changes into calls of a reconcile function, with controller-runtime's rules:
// - it reconciles a key ("namespace/name") — not an event — so a burst of changes costs one call,
//   and the reconciler always works from the current state in the informer cache;
// - a key is never reconciled twice at once;
// - an error retries with per-key exponential backoff; a TerminalError is counted, not retried;
//   { requeueAfter } comes back after that long; success forgets the key's backoff;
// - workers start only when every informer it reads from has synced, so a reconciler never
//   mistakes "not listed yet" for "does not exist".

import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../common/log.ts';
import type { BackoffOptions } from './backoff.ts';
import type { InformerEvent } from './cache.ts';
import { ConflictError, NotLeaderError, TerminalError } from './errors.ts';
import type { InformerView } from './informer.ts';
import { reconcileMetrics } from './metrics.ts';
import { objectKey } from './object-key.ts';
import { controllerOwnerKey } from './owner.ts';
import { WorkQueue } from './queue.ts';

export interface ReconcileResult {
  /** Reconcile again after this many milliseconds (e.g. to poll something outside Kubernetes). */
  requeueAfter?: number;
  /** Reconcile again soon, with the key's backoff, without calling it an error. */
  requeue?: boolean;
}

/**
 * Brings the object named by key to its desired state. It reads the object (and anything else) from
 * informer caches; an object missing from the cache has been deleted. `signal` aborts when the
 * controller stops.
 */
export type Reconciler = (key: string, signal: AbortSignal) => Promise<ReconcileResult | undefined>;

/** Reconcile the keys `map` returns whenever an object of `informer` changes. */
export interface WatchMapping<T extends KubernetesObject = KubernetesObject> {
  informer: InformerView<T>;
  /** Annotate the parameter with the informer's type: `map: (bot: ChatBot) => [...]`. */
  map(object: T): string[];
}

export interface ControllerOptions<T extends KubernetesObject> {
  /** Names the controller in logs and metrics, e.g. "chatbot". */
  name: string;
  /** The primary resource: its keys are what reconcile receives. */
  for: InformerView<T>;
  /** Children that name a primary as controller in an ownerReference: they wake their owner. */
  owns?: InformerView<KubernetesObject>[];
  /** Other resources whose changes wake primaries, through a mapping function. */
  watches?: WatchMapping[];
  reconcile: Reconciler;
  /** How many keys are reconciled at once (never the same key twice); 1 by default. */
  concurrency?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
}

type Result = 'success' | 'error' | 'requeue' | 'requeue_after';

export class Controller<T extends KubernetesObject = KubernetesObject> {
  readonly name: string;
  private readonly options: ControllerOptions<T>;
  private readonly queue: WorkQueue;
  private readonly log: Logger;

  constructor(options: ControllerOptions<T>) {
    this.name = options.name;
    this.options = options;
    this.queue = new WorkQueue({ name: options.name, backoff: options.backoff });
    this.log = (options.logger ?? createLogger('controller')).with({ controller: options.name });
  }

  /**
   * Runs until signal aborts, then stops taking keys and resolves once the reconciles in flight
   * have returned (they get the aborted signal, so they can give up early).
   */
  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const unsubscribe = this.subscribe();
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    try {
      const informers = this.informers();
      await Promise.all(informers.map((informer) => informer.waitForSync(signal)));
      // Everything listed before we subscribed gets its first reconcile here.
      for (const object of this.options.for.list()) this.queue.add(objectKey(object));
      this.log.info('caches synced: starting workers', { workers: this.options.concurrency ?? 1 });
      const workers = Array.from({ length: this.options.concurrency ?? 1 }, () =>
        this.work(signal),
      );
      await Promise.all(workers);
    } catch (err) {
      // Stopped while waiting for caches: nothing was reconciled, nothing to finish.
      if (!signal.aborted) throw err;
    } finally {
      unsubscribe();
      await this.queue.drained();
    }
  }

  private informers(): InformerView<KubernetesObject>[] {
    const { for: primary, owns = [], watches = [] } = this.options;
    return [primary, ...owns, ...watches.map((w) => w.informer)];
  }

  private subscribe(): () => void {
    const { for: primary, owns = [], watches = [] } = this.options;
    const owner = primary.resource;
    const unsubscribers = [
      primary.on((event) => this.queue.add(objectKey(event.object))),
      ...owns.map((informer) =>
        informer.on((event) =>
          this.enqueueMapped(event, (object) => {
            const key = controllerOwnerKey(object, owner);
            return key === undefined ? [] : [key];
          }),
        ),
      ),
      ...watches.map(({ informer, map }) => informer.on((event) => this.enqueueMapped(event, map))),
    ];
    return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
  }

  // An update maps both the old and the new object: a child whose owner changed wakes both owners.
  private enqueueMapped<O>(event: InformerEvent<O>, map: (object: O) => string[]): void {
    for (const key of map(event.object)) this.queue.add(key);
    if (event.type === 'update') for (const key of map(event.old)) this.queue.add(key);
  }

  private async work(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileOne(key, signal);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileOne(key: string, signal: AbortSignal): Promise<void> {
    const controller = this.name;
    const stopTimer = reconcileMetrics.time.startTimer({ controller });
    const count = (result: Result) => reconcileMetrics.total.inc({ controller, result });
    try {
      const result = await this.options.reconcile(key, signal);
      if (result?.requeueAfter !== undefined && result.requeueAfter > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, result.requeueAfter);
        count('requeue_after');
      } else if (result?.requeue) {
        this.queue.addRateLimited(key);
        count('requeue');
      } else {
        this.queue.forget(key);
        count('success');
      }
    } catch (err) {
      count('error');
      reconcileMetrics.errors.inc({ controller });
      this.onError(key, err);
    } finally {
      stopTimer();
    }
  }

  private onError(key: string, err: unknown): void {
    if (err instanceof TerminalError) {
      reconcileMetrics.terminalErrors.inc({ controller: this.name });
      this.queue.forget(key);
      // Not retried: only a change to the object (or to what maps to it) reconciles it again.
      this.log.error('reconcile failed; not retrying until the object changes', {
        key,
        error: err,
      });
      return;
    }
    if (err instanceof NotLeaderError) {
      // Not retried: leadership is lost and the process is shutting down; the new leader takes over.
      this.log.info('reconcile stopped: no longer the leader', { key });
      return;
    }
    this.queue.addRateLimited(key);
    const retries = this.queue.retries(key);
    // A conflict is routine (the object changed since it was read); anything else is worth a look.
    const level = err instanceof ConflictError ? 'info' : 'error';
    this.log[level]('reconcile failed; retrying with backoff', { key, retries, error: err });
  }
}
