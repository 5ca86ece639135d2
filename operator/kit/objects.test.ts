// Integration: the object client against the real API server.

import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { testCluster, type TestCluster } from '../../test/cluster.ts';
import { appliedHashAnnotation } from './apply-decision.ts';
import { setCondition } from './conditions.ts';
import { ApiError, ConflictError, NotLeaderError } from './errors.ts';
import { fieldManager, ObjectClient } from './objects.ts';
import type { ResourceType } from './resource.ts';
import { KubeClient } from './rest.ts';
import {
  configMaps,
  counterSum,
  gadgets,
  installGadgetCrd,
  rejection,
} from '../../test/support/kit.ts';

interface Gadget extends KubernetesObject {
  spec: { size?: number; color?: string; memory?: string | number };
  status?: { phase?: string; conditions?: ReturnType<typeof setCondition> };
}

const deployments: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
describe('ObjectClient (real API server)', () => {
  let cluster: TestCluster;
  let client: ObjectClient;
  let namespace: string;

  before(async () => {
    cluster = await testCluster();
    await installGadgetCrd(cluster);
    client = new ObjectClient(new KubeClient(cluster.kc));
  });
  beforeEach(async () => {
    namespace = await cluster.namespace('kit-objects');
  });

  it('applies a custom resource and its status, with the operator as field manager', async () => {
    const applied = await client.apply<Gadget>(gadgets, {
      metadata: { name: 'g', namespace },
      spec: { size: 1, color: 'red' },
    });
    expect(applied.spec).to.deep.equal({ size: 1, color: 'red' });
    expect(applied.metadata!.managedFields!.map((m) => m.manager)).to.deep.equal([fieldManager]);

    const conditions = setCondition(
      undefined,
      {
        type: 'Ready',
        status: 'True',
        reason: 'Built',
        message: 'done',
        observedGeneration: 1,
      },
      new Date(),
    );
    const withStatus = await client.applyStatus<Gadget>(gadgets, {
      ...applied,
      spec: { size: 99 },
      status: { phase: 'Ready', conditions },
    });
    expect(withStatus.status).to.deep.equal({ phase: 'Ready', conditions });
    expect(withStatus.spec.size, 'the status subresource leaves spec alone').to.equal(1);
    const statusManager = withStatus.metadata!.managedFields!.find(
      (m) => m.subresource === 'status',
    );
    expect(statusManager?.manager).to.equal(fieldManager);

    // Re-applying spec without a field removes it: apply states the whole intent.
    const reapplied = await client.apply<Gadget>(gadgets, {
      metadata: { name: 'g', namespace },
      spec: { size: 2 },
    });
    expect(reapplied.spec).to.deep.equal({ size: 2 });
    expect(reapplied.status?.phase, 'spec apply leaves status alone').to.equal('Ready');
  });

  it('takes over fields another manager set (force)', async () => {
    await cluster.kubectl(
      ['apply', '--server-side', '--field-manager=someone', '-f', '-'],
      JSON.stringify({
        apiVersion: 'kit.clawbot.dev/v1',
        kind: 'Gadget',
        metadata: { name: 'g', namespace },
        spec: { color: 'blue' },
      }),
    );
    const applied = await client.apply<Gadget>(gadgets, {
      metadata: { name: 'g', namespace },
      spec: { color: 'green' },
    });
    expect(applied.spec.color).to.equal('green');
  });

  it('applies status only when it changed', async () => {
    const live = await client.apply<Gadget>(gadgets, {
      metadata: { name: 'g', namespace },
      spec: {},
    });
    const ready = { type: 'Ready', status: 'True' as const, reason: 'Ok', message: 'ok' };
    const first = { conditions: setCondition(undefined, ready, new Date('2026-01-01T00:00:00Z')) };
    expect(await client.applyStatusIfChanged(gadgets, live, first)).to.equal(true);
    const afterFirst = (await client.get<Gadget>(gadgets, 'g', namespace))!;
    // Recomputed an hour later: same meaning, different lastTransitionTime → no write.
    const again = { conditions: setCondition(undefined, ready, new Date('2026-01-01T01:00:00Z')) };
    expect(await client.applyStatusIfChanged(gadgets, afterFirst, again)).to.equal(false);
    const notReady = {
      conditions: setCondition(
        afterFirst.status!.conditions,
        { ...ready, status: 'False' },
        new Date(),
      ),
    };
    expect(await client.applyStatusIfChanged(gadgets, afterFirst, notReady)).to.equal(true);
  });

  it('surfaces a stale resourceVersion on update as ConflictError', async () => {
    const created = (await client.create<Gadget>(gadgets, {
      metadata: { name: 'g', namespace },
      spec: { size: 1 },
    }))!;
    const first = await client.update<Gadget>(gadgets, { ...created, spec: { size: 2 } });
    expect(first.spec.size).to.equal(2);
    // A second writer still holding the first read must not overwrite the change.
    const stale = await rejection(
      client.update<Gadget>(gadgets, { ...created, spec: { size: 3 } }),
    );
    expect(stale).to.be.instanceOf(ConflictError);
    expect(stale.message).to.match(/409 Conflict/);
    expect((await client.get<Gadget>(gadgets, 'g', namespace))!.spec.size).to.equal(2);
    expect(() =>
      client.update(gadgets, { metadata: { name: 'g', namespace }, spec: {} } as Gadget),
    ).to.throw(/needs metadata.resourceVersion/);
  });

  it('treats AlreadyExists as success only when asked, and NotFound on delete as success', async () => {
    const body = { metadata: { name: 'cm', namespace }, data: { a: '1' } };
    expect(await client.create(configMaps, body)).to.have.nested.property('metadata.uid');
    expect(await client.create(configMaps, body, { ignoreAlreadyExists: true })).to.equal(
      undefined,
    );
    const again = await rejection(client.create(configMaps, body));
    expect(again).to.be.instanceOf(ApiError).and.not.to.be.instanceOf(ConflictError);
    expect(again.message).to.match(/409 AlreadyExists/);

    expect(await client.delete(configMaps, { name: 'cm', namespace })).to.equal(true);
    expect(await client.delete(configMaps, { name: 'cm', namespace })).to.equal(false);
    expect(await client.get(configMaps, 'cm', namespace)).to.equal(undefined);
  });

  it('says what to do when a resource type is not served', async () => {
    const missing: ResourceType = { ...gadgets, plural: 'nothings', kind: 'Nothing' };
    const err = await rejection(client.list(missing, { namespace }));
    expect(err).to.be.instanceOf(ApiError);
    expect(err.message).to.match(/404.*install its CRD/);
  });

  it('decides from a read-back Deployment that no apply is needed, until a field is edited by hand', async () => {
    const desired = {
      metadata: { name: 'web', namespace, labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'registry.invalid/web:1',
                ports: [{ containerPort: 8080 }],
                // Sent in forms the API server rewrites: "0.5" comes back as "500m".
                resources: {
                  requests: { cpu: '0.5', memory: '1Gi' },
                  limits: { memory: '1073741824' },
                },
              },
            ],
          },
        },
      },
    };
    const writesBefore = await counterSum('rest_client_requests_total', { method: 'PATCH' });
    expect(await client.applyIfChanged(deployments, desired, undefined)).to.equal('absent');
    const live = (await client.get<KubernetesObject>(deployments, 'web', namespace))!;
    expect(live.metadata!.annotations![appliedHashAnnotation]).to.match(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(live)).to.contain('"cpu":"500m"');

    expect(await client.applyIfChanged(deployments, desired, live)).to.equal(undefined);
    expect(await counterSum('rest_client_requests_total', { method: 'PATCH' })).to.equal(
      writesBefore + 1,
    );

    await cluster.kubectl(['-n', namespace, 'scale', 'deployment/web', '--replicas=5']);
    const edited = (await client.get<KubernetesObject>(deployments, 'web', namespace))!;
    expect(await client.applyIfChanged(deployments, desired, edited)).to.equal('live-drifted');
    const repaired = (await client.get<{ spec: { replicas: number } } & KubernetesObject>(
      deployments,
      'web',
      namespace,
    ))!;
    expect(repaired.spec.replicas).to.equal(2);

    const changed = { ...desired, spec: { ...desired.spec, replicas: 3 } };
    expect(await client.applyIfChanged(deployments, changed, repaired)).to.equal('desired-changed');
  });

  it('counts every request by method and code, typed clients included', async () => {
    const kube = new KubeClient(cluster.kc);
    const gets404 = await counterSum('rest_client_requests_total', { method: 'GET', code: '404' });
    const typedGets = await counterSum('rest_client_requests_total', {
      method: 'GET',
      code: '200',
    });
    await new ObjectClient(kube).get(configMaps, 'absent', namespace);
    await kube.api(CoreV1Api).listNamespacedConfigMap({ namespace });
    expect(await counterSum('rest_client_requests_total', { method: 'GET', code: '404' })).to.equal(
      gets404 + 1,
    );
    expect(
      await counterSum('rest_client_requests_total', { method: 'GET', code: '200' }),
    ).to.be.at.least(typedGets + 1);
  });

  it('refuses writes, from any client, while writes are not allowed', async () => {
    let allowed = false;
    const kube = new KubeClient(cluster.kc, { writesAllowed: () => allowed });
    const gated = new ObjectClient(kube);
    const writesBefore = await counterSum('rest_client_requests_total', { method: 'POST' });
    const body = { metadata: { name: 'cm', namespace } };
    expect(await rejection(gated.create(configMaps, body))).to.be.instanceOf(NotLeaderError);
    const typed = kube.api(CoreV1Api).createNamespacedConfigMap({ namespace, body });
    expect(await rejection(typed)).to.be.instanceOf(NotLeaderError);
    expect(
      await counterSum('rest_client_requests_total', { method: 'POST' }),
      'nothing was sent',
    ).to.equal(writesBefore);
    expect(await gated.list(configMaps, { namespace }), 'reads still work').to.have.property(
      'items',
    );
    allowed = true;
    expect(await gated.create(configMaps, body)).to.have.nested.property('metadata.name', 'cm');
  });
});
