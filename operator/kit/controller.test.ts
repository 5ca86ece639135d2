// Integration: a controller over real informers, reconciling Gadgets (a throwaway CRD) that own
// ConfigMaps.

import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { testCluster, type TestCluster } from '../../test/cluster.ts';
import { eventually } from '../../tools/eventually.ts';
import { Controller, type ControllerOptions, type Reconciler } from './controller.ts';
import { TerminalError } from './errors.ts';
import { Informer } from './informer.ts';
import { splitKey } from './object-key.ts';
import { ObjectClient } from './objects.ts';
import { controllerReference } from './owner.ts';
import type { ResourceType } from './resource.ts';
import { KubeClient } from './rest.ts';
import {
  type ConfigMap,
  configMaps,
  counterSum,
  gadgets,
  installGadgetCrd,
  testLogger,
} from '../../test/support/kit.ts';

type Gadget = KubernetesObject & { spec: { color?: string } };

describe('Controller (real API server)', () => {
  let cluster: TestCluster;
  let kube: KubeClient;
  let client: ObjectClient;
  let namespace: string;
  let stop: AbortController;
  let running: Promise<unknown>[];
  let informers: Array<{ stop(): Promise<void> }>;

  before(async () => {
    cluster = await testCluster();
    await installGadgetCrd(cluster);
    kube = new KubeClient(cluster.kc);
    client = new ObjectClient(kube);
  });
  beforeEach(async () => {
    namespace = await cluster.namespace('kit-controller');
    stop = new AbortController();
    running = [];
    informers = [];
  });
  afterEach(async () => {
    stop.abort();
    await Promise.all(running);
    await Promise.all(informers.map((i) => i.stop()));
  });

  function informer<T extends KubernetesObject>(resource: ResourceType): Informer<T> {
    const created = new Informer<T>(kube, resource, {
      namespaces: [namespace],
      logger: testLogger('informer'),
    });
    created.start();
    informers.push(created);
    return created;
  }

  function runController<T extends KubernetesObject>(
    options: Omit<ControllerOptions<T>, 'logger'>,
  ): Controller<T> {
    const controller = new Controller<T>({ logger: testLogger('controller'), ...options });
    running.push(controller.run(stop.signal));
    return controller;
  }

  const gadget = (name: string, color = 'red') =>
    client.apply<Gadget>(gadgets, { metadata: { name, namespace }, spec: { color } });

  /** Keeps a ConfigMap "<gadget>-config" with the gadget's color, owned by the gadget. */
  function configReconciler(gadgetCache: Informer<Gadget>, calls: string[]): Reconciler {
    return async (key) => {
      calls.push(key);
      const owner = gadgetCache.get(key);
      // Deleted: the garbage collector removes the ConfigMap; nothing to do, nothing to retry.
      if (!owner) return;
      const { name } = splitKey(key);
      const live = configCache.get(`${namespace}/${name}-config`);
      await client.applyIfChanged(
        configMaps,
        {
          metadata: {
            name: `${name}-config`,
            namespace,
            ownerReferences: [controllerReference(owner, gadgets)],
          },
          data: { color: owner.spec.color ?? '' },
        } as ConfigMap,
        live,
      );
      return undefined;
    };
  }
  let configCache: Informer<ConfigMap>;

  it('reconciles owners when their children change: edited or deleted children are repaired', async () => {
    const gadgetCache = informer<Gadget>(gadgets);
    configCache = informer<ConfigMap>(configMaps);
    const calls: string[] = [];
    runController({
      name: `owns-${namespace}`,
      for: gadgetCache,
      owns: [configCache],
      reconcile: configReconciler(gadgetCache, calls),
    });

    await gadget('g1', 'red');
    const colorOf = () => configCache.get(`${namespace}/g1-config`)?.data?.color;
    await eventually('the child', () => (colorOf() === 'red' ? true : undefined));

    await gadget('g1', 'blue');
    await eventually('the child follows its owner', () =>
      colorOf() === 'blue' ? true : undefined,
    );

    await cluster.kubectl([
      '-n',
      namespace,
      'patch',
      'configmap',
      'g1-config',
      '--type=merge',
      '-p',
      '{"data":{"color":"hacked"}}',
    ]);
    await eventually('the hand edit is undone', async () => {
      const live = await client.get<ConfigMap>(configMaps, 'g1-config', namespace);
      return live?.data?.color === 'blue' ? true : undefined;
    });

    await client.delete(configMaps, { name: 'g1-config', namespace });
    await eventually('the deleted child is recreated', async () => {
      const live = await client.get<ConfigMap>(configMaps, 'g1-config', namespace);
      return live?.data?.color === 'blue' ? true : undefined;
    });
    expect(new Set(calls)).to.deep.equal(new Set([`${namespace}/g1`]));
  });

  it('does not wake an owner for children controlled by something else', async () => {
    const gadgetCache = informer<Gadget>(gadgets);
    configCache = informer<ConfigMap>(configMaps);
    const calls: string[] = [];
    runController({
      name: `foreign-${namespace}`,
      for: gadgetCache,
      owns: [configCache],
      reconcile: async (key) => void calls.push(key),
    });
    const g = await gadget('g');
    await eventually('first reconcile', () => (calls.length === 1 ? true : undefined));
    const ref = controllerReference(g, gadgets);
    const child = (name: string, ownerReferences: object[]) =>
      client.create(configMaps, { metadata: { name, namespace, ownerReferences } } as ConfigMap);
    await child('not-controller', [{ ...ref, controller: false }]);
    await child('other-kind', [{ ...ref, kind: 'Widget' }]);
    await child('other-group', [{ ...ref, apiVersion: 'elsewhere.dev/v1' }]);
    await child('ours', [ref]);
    await eventually('the controlled child wakes it', () =>
      calls.length === 2 ? true : undefined,
    );
    await sleep(300);
    expect(calls).to.deep.equal([`${namespace}/g`, `${namespace}/g`]);
  });

  it('wakes primaries through a mapping function', async () => {
    const gadgetCache = informer<Gadget>(gadgets);
    const labelled = informer<ConfigMap>(configMaps);
    const calls: string[] = [];
    runController({
      name: `maps-${namespace}`,
      for: gadgetCache,
      watches: [
        {
          informer: labelled,
          map: (cm) =>
            cm.metadata?.labels?.gadget
              ? [`${cm.metadata.namespace}/${cm.metadata.labels.gadget}`]
              : [],
        },
      ],
      reconcile: async (key) => void calls.push(key),
    });
    await gadget('a');
    await gadget('b');
    await eventually('initial reconciles', () => (calls.length === 2 ? true : undefined));
    await client.create(configMaps, {
      metadata: { name: 'points-at-b', namespace, labels: { gadget: 'b' } },
    });
    await eventually('b reconciled again', () => (calls.length === 3 ? true : undefined));
    expect(calls[2]).to.equal(`${namespace}/b`);
  });

  it('retries errors with backoff until success, and counts each result', async () => {
    const gadgetCache = informer<Gadget>(gadgets);
    const name = `retry-${namespace}`;
    let attempts = 0;
    runController({
      name,
      for: gadgetCache,
      backoff: { baseMs: 5, maxMs: 100 },
      reconcile: async () => {
        attempts++;
        if (attempts <= 3) throw new Error(`transient failure ${attempts}`);
        return undefined;
      },
    });
    await gadget('g');
    await eventually('success after retries', async () =>
      (await counterSum('controller_runtime_reconcile_total', {
        controller: name,
        result: 'success',
      })) === 1
        ? true
        : undefined,
    );
    expect(attempts).to.equal(4);
    expect(
      await counterSum('controller_runtime_reconcile_total', { controller: name, result: 'error' }),
    ).to.equal(3);
    expect(
      await counterSum('controller_runtime_reconcile_errors_total', { controller: name }),
    ).to.equal(3);
    expect(await counterSum('workqueue_retries_total', { name })).to.equal(3);
  });

  it('does not retry a TerminalError, but reconciles again when the object changes', async () => {
    const gadgetCache = informer<Gadget>(gadgets);
    const name = `terminal-${namespace}`;
    const calls: string[] = [];
    runController({
      name,
      for: gadgetCache,
      backoff: { baseMs: 5, maxMs: 100 },
      reconcile: async (key) => {
        calls.push(gadgetCache.get(key)!.spec.color!);
        if (gadgetCache.get(key)!.spec.color === 'invalid')
          throw new TerminalError('color "invalid" is not a color');
        return undefined;
      },
    });
    await gadget('g', 'invalid');
    await eventually('the terminal error', () => (calls.length === 1 ? true : undefined));
    // A retry would come after 5 ms; wait a hundred times that.
    await sleep(500);
    expect(calls).to.deep.equal(['invalid']);
    expect(
      await counterSum('controller_runtime_terminal_reconcile_errors_total', { controller: name }),
    ).to.equal(1);
    expect(
      await counterSum('controller_runtime_reconcile_total', { controller: name, result: 'error' }),
    ).to.equal(1);
    await gadget('g', 'green');
    await eventually('the fixed object', () => (calls.length === 2 ? true : undefined));
    expect(calls).to.deep.equal(['invalid', 'green']);
  });

  it('comes back after requeueAfter without any change', async () => {
    const gadgetCache = informer<Gadget>(gadgets);
    const name = `requeue-${namespace}`;
    let calls = 0;
    runController({
      name,
      for: gadgetCache,
      reconcile: async () => (++calls < 3 ? { requeueAfter: 50 } : undefined),
    });
    await gadget('g');
    await eventually('three reconciles', () => (calls === 3 ? true : undefined));
    expect(
      await counterSum('controller_runtime_reconcile_total', {
        controller: name,
        result: 'requeue_after',
      }),
    ).to.equal(2);
  });

  it('starts workers only after every cache synced, and never runs one key twice at once', async () => {
    await gadget('existing');
    const gadgetCache = informer<Gadget>(gadgets);
    configCache = informer<ConfigMap>(configMaps);
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const unsynced: string[] = [];
    const calls: string[] = [];
    let maxParallel = 0;
    runController({
      name: `exclusive-${namespace}`,
      for: gadgetCache,
      owns: [configCache],
      concurrency: 4,
      reconcile: async (key) => {
        if (!gadgetCache.hasSynced() || !configCache.hasSynced()) unsynced.push(key);
        if (inFlight.has(key)) overlaps.push(key);
        inFlight.add(key);
        maxParallel = Math.max(maxParallel, inFlight.size);
        calls.push(key);
        await sleep(100);
        inFlight.delete(key);
        return undefined;
      },
    });
    await eventually('the object that existed before start', () =>
      calls.length > 0 ? true : undefined,
    );
    // Many changes to one object, and a few other objects, while reconciles are slow.
    for (let i = 0; i < 5; i++) await gadget('hot', `c${i}`);
    await Promise.all(['x', 'y', 'z'].map((n) => gadget(n)));
    await eventually('all objects reconciled', () =>
      ['existing', 'hot', 'x', 'y', 'z'].every((n) => calls.includes(`${namespace}/${n}`)) &&
      inFlight.size === 0
        ? true
        : undefined,
    );
    expect(unsynced).to.deep.equal([]);
    expect(overlaps).to.deep.equal([]);
    expect(maxParallel, 'different keys run in parallel').to.be.greaterThan(1);
    expect(calls[0]).to.equal(`${namespace}/existing`);
  });
});
