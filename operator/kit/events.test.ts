// Integration: events on the real API server.

import { expect } from 'chai';
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { testCluster, type TestCluster } from '../../test/cluster.ts';
import { EventRecorder } from './events.ts';
import { ObjectClient } from './objects.ts';
import { coreEvents } from './resource.ts';
import { KubeClient } from './rest.ts';
import { gadgets, installGadgetCrd, testLogger } from '../../test/support/kit.ts';

describe('EventRecorder (real API server)', () => {
  let cluster: TestCluster;
  let client: ObjectClient;

  before(async () => {
    cluster = await testCluster();
    await installGadgetCrd(cluster);
    client = new ObjectClient(new KubeClient(cluster.kc));
  });

  async function eventsIn(namespace: string): Promise<CoreV1Event[]> {
    return (await client.list<CoreV1Event & KubernetesObject>(coreEvents, { namespace })).items;
  }

  it('records an event on an object, and counts repeats instead of adding events', async () => {
    const namespace = await cluster.namespace('kit-events');
    const gadget = await client.apply(gadgets, {
      metadata: { name: 'g', namespace },
      spec: {},
    } as KubernetesObject);
    const recorder = new EventRecorder(client, {
      component: 'clawbot-operator',
      logger: testLogger('events'),
    });

    await recorder.record(gadget, 'Warning', 'InvalidSpec', 'color is missing');
    await Promise.all(
      [1, 2, 3].map(() => recorder.record(gadget, 'Warning', 'InvalidSpec', 'color is missing')),
    );
    await recorder.record(gadget, 'Normal', 'Ready', 'serving');

    const events = await eventsIn(namespace);
    const summary = events.map((e) => `${e.type} ${e.reason} ${e.message} x${e.count}`).sort();
    expect(summary).to.deep.equal([
      'Normal Ready serving x1',
      'Warning InvalidSpec color is missing x4',
    ]);
    const warning = events.find((e) => e.reason === 'InvalidSpec')!;
    expect(warning.involvedObject).to.include({
      kind: 'Gadget',
      name: 'g',
      namespace,
      uid: gadget.metadata!.uid,
    });
    expect(warning.source?.component).to.equal('clawbot-operator');
  });

  it('starts a new event when the old one is gone, and never throws', async () => {
    const namespace = await cluster.namespace('kit-events');
    const gadget = await client.apply(gadgets, {
      metadata: { name: 'g', namespace },
      spec: {},
    } as KubernetesObject);
    const recorder = new EventRecorder(client, {
      component: 'clawbot-operator',
      logger: testLogger('events'),
    });
    await recorder.record(gadget, 'Normal', 'Rotated', 'key rotated');
    const [first] = await eventsIn(namespace);
    await client.delete(coreEvents, { name: first!.metadata!.name!, namespace });
    await recorder.record(gadget, 'Normal', 'Rotated', 'key rotated');
    const events = await eventsIn(namespace);
    expect(events.map((e) => e.count)).to.deep.equal([1]);

    // An object in a namespace that does not exist: the write fails, the call still resolves.
    const ghost = { ...gadget, metadata: { ...gadget.metadata, namespace: 'no-such-namespace' } };
    await recorder.record(ghost, 'Warning', 'Lost', 'nowhere');
  });
});
