// Kubernetes Events (core/v1) for the transitions a person would want to see in
// `kubectl describe`: "model downloaded", "key rotated", "invalid spec". The same event repeated on
// the same object bumps the count of the existing Event instead of creating a new one, so a
// failing object does not flood the namespace.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../common/log.ts';
import { kubeTime } from './conditions.ts';
import { isNotFound } from './errors.ts';
import type { ObjectClient } from './objects.ts';
import { coreEvents } from './resource.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** source.component of every Event, e.g. "clawbot-operator". */
  component: string;
  logger?: Logger;
  /** How many distinct events to remember for deduplication; 4096 by default. */
  remember?: number;
  now?: () => Date;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

const maxMessageLength = 1024;

export class EventRecorder {
  private readonly client: ObjectClient;
  private readonly options: EventRecorderOptions;
  private readonly log: Logger;
  /** Least recently used first (a Map iterates in insertion order). */
  private readonly recorded = new Map<string, Recorded>();
  /** One write at a time per event, so a burst of repeats counts each once. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(client: ObjectClient, options: EventRecorderOptions) {
    this.client = client;
    this.options = options;
    this.log = options.logger ?? createLogger('events');
  }

  /**
   * Records an event about object. Best effort: a failure is logged, never thrown, because an
   * event must not fail the reconcile that reports it.
   */
  record(
    object: KubernetesObject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const text =
      message.length > maxMessageLength ? message.slice(0, maxMessageLength - 1) + '…' : message;
    const key = JSON.stringify([
      object.metadata?.uid,
      object.kind,
      object.metadata?.name,
      type,
      reason,
      text,
    ]);
    const previous = this.writing.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.write(key, object, type, reason, text));
    this.writing.set(key, next);
    void next.finally(() => {
      if (this.writing.get(key) === next) this.writing.delete(key);
    });
    return next;
  }

  private async write(
    key: string,
    object: KubernetesObject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const now = kubeTime((this.options.now ?? (() => new Date()))());
    try {
      const seen = this.recorded.get(key);
      if (seen && (await this.bump(seen, now))) {
        this.remember(key, seen);
        return;
      }
      const namespace = object.metadata?.namespace || 'default';
      const name = `${object.metadata?.name}.${randomBytes(8).toString('hex')}`;
      await this.client.create(coreEvents, {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata?.name,
          namespace: object.metadata?.namespace,
          uid: object.metadata?.uid,
          resourceVersion: object.metadata?.resourceVersion,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.options.component, host: hostname() },
      } as KubernetesObject);
      this.remember(key, { name, namespace, count: 1 });
    } catch (err) {
      this.log.warn('could not record an event', {
        reason,
        object: object.metadata?.name,
        error: err,
      });
    }
  }

  /** Counts one more occurrence on the existing Event; false if it is gone (Events expire). */
  private async bump(seen: Recorded, now: string): Promise<boolean> {
    try {
      await this.client.mergePatch(coreEvents, seen, { count: seen.count + 1, lastTimestamp: now });
      seen.count++;
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private remember(key: string, recorded: Recorded): void {
    this.recorded.delete(key);
    this.recorded.set(key, recorded);
    const limit = this.options.remember ?? 4096;
    for (const oldest of this.recorded.keys()) {
      if (this.recorded.size <= limit) break;
      this.recorded.delete(oldest);
    }
  }
}
