// The manager runs an operator process: shared informers, controllers, leader election, the
// health/metrics server, and an orderly shutdown. Informers run on every replica (a standby has
// warm caches and is ready to take over); controllers run only on the leader, and every write goes
// through a gate that closes the moment leadership is lost.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../common/log.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { EventRecorder } from './events.ts';
import { startHealthServer } from './health-server.ts';
import { Informer, type InformerOptions } from './informer.ts';
import { LeaderElector } from './leader-election.ts';
import { collectProcessMetrics, metricsRegistry, reportCacheSizes } from './metrics.ts';
import { fieldManager, ObjectClient } from './objects.ts';
import { KubeClient } from './rest.ts';
import { resourceName, type ResourceType } from './resource.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  /** Namespaces every informer watches unless it says otherwise; all namespaces by default. */
  namespaces?: string[];
  /** Relist period of every informer (see InformerOptions); 15 minutes by default. */
  relistPeriodMs?: number;
  /** Off (false) for a single replica; on, only the holder of the lease runs controllers. */
  leaderElection:
    | false
    | {
        /** Where the Lease lives: the operator's own namespace. */
        namespace: string;
        /** "clawbot-operator" by default. */
        name?: string;
        /** Unique per process; hostname (the pod name) plus a random suffix by default. */
        identity?: string;
        leaseDurationMs?: number;
        renewDeadlineMs?: number;
        retryPeriodMs?: number;
      };
  /** Port of /healthz, /readyz and /metrics; 8080 by default, 0 for any free port. */
  healthPort?: number;
  /** How long shutdown waits for reconciles in flight; 30 s by default. */
  shutdownTimeoutMs?: number;
  logger?: Logger;
}

/** How run() ended: asked to stop, or lost the lease (exit non-zero so the pod restarts clean). */
export type ManagerOutcome = 'stopped' | 'lost-leadership';

export class Manager {
  /** Counted, and gated: writes fail with NotLeaderError unless this process may write. */
  readonly kube: KubeClient;
  readonly client: ObjectClient;
  readonly events: EventRecorder;
  private readonly options: ManagerOptions;
  private readonly log: Logger;
  private readonly informers = new Map<string, Informer<KubernetesObject>>();
  private readonly controllers: Controller<KubernetesObject>[] = [];
  private writesOpen = false;
  private healthPort: number | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.log = options.logger ?? createLogger('manager');
    this.kube = new KubeClient(options.kubeConfig, { writesAllowed: () => this.writesOpen });
    this.client = new ObjectClient(this.kube);
    this.events = new EventRecorder(this.client, { component: fieldManager, logger: this.log });
  }

  /**
   * The shared informer for a resource type (one per type, namespaces and selector, however
   * many controllers read it). Register informers and controllers before run().
   */
  informer<T extends KubernetesObject>(
    resource: ResourceType,
    options: Pick<InformerOptions, 'namespaces' | 'labelSelector'> = {},
  ): Informer<T> {
    const namespaces = options.namespaces ?? this.options.namespaces;
    const id = JSON.stringify([resource, namespaces ?? [], options.labelSelector ?? '']);
    let informer = this.informers.get(id);
    if (!informer) {
      informer = new Informer(this.kube, resource, {
        namespaces,
        labelSelector: options.labelSelector,
        relistPeriodMs: this.options.relistPeriodMs,
        logger: this.log,
      });
      this.informers.set(id, informer);
    }
    return informer as unknown as Informer<T>;
  }

  addController<T extends KubernetesObject>(
    options: Omit<ControllerOptions<T>, 'logger'>,
  ): Controller<T> {
    const controller = new Controller<T>({ ...options, logger: this.log });
    this.controllers.push(controller as unknown as Controller<KubernetesObject>);
    return controller;
  }

  /** The port the health/metrics server listens on, once run() has started it. */
  port(): number | undefined {
    return this.healthPort;
  }

  /** Runs until signal aborts or leadership is lost; then shuts down in order (see shutDown). */
  async run(signal: AbortSignal): Promise<ManagerOutcome> {
    collectProcessMetrics();
    const server = await startHealthServer({
      port: this.options.healthPort ?? 8080,
      registry: metricsRegistry,
      notReady: () =>
        [...this.informers.values()]
          .filter((i) => !i.hasSynced())
          .map((i) => resourceName(i.resource)),
    });
    this.healthPort = server.port;
    this.log.info('serving /healthz, /readyz and /metrics', { port: server.port });
    for (const informer of this.informers.values()) informer.start();
    const stopReporting = reportCacheSizes(() =>
      [...this.informers.values()].map((i) => [resourceName(i.resource), i.list().length]),
    );

    const stopControllers = new AbortController();
    let controllersDone: Promise<unknown> = Promise.resolve();
    const startControllers = () => {
      // Elected after shutdown began: too late to start; the lease is released right after.
      if (stopControllers.signal.aborted) return;
      this.writesOpen = true;
      controllersDone = Promise.all(this.controllers.map((c) => c.run(stopControllers.signal)));
    };

    let outcome: ManagerOutcome = 'stopped';
    const election = this.options.leaderElection;
    const stopElection = new AbortController();
    let electionDone: Promise<void> = Promise.resolve();
    if (election) {
      const elector = new LeaderElector(new KubeClient(this.options.kubeConfig), {
        namespace: election.namespace,
        name: election.name ?? 'clawbot-operator',
        identity: election.identity ?? `${hostname()}_${randomUUID()}`,
        leaseDurationMs: election.leaseDurationMs,
        renewDeadlineMs: election.renewDeadlineMs,
        retryPeriodMs: election.retryPeriodMs,
        onStartedLeading: startControllers,
        // Lost or released: stop writing before anything else happens.
        onStoppedLeading: () => (this.writesOpen = false),
        logger: this.log,
      });
      electionDone = elector.run(stopElection.signal);
      // The elector returns on its own only when leadership is lost.
      const lost = electionDone.then(() => (signal.aborted ? undefined : 'lost'));
      if ((await Promise.race([lost, aborted(signal)])) === 'lost') outcome = 'lost-leadership';
    } else {
      startControllers();
      await aborted(signal);
    }

    this.log.info('shutting down', { outcome });
    await this.shutDown(stopControllers, controllersDone);
    stopElection.abort();
    await electionDone;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    stopReporting();
    await server.close();
    return outcome;
  }

  /**
   * Stops taking work and waits (up to shutdownTimeoutMs) for reconciles in flight; then closes
   * the write gate, so a reconcile that overran cannot write after the lease is released.
   */
  private async shutDown(
    stopControllers: AbortController,
    controllersDone: Promise<unknown>,
  ): Promise<void> {
    stopControllers.abort();
    const timeoutMs = this.options.shutdownTimeoutMs ?? 30_000;
    const finished = await Promise.race([
      controllersDone.then(() => true),
      sleep(timeoutMs, false, { ref: false }),
    ]);
    if (!finished)
      this.log.warn('reconciles still running at the shutdown deadline; their writes will fail', {
        timeoutMs,
      });
    this.writesOpen = false;
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
