// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules, so that only one
// operator replica writes at a time:
// - the leader renews the lease every retryPeriod; if it cannot renew for renewDeadline, or finds
//   someone else holding it, it stops leading at once (renewDeadline < leaseDuration, so it stops
//   before anyone else may start);
// - a candidate takes the lease when it is free, or when it has not changed for leaseDuration as
//   measured on the candidate's own clock from when it last saw it change: clocks of different
//   machines disagree, so the holder's renewTime is never compared with local time;
// - writes carry the lease's resourceVersion, so two candidates cannot both win;
// - on graceful shutdown the leader releases the lease, and a standby takes over without waiting.

import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../common/log.ts';
import { ConflictError, isAlreadyExists, isNotFound } from './errors.ts';
import { leaderElectionStatus } from './metrics.ts';
import type { KubeClient } from './rest.ts';
import { apiVersionOf, leases, resourcePath } from './resource.ts';

export interface LeaderElectionOptions {
  namespace: string;
  /** The Lease's name, shared by all replicas. */
  name: string;
  /** Unique per process (e.g. pod name + random suffix). */
  identity: string;
  /** How long a lease that stopped changing stays valid; 15 s by default. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up; 10 s by default. */
  renewDeadlineMs?: number;
  /** How often to try to acquire or renew; 2 s by default. */
  retryPeriodMs?: number;
  onStartedLeading?: () => void;
  /** Called when leadership ends: lost, or released at shutdown. Stop writing at once. */
  onStoppedLeading?: () => void;
  logger?: Logger;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubernetesObject & { spec?: LeaseSpec };

/** held: we hold it now. taken: someone else validly holds it. failed: try again later. */
type Attempt = 'held' | 'taken' | 'failed';

// client-go's jitter for the acquire loop, so candidates that start together do not collide.
const acquireJitter = 1.2;

export class LeaderElector {
  private readonly kube: KubeClient;
  private readonly options: LeaderElectionOptions;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private leading = false;
  /** The lease as last read or written (its resourceVersion makes our next write conditional). */
  private lease: Lease | undefined;
  private observedSpec = '';
  /** Local monotonic time at which the lease's spec was last seen to change. */
  private observedAt = 0;

