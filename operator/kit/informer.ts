// An informer: a local, always-current copy of one resource type (optionally limited to some
// namespaces and a label selector), and a stream of change events. Reconcilers read from it instead
// of asking the API server, which is what keeps an idle operator quiet.

import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../common/log.ts';
import { ObjectCache, type IndexFunction, type InformerEvent } from './cache.ts';
import { objectKey } from './object-key.ts';
import { Reflector } from './reflector.ts';
import type { KubeClient } from './rest.ts';
import { resourceName, type ResourceType } from './resource.ts';

export interface InformerOptions {
  /** Namespaces to watch; all namespaces when omitted or empty. Ignored for cluster-scoped types. */
  namespaces?: string[];
  /** e.g. "app.kubernetes.io/managed-by=clawbot-operator". */
  labelSelector?: string;
  /** How often to list again and diff against the cache (±10% jitter); 15 minutes by default. */
  relistPeriodMs?: number;
  /** Restart a watch that sent no event or bookmark for this long; 4 minutes by default. */
  watchdogMs?: number;
  logger?: Logger;
}

export type InformerHandler<T> = (event: InformerEvent<T>) => void;

/**
 * What a controller needs of an informer. Its members are methods, which TypeScript checks
 * bivariantly, so an Informer<ChatBot> serves where an InformerView<KubernetesObject> is wanted
 * (an Informer itself is invariant in its type).
 */
export interface InformerView<T extends KubernetesObject> {
  readonly resource: ResourceType;
  on(handler: InformerHandler<T>): () => void;
  waitForSync(signal?: AbortSignal): Promise<void>;
  list(): T[];
}

export class Informer<T extends KubernetesObject = KubernetesObject> implements InformerView<T> {
  readonly resource: ResourceType;
  private readonly cache = new ObjectCache<T>();
  private readonly reflectors: Reflector<T>[];
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly log: Logger;
  private readonly syncWaiters: Array<() => void> = [];
  private running: { abort: AbortController; done: Promise<void> } | undefined;

  constructor(kube: KubeClient, resource: ResourceType, options: InformerOptions = {}) {
    this.resource = resource;
    this.log = (options.logger ?? createLogger('informer')).with({
      resource: resourceName(resource),
    });
    const scopes =
      resource.namespaced && options.namespaces?.length ? options.namespaces : [undefined];
    this.reflectors = scopes.map(
      (namespace) =>
        new Reflector<T>({
          kube,
          resource,
          namespace,
          labelSelector: options.labelSelector,
          cache: this.cache,
          deliver: (events) => this.deliver(events),
          relistPeriodMs: options.relistPeriodMs ?? 15 * 60_000,
          watchdogMs: options.watchdogMs ?? 4 * 60_000,
          log: namespace ? this.log.with({ namespace }) : this.log,
        }),
    );
  }

  /** Calls handler for every change from now on; returns a function that unsubscribes. */
  on(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Starts listing and watching (once; later calls do nothing). */
  start(): void {
    if (this.running) return;
    const abort = new AbortController();
    const done = Promise.all(this.reflectors.map((r) => r.run(abort.signal))).then(() => {});
    this.running = { abort, done };
  }

  /** Stops watching; the cache keeps its last contents. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running.abort.abort();
    await this.running.done;
  }

  /** True once every namespace has been listed at least once. */
  hasSynced(): boolean {
    return this.reflectors.every((r) => r.hasSynced());
  }

  /** Resolves once hasSynced(); rejects if signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () =>
        reject(new Error(`stopped before ${resourceName(this.resource)} synced`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** The cached object with this key ("namespace/name", or "name"); treat it as read-only. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Cached objects, optionally only those matching a predicate (on labels, fields, …). */
  list(predicate?: (object: T) => boolean): T[] {
    const all = this.cache.list();
    return predicate ? all.filter(predicate) : all;
  }

  /** Adds a secondary index: byIndex(name, value) then finds objects by a computed value. */
  addIndex(name: string, valuesOf: IndexFunction<T>): void {
    this.cache.addIndex(name, valuesOf);
  }

  byIndex(name: string, value: string): T[] {
    return this.cache.byIndex(name, value);
  }

  /** Counts of list and watch requests so far, summed over namespaces (for tests and debugging). */
  stats(): { relists: number; watchesStarted: number } {
    return {
      relists: this.reflectors.reduce((n, r) => n + r.relists, 0),
      watchesStarted: this.reflectors.reduce((n, r) => n + r.watchesStarted, 0),
    };
  }

  private deliver(events: InformerEvent<T>[]): void {
    for (const event of events) {
      for (const handler of this.handlers) {
        try {
          handler(event);
        } catch (err) {
          // One broken handler must not stop the others, nor the watch.
          this.log.error('event handler failed', { error: err, key: objectKey(event.object) });
        }
      }
    }
    if (this.syncWaiters.length > 0 && this.hasSynced()) {
      this.syncWaiters.splice(0).forEach((wake) => wake());
    }
  }
}
