// Integration: informers against the real API server.

import { expect } from 'chai';
import { testCluster, type TestCluster } from '../../test/cluster.ts';
import { eventually } from '../../tools/eventually.ts';
import type { InformerEvent } from './cache.ts';
import { Informer, type InformerOptions } from './informer.ts';
import { ObjectClient } from './objects.ts';
import { KubeClient } from './rest.ts';
import { type ConfigMap, configMaps, testLogger } from '../../test/support/kit.ts';

describe('Informer (real API server)', () => {
  let cluster: TestCluster;
  let kube: KubeClient;
  let client: ObjectClient;
  const running: Informer[] = [];

  before(async () => {
    cluster = await testCluster();
    kube = new KubeClient(cluster.kc);
    client = new ObjectClient(kube);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((informer) => informer.stop()));
  });

  /** A started informer on ConfigMaps and the events it delivers, as "type name[=value]". */
  function startInformer(options: InformerOptions) {
    const informer = new Informer<ConfigMap>(kube, configMaps, {
      logger: testLogger('informer'),
      ...options,
    });
    const events: InformerEvent<ConfigMap>[] = [];
    informer.on((event) => events.push(event));
    informer.start();
    running.push(informer);
    const seen = () =>
      events
        .filter((e) => e.type !== 'resync')
        .map(
          (e) =>
            `${e.type} ${e.object.metadata!.name}${e.object.data ? '=' + e.object.data.v : ''}`,
        );
    return { informer, events, seen };
  }

  const configMap = (
    namespace: string,
    name: string,
    v: string,
    labels?: Record<string, string>,
  ) => ({
    metadata: { name, namespace, labels },
    data: { v },
  });

  it('lists what exists, then sees adds, updates and deletes', async () => {
    const namespace = await cluster.namespace('kit-informer');
    await client.create(configMaps, configMap(namespace, 'before', '1'));
    const { informer, seen } = startInformer({ namespaces: [namespace] });
    await informer.waitForSync();
    expect(informer.hasSynced()).to.equal(true);
    expect(informer.get(`${namespace}/before`)?.data).to.deep.equal({ v: '1' });
    expect(informer.get(`${namespace}/before`)).to.include({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(informer.get(`${namespace}/before`)!.metadata!.managedFields).to.equal(undefined);

    await client.create(configMaps, configMap(namespace, 'after', '1'));
    await client.apply(configMaps, configMap(namespace, 'after', '2'));
    await client.delete(configMaps, { name: 'before', namespace });
    await eventually('the delete', () => (seen().includes('delete before=1') ? true : undefined));
    expect(seen()).to.deep.equal([
      'add before=1',
      'add after=1',
      'update after=2',
      'delete before=1',
    ]);
    expect(informer.list().map((o) => o.metadata!.name)).to.deep.equal(['after']);
  });

  it('watches only the namespaces it is given, and only objects matching its selector', async () => {
    const [a, b, other] = await Promise.all(
      ['kit-a', 'kit-b', 'kit-other'].map((p) => cluster.namespace(p)),
    );
    const { informer } = startInformer({ namespaces: [a!, b!], labelSelector: 'team=blue' });
    await informer.waitForSync();
    await client.create(configMaps, configMap(a!, 'in-a', '1', { team: 'blue' }));
    await client.create(configMaps, configMap(b!, 'in-b', '1', { team: 'blue' }));
    await client.create(configMaps, configMap(b!, 'red', '1', { team: 'red' }));
    await client.create(configMaps, configMap(other!, 'elsewhere', '1', { team: 'blue' }));
    await eventually('both namespaces', () => (informer.list().length >= 2 ? true : undefined));
    // The writes above are done; one more change in a watched namespace is a marker: once it is
    // seen, anything the informer were going to (wrongly) see from the others would be there too.
    await client.create(configMaps, configMap(a!, 'marker', '1', { team: 'blue' }));
    await eventually('the marker', () => informer.get(`${a}/marker`));
    expect(
      informer
        .list()
        .map((o) => `${o.metadata!.namespace}/${o.metadata!.name}`)
        .sort(),
    ).to.deep.equal([`${a}/in-a`, `${a}/marker`, `${b}/in-b`].sort());
  });

  it('finds objects through an index', async () => {
    const namespace = await cluster.namespace('kit-index');
    const { informer } = startInformer({ namespaces: [namespace] });
    informer.addIndex('team', (o) => (o.metadata?.labels?.team ? [o.metadata.labels.team] : []));
    await client.create(configMaps, configMap(namespace, 'x', '1', { team: 'blue' }));
    await client.create(configMaps, configMap(namespace, 'y', '1', { team: 'red' }));
    await eventually('both', () => (informer.list().length === 2 ? true : undefined));
    expect(informer.byIndex('team', 'blue').map((o) => o.metadata!.name)).to.deep.equal(['x']);
    await client.apply(configMaps, configMap(namespace, 'x', '1', { team: 'red' }));
    await eventually('x moved to red', () =>
      informer.byIndex('team', 'red').length === 2 ? true : undefined,
    );
    expect(informer.byIndex('team', 'blue')).to.deep.equal([]);
  });

  it('keeps going when its watch is restarted, without missing or repeating events', async () => {
    const namespace = await cluster.namespace('kit-restart');
    // A watchdog this short restarts the idle watch again and again.
    const { informer, seen } = startInformer({ namespaces: [namespace], watchdogMs: 200 });
    await informer.waitForSync();
    await eventually('several watch restarts', () =>
      informer.stats().watchesStarted >= 4 ? true : undefined,
    );
    for (let i = 1; i <= 5; i++) {
      await client.apply(configMaps, configMap(namespace, 'c', String(i)));
      await eventually(`version ${i}`, () =>
        informer.get(`${namespace}/c`)?.data?.v === String(i) ? true : undefined,
      );
      // Let the watch restart after this change: it must resume after it, not replay it.
      const started = informer.stats().watchesStarted;
      await eventually('a restart', () =>
        informer.stats().watchesStarted > started + 1 ? true : undefined,
      );
    }
    expect(seen()).to.deep.equal([
      'add c=1',
      'update c=2',
      'update c=3',
      'update c=4',
      'update c=5',
    ]);
    expect(informer.stats().relists, 'restarts resume from the last resourceVersion').to.equal(1);
  });

  it('relists periodically: unchanged objects come back as resyncs, not as updates', async () => {
    const namespace = await cluster.namespace('kit-relist');
    await client.create(configMaps, configMap(namespace, 'steady', '1'));
    const { informer, events, seen } = startInformer({
      namespaces: [namespace],
      relistPeriodMs: 300,
    });
    await eventually('three relists', () => (informer.stats().relists >= 3 ? true : undefined));
    await client.create(configMaps, configMap(namespace, 'new', '1'));
    await eventually('the new one', () => informer.get(`${namespace}/new`));
    const relistsBefore = informer.stats().relists;
    await eventually('another relist', () =>
      informer.stats().relists > relistsBefore + 1 ? true : undefined,
    );
    expect(seen()).to.deep.equal(['add steady=1', 'add new=1']);
    const resyncs = events.filter((e) => e.type === 'resync').map((e) => e.object.metadata!.name);
    expect(resyncs.filter((n) => n === 'steady').length).to.be.at.least(3);
    expect(resyncs).to.include('new');
  });
});