  /** kube must not be gated on leadership: the elector writes before it leads and after. */
  constructor(kube: KubeClient, options: LeaderElectionOptions) {
    this.kube = kube;
    this.options = options;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(
      this.leaseDurationMs > this.renewDeadlineMs &&
      this.renewDeadlineMs > acquireJitter * this.retryPeriodMs
    )) {
      throw new Error(
        'leader election needs leaseDuration > renewDeadline > 1.2 × retryPeriod ' +
          `(got ${this.leaseDurationMs}, ${this.renewDeadlineMs}, ${this.retryPeriodMs} ms)`,
      );
    }
    this.log = (options.logger ?? createLogger('leader-election')).with({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until it leads, then renews until leadership is lost (returns) or signal aborts
   * (releases the lease, then returns).
   */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    this.leading = true;
    leaderElectionStatus.set({ name: this.options.name }, 1);
    this.log.info('became the leader');
    this.options.onStartedLeading?.();
    try {
      await this.renewUntilLost(signal);
    } finally {
      this.leading = false;
      leaderElectionStatus.set({ name: this.options.name }, 0);
      if (signal.aborted) await this.release();
      this.options.onStoppedLeading?.();
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    let lastHolder: string | undefined;
    while (!signal.aborted) {
      const attempt = await this.tryAcquireOrRenew(signal);
      if (attempt === 'held') return true;
      const holder = this.lease?.spec?.holderIdentity;
      if (attempt === 'taken' && holder !== lastHolder)
        this.log.info('the lease is held by another process', { holder });
      lastHolder = holder;
      const wait = this.retryPeriodMs * (1 + acquireJitter * Math.random());
      await sleep(wait, undefined, { signal }).catch(() => {
        // Aborted while waiting: the loop condition ends the campaign.
      });
    }
    return false;
  }

  private async renewUntilLost(signal: AbortSignal): Promise<void> {
    let renewedAt = performance.now();
    for (;;) {
      try {
        await sleep(this.retryPeriodMs, undefined, { signal });
      } catch {
        return; // shutting down: run() releases the lease
      }
      // Never wait on a hanging request past the deadline.
      const left = Math.max(1, Math.ceil(renewedAt + this.renewDeadlineMs - performance.now()));
      const attempt = await this.tryAcquireOrRenew(
        AbortSignal.any([signal, AbortSignal.timeout(left)]),
      );
      if (signal.aborted) return;
      if (attempt === 'held') {
        renewedAt = performance.now();
        continue;
      }
      if (attempt === 'taken') {
        this.log.warn('leadership lost: another process holds the lease', {
          holder: this.lease?.spec?.holderIdentity,
        });
        return;
      }
      if (performance.now() - renewedAt >= this.renewDeadlineMs) {
        this.log.error('leadership lost: could not renew the lease in time', {
          renewDeadlineMs: this.renewDeadlineMs,
        });
        return;
      }
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { namespace, name, identity } = this.options;
    const path = resourcePath(leases, { namespace, name });
    const now = microTime(new Date());
    const ours = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      renewTime: now,
    };
    try {
      const current = await this.readLease(path, signal);
      if (!current) {
        const created = await this.kube.request<Lease>({
          method: 'POST',
          path: resourcePath(leases, { namespace }),
          body: {
            apiVersion: apiVersionOf(leases),
            kind: leases.kind,
            metadata: { name, namespace },
            spec: { ...ours, acquireTime: now, leaseTransitions: 0 },
          },
          signal,
        });
        this.observe(created);
        return 'held';
      }
      this.observe(current);
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity;
      if (holder && holder !== identity && !this.observedExpired(spec)) return 'taken';
      const renewing = holder === identity;
      const transitions = spec.leaseTransitions ?? 0;
      const updated = await this.kube.request<Lease>({
        method: 'PUT',
        path,
        body: {
          ...current,
          spec: {
            ...ours,
            acquireTime: renewing ? spec.acquireTime : now,
            leaseTransitions: renewing ? transitions : transitions + 1,
          },
        },
        signal,
      });
      this.observe(updated);
      return 'held';
    } catch (err) {
      // Another candidate wrote first: not an error, just not our turn.
      if (err instanceof ConflictError || isAlreadyExists(err)) return 'failed';
      if (!signal.aborted) this.log.warn('could not acquire or renew the lease', { error: err });
      return 'failed';
    }
  }

  private async readLease(path: string, signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return await this.kube.request<Lease>({ method: 'GET', path, signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private observe(lease: Lease): void {
    this.lease = lease;
    const spec = JSON.stringify(lease.spec ?? {});
    if (spec !== this.observedSpec) {
      this.observedSpec = spec;
      this.observedAt = performance.now();
    }
  }

  private observedExpired(spec: LeaseSpec): boolean {
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    return performance.now() >= this.observedAt + durationMs;
  }

  /** Gives the lease up (holder cleared), so a standby need not wait for it to expire. */
  private async release(): Promise<void> {
    const spec = this.lease?.spec;
    if (!this.lease || spec?.holderIdentity !== this.options.identity) return;
    const now = microTime(new Date());
    try {
      await this.kube.request<Lease>({
        method: 'PUT',
        path: resourcePath(leases, { namespace: this.options.namespace, name: this.options.name }),
        body: {
          ...this.lease,
          spec: {
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: spec.leaseTransitions,
          },
        },
        signal: AbortSignal.timeout(this.renewDeadlineMs),
      });
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn('could not release the lease; it expires on its own', { error: err });
    }
  }
}

/** metav1.MicroTime's form: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}
