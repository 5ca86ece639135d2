// Watches one namespace's ChatBots and their children, as a user's watch sees them (informers of
// the operator's kit, in this process), and records per ChatBot when all its children were first
// visible and when it first converged: children present and status.observedGeneration current.

import type { ChatBot } from '../operator/api/types.generated.ts';
import { managedSelector } from '../operator/chatbot/names.ts';
import { chatBotLabel } from '../operator/chatbot/names.ts';
import { Informer, type KubeClient, type ResourceType } from '../operator/kit/index.ts';
import { resources } from '../operator/resources.ts';
import { createLogger } from '../common/log.ts';
import { childTypes, expectedChildren } from './chatbot-children.ts';

export interface ChatBotProgress {
  /** performance.now() when the ChatBot itself was first seen. */
  seenAt: number;
  /** performance.now() when every child was first visible. */
  childrenAt?: number;
  /** performance.now() when the children were visible and the status was current. */
  convergedAt?: number;
}

export class ConvergenceWatch {
  readonly progress = new Map<string, ChatBotProgress>();
  private readonly namespace: string;
  private readonly bots: Informer<ChatBot>;
  private readonly children = new Map<ResourceType, Informer>();
  private readonly expected = new Map<string, Array<{ resource: ResourceType; name: string }>>();
  private readonly waiters = new Set<() => void>();
  private withChildren = 0;
  private converged = 0;

  constructor(kube: KubeClient, namespace: string) {
    this.namespace = namespace;
    // Warnings (a watch that failed and is retried) still show; the rest is noise here.
    const logger = createLogger('bench-watch', { level: 'warn' });
    const scope = { namespaces: [namespace], logger };
    this.bots = new Informer<ChatBot>(kube, resources.chatBots, scope);
    this.bots.on((event) => this.check(event.object.metadata?.name));
    for (const resource of childTypes) {
      const informer = new Informer(kube, resource, { ...scope, labelSelector: managedSelector });
      informer.on((event) => this.check(event.object.metadata?.labels?.[chatBotLabel]));
      this.children.set(resource, informer);
    }
  }

  async start(): Promise<void> {
    const all = [this.bots, ...this.children.values()];
    for (const informer of all) informer.start();
    await Promise.all(all.map((informer) => informer.waitForSync()));
  }

  async stop(): Promise<void> {
    await Promise.all([this.bots, ...this.children.values()].map((i) => i.stop()));
  }

  counts(): { chatBots: number; withChildren: number; converged: number } {
    const { withChildren, converged } = this;
    return { chatBots: this.progress.size, withChildren, converged };
  }

  /** Resolves once test() holds (asked again after every change seen); rejects after timeoutMs. */
  until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(`${what}: not within ${timeoutMs / 1000} s (${JSON.stringify(this.counts())})`),
        );
      }, timeoutMs);
      const waiter = () => {
        if (!test()) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  private check(name: string | undefined): void {
    const now = performance.now();
    const cb = name && this.bots.get(`${this.namespace}/${name}`);
    if (!cb) return;
    let expected = this.expected.get(name);
    if (!expected) this.expected.set(name, (expected = expectedChildren(cb)));
    const present = expected.every(
      ({ resource, name: child }) =>
        this.children.get(resource)!.get(`${this.namespace}/${child}`) !== undefined,
    );
    let p = this.progress.get(name);
    if (!p) this.progress.set(name, (p = { seenAt: now }));
    if (present && p.childrenAt === undefined) {
      p.childrenAt = now;
      this.withChildren++;
    }
    const current = cb.status?.observedGeneration === cb.metadata.generation;
    if (present && current && p.convergedAt === undefined) {
      p.convergedAt = now;
      this.converged++;
    }
    for (const waiter of [...this.waiters]) waiter();
  }
}
