// One list-then-watch loop for one scope (one namespace, or all), keeping a cache in step with the
// API server. It never gives up: errors are retried with a jittered backoff, so an API server
// restart or a network cut only delays events.
// - The watch starts from the list's resourceVersion, with bookmarks (which move the
//   resourceVersion forward while nothing changes, so a restart does not replay or miss events).
// - 410 Gone (the resourceVersion is too old to resume from) → list again.
// - The watch closing (the server's timeout) → watch again from the last resourceVersion.
// - No event or bookmark for watchdogMs → the connection is presumed dead: watch again.
// - Every relistPeriodMs (jittered) → list again and diff against the cache, so anything a watch
//   missed still arrives, as synthetic add/update/delete events.

import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../common/log.ts';
import { KeyBackoff } from './backoff.ts';
import type { InformerEvent, ObjectCache } from './cache.ts';
import { ApiError } from './errors.ts';
import { ObjectClient } from './objects.ts';
import type { KubeClient } from './rest.ts';
import { apiVersionOf, resourcePath, type ResourceType } from './resource.ts';
import { watchEvents, type WatchStatus } from './watch-events.ts';

export interface ReflectorOptions<T extends KubernetesObject> {
  kube: KubeClient;
  resource: ResourceType;
  /** Undefined: all namespaces (or a cluster-scoped type). */
  namespace?: string;
  labelSelector?: string;
  cache: ObjectCache<T>;
  deliver: (events: InformerEvent<T>[]) => void;
  relistPeriodMs: number;
  watchdogMs: number;
  log: Logger;
}

/** Why a watch ended without an error. */
type WatchEnd = 'closed' | 'gone' | 'silent' | 'relist-due' | 'stopped';

const pageSize = 500;
const retryKey = 'list-watch';
// A watch that the server ends sooner than this without sending anything counts as a failure, so
// a server that keeps closing watches at once is not hammered.
const shortestHealthyWatchMs = 1000;

export class Reflector<T extends KubernetesObject> {
  private readonly options: ReflectorOptions<T>;
  private readonly objects: ObjectClient;
  private resourceVersion: string | undefined;
  private relistDueAt = 0;
  private listed = false;
  /** How many watches this reflector has started (for tests and logs). */
  watchesStarted = 0;
  relists = 0;

  constructor(options: ReflectorOptions<T>) {
    this.options = options;
    this.objects = new ObjectClient(options.kube);
  }

  /** True once the first list has been delivered. */
  hasSynced(): boolean {
    return this.listed;
  }

  /** Lists and watches until signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new KeyBackoff({ baseMs: 500, maxMs: 30_000 });
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist(signal);
        const { end, healthy } = await this.watch(signal);
        if (end === 'gone' || end === 'relist-due') this.resourceVersion = undefined;
        if (end === 'stopped') return;
        if (healthy) {
          backoff.forget(retryKey);
          continue;
        }
        await this.pause(backoff.next(retryKey), signal, 'the watch ended at once');
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.status === 410) this.resourceVersion = undefined;
        await this.pause(backoff.next(retryKey), signal, 'list/watch failed', err);
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const { resource, namespace, labelSelector, cache } = this.options;
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.objects.list<T>(resource, {
        namespace,
        labelSelector,
        limit: pageSize,
        continue: continueToken,
        signal,
      });
      items.push(...page.items.map((item) => this.prepare(item)));
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken);
    const inScope = namespace ? (o: T) => o.metadata?.namespace === namespace : () => true;
    const events = cache.replace(items, inScope);
    this.resourceVersion = resourceVersion;
    this.listed = true;
    this.relists++;
    const { relistPeriodMs } = this.options;
    this.relistDueAt = performance.now() + relistPeriodMs * (0.9 + 0.2 * Math.random());
    this.options.log.debug('listed', { objects: items.length, resourceVersion });
    this.options.deliver(events);
  }

  private async watch(signal: AbortSignal): Promise<{ end: WatchEnd; healthy: boolean }> {
    const { kube, resource, namespace, labelSelector, cache, deliver, watchdogMs } = this.options;
    const abort = new AbortController();
    const end = (reason: WatchEnd) => () => abort.abort(reason);
    const onStop = end('stopped');
    signal.addEventListener('abort', onStop, { once: true });
    const relistTimer = setTimeout(
      end('relist-due'),
      Math.max(0, this.relistDueAt - performance.now()),
    );
    let watchdog = setTimeout(end('silent'), watchdogMs);
    const startedAt = performance.now();
    let received = 0;
    this.watchesStarted++;
    try {
      const stream = await kube.stream({
        method: 'GET',
        path: resourcePath(resource, { namespace }),
        query: {
          watch: true,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          labelSelector,
          // As client-go: between 5 and 10 minutes, so many watchers do not all reconnect at once.
          timeoutSeconds: Math.floor(300 + 300 * Math.random()),
        },
        signal: abort.signal,
      });
      for await (const event of watchEvents<T>(stream)) {
        received++;
        clearTimeout(watchdog);
        watchdog = setTimeout(end('silent'), watchdogMs);
        if (event.type === 'ERROR') {
          const status = event.object as WatchStatus;
          if (status.code === 410) return { end: 'gone', healthy: true };
          throw new ApiError(
            'WATCH',
            resourcePath(resource, { namespace }),
            status.code ?? 500,
            status.reason ?? 'WatchError',
            status.message ?? JSON.stringify(status),
          );
        }
        const object = this.prepare(event.object as T);
        this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
        if (event.type === 'BOOKMARK') continue;
        const change = event.type === 'DELETED' ? cache.remove(object) : cache.upsert(object);
        if (change) deliver([change]);
      }
      const lasted = performance.now() - startedAt;
      return { end: 'closed', healthy: received > 0 || lasted >= shortestHealthyWatchMs };
    } catch (err) {
      const reason = abort.signal.reason as unknown;
      if (abort.signal.aborted && typeof reason === 'string') {
        if (reason === 'silent') {
          this.options.log.info('no event or bookmark for too long: watching again', {
            watchdogMs,
          });
        }
        return { end: reason as WatchEnd, healthy: true };
      }
      throw err;
    } finally {
      clearTimeout(watchdog);
      clearTimeout(relistTimer);
      signal.removeEventListener('abort', onStop);
      if (!abort.signal.aborted) abort.abort('closed');
    }
  }

  /** Fills in apiVersion/kind (list items lack them) and drops managedFields (memory, noise). */
  private prepare(object: T): T {
    object.apiVersion ??= apiVersionOf(this.options.resource);
    object.kind ??= this.options.resource.kind;
    if (object.metadata) delete object.metadata.managedFields;
    return object;
  }

  private async pause(
    ms: number,
    signal: AbortSignal,
    why: string,
    error?: unknown,
  ): Promise<void> {
    // Up to 50% jitter, so informers that failed together do not retry together.
    const delay = Math.round(ms * (1 + 0.5 * Math.random()));
    this.options.log.warn(`${why}; retrying`, { error, retryInMs: delay });
    await sleep(delay, undefined, { signal }).catch(() => {
      // Stopped while waiting: run() sees the aborted signal and returns.
    });
  }
}
