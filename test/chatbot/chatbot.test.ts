// The ChatBot controller end to end: `kubectl apply` against the real API server, the real
// operator process reconciling, the real controller-manager rolling Deployments and collecting
// garbage.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { sleep } from '../../tools/cluster/processes.ts';
import { repoRoot } from '../../tools/cluster/paths.ts';
import { testCluster, type TestCluster } from '../cluster.ts';
import { installCrds } from '../crds.ts';
import { startOperator, type OperatorProcess } from '../operator-process.ts';
import { eventually } from '../../tools/eventually.ts';
import { bindClaim, kube, markReady } from '../kube.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const condition = (cb: Json | undefined, type: string) =>
  (cb?.status?.conditions as Json[] | undefined)?.find((c) => c.type === type);

async function productionSample(): Promise<Json> {
  return parse(await readFile(join(repoRoot, 'samples/chatbot-production.yaml'), 'utf8')) as Json;
}

describe('ChatBot controller (real API server, operator process)', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  let namespace: string;
  let k: ReturnType<typeof kube>;
  let operator: OperatorProcess;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    namespace = await cluster.namespace('chatbot');
    k = kube(cluster, namespace);
    // The sample's SSD class; volumes of this class can grow.
    await cluster.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'ssd' },
        provisioner: 'example.com/ssd',
        allowVolumeExpansion: true,
      }),
    );
    operator = await startOperator(cluster, [
      '--leader-elect=false',
      `--namespaces=${namespace}`,
      '--relist-period=5s',
      '--runtime-image=registry.example/clawbot/runtime:test',
    ]);
  });

  after(async () => {
    await operator?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const problems = operator.logs.filter((l) => l.level === 'error' || l.level === 'warn');
    console.log(
      problems
        .slice(-10)
        .map((l) => JSON.stringify(l).slice(0, 800))
        .join('\n'),
    );
  });

  it("turns the guide's production example into exactly configured children", async () => {
    const started = Date.now();
    await k.apply(await productionSample());
    const children = await eventually('all children', async () => {
      const found = await Promise.all([
        k.get('deployment', 'support-bot'),
        k.get('service', 'support-bot'),
        k.get('hpa', 'support-bot'),
        k.get('pdb', 'support-bot'),
        k.get('networkpolicy', 'support-bot'),
        k.get('pvc', 'support-bot-data'),
        k.get('configmap', 'support-bot-config'),
        k.get('serviceaccount', 'support-bot'),
        k.get('secret', 'support-bot-keys'),
        k.get('secret', 'support-bot-apikeys'),
      ]);
      return found.every(Boolean) ? found : undefined;
    });
    // A figure, not an assertion (the machine is shared): bench:operator measures it properly.
    console.log(`      all children seen ${Date.now() - started} ms after kubectl apply`);
    const [deployment, service, hpa, pdb, policy, claim, config] = children as Json[];

    const pod = deployment!.spec.template.spec;
    const runtime = pod.containers[0];
    expect(runtime.image).to.equal('registry.example/clawbot/runtime:test');
    expect(runtime.resources).to.deep.equal({
      requests: { cpu: '2', memory: '4Gi' },
      limits: { memory: '4Gi', 'nvidia.com/gpu': '1' },
    });
    expect(pod.tolerations).to.deep.include({
      key: 'nvidia.com/gpu',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    expect(runtime.ports.map((p: Json) => [p.name, p.containerPort])).to.deep.equal([
      ['http', 18789],
      ['health', 18790],
    ]);
    expect(pod.initContainers[0].name).to.equal('model-loader');
    expect(deployment!.spec.replicas).to.equal(2);

    expect(service!.spec.ports).to.deep.equal([
      { name: 'http', port: 18789, protocol: 'TCP', targetPort: 'http' },
    ]);
    expect(hpa!.spec).to.deep.include({ minReplicas: 2, maxReplicas: 10 });
    expect(hpa!.spec.metrics[0].resource.target).to.deep.equal({
      type: 'Utilization',
      averageUtilization: 70,
    });
    expect(pdb!.spec.maxUnavailable).to.equal(1);
    expect(policy!.spec.ingress[0].from).to.deep.equal([{ ipBlock: { cidr: '10.20.0.0/16' } }]);
    expect(claim!.spec).to.deep.include({
      storageClassName: 'ssd',
      accessModes: ['ReadWriteMany'],
    });
    expect(claim!.spec.resources.requests.storage).to.equal('100Gi');
    expect(config!.data).to.deep.include({
      PORT: '18789',
      MAX_TOKENS: '2048',
      EXECUTION_PROVIDER: 'auto',
    });
  });

  it('shows Ready, Replicas, GPU, Endpoint and Age in kubectl get', async () => {
    const table = await eventually('an endpoint in the table', async () => {
      const text = await k.kubectl(['get', 'chatbots']);
      return text.includes('support-bot-') ? false : text.includes('http://support-bot.') && text;
    });
    const [header, row] = table.trim().split('\n');
    expect(header!.split(/\s+/)).to.deep.equal([
      'NAME',
      'READY',
      'REPLICAS',
      'GPU',
      'ENDPOINT',
      'AGE',
    ]);
    expect(row).to.match(
      /^support-bot\s+False\s+0\s+1\s+http:\/\/support-bot\.\S+\.svc:18789\s+\S+$/,
    );
  });

  it('moves its conditions as the pods change (status patched as a kubelet would)', async () => {
    // A pod that no node can take for lack of GPUs, as the scheduler would report it.
    const labels = {
      'app.kubernetes.io/name': 'clawbot',
      'clawbot.dev/chatbot': 'support-bot',
      'app.kubernetes.io/managed-by': 'clawbot-operator',
    };
    await k.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'support-bot-pending', labels },
      spec: { containers: [{ name: 'runtime', image: 'x' }] },
    });
    await k.kubectl([
      'patch',
      'pod',
      'support-bot-pending',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
            },
          ],
        },
      }),
    ]);
    const degraded = await eventually('Degraded InsufficientGPU', async () => {
      const c = condition(await k.get('chatbot', 'support-bot'), 'Degraded');
      return c?.reason === 'InsufficientGPU' && c;
    });
    expect(degraded.status).to.equal('True');
    expect(degraded.message).to.match(/lower resources.gpu/);
    const events = await k.kubectl([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=support-bot',
      '-o',
      'json',
    ]);
    expect((JSON.parse(events) as Json).items.map((e: Json) => e.reason)).to.include(
      'InsufficientGPU',
    );
    await k.delete('pod', 'support-bot-pending');

    // The kubelet reports both replicas' pods running and ready; the real ReplicaSet and
    // Deployment controllers turn that into the Deployment's status.
    const pods = await eventually("the ReplicaSet's two pods", async () => {
      const list = JSON.parse(
        await k.kubectl(['get', 'pods', '-l', 'clawbot.dev/chatbot=support-bot', '-o', 'json']),
      ) as Json;
      const owned = (list.items as Json[]).filter(
        (p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet',
      );
      return owned.length === 2 && owned;
    });
    for (const pod of pods) await markReady(k, pod.metadata.name);
    const cb = await eventually('Ready', async () => {
      const live = await k.get('chatbot', 'support-bot');
      return condition(live, 'Ready')?.status === 'True' && live;
    });
    expect(condition(cb, 'Ready')).to.deep.include({
      reason: 'Serving',
      message: '2 of 2 replicas ready',
      observedGeneration: cb.metadata.generation,
    });
    expect(condition(cb, 'ModelReady')!.status).to.equal('True');
    expect(condition(cb, 'Progressing')!.reason).to.equal('RolloutComplete');
    expect(cb.status.readyReplicas).to.equal(2);
  });

  it('makes no write request while idle, across full relists', async () => {
    const reconciles = () =>
      operator.metric('controller_runtime_reconcile_total', { controller: 'chatbot' });
    // Settle: let anything still in flight from the previous tests finish.
    let writes = await operator.writes({ includeLeaseRenewals: true });
    await eventually(
      'a quiet period',
      async () => {
        await sleep(3000);
        const now = await operator.writes({ includeLeaseRenewals: true });
        const quiet = now === writes;
        writes = now;
        return quiet;
      },
      60_000,
    );
    const before = await reconciles();
    // The operator relists every 5 s here; wait for two relists' worth of reconciles.
    await eventually(
      'reconciles from relists',
      async () => (await reconciles()) >= before + 2 && true,
      30_000,
    );
    expect(await operator.writes({ includeLeaseRenewals: true })).to.equal(writes);
  });

  it('converges spec edits: more GPUs, a fixed replica count, more storage', async () => {
    // No volume provisioner runs here: bind the claim as the PV controller would, since only a
    // bound claim can grow.
    await bindClaim(k, 'support-bot-data', '100Gi');
    await k.patch('chatbot', 'support-bot', {
      spec: {
        resources: { gpu: 2 },
        scaling: { autoscaling: null, replicas: 3 },
        storage: { size: '200Gi' },
      },
    });
    await eventually('2 GPUs per replica', async () => {
      const d = await k.get('deployment', 'support-bot');
      return d?.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'] === '2';
    });
    await eventually(
      'the autoscaler removed and 3 replicas set',
      async () =>
        !(await k.get('hpa', 'support-bot')) &&
        (await k.get('deployment', 'support-bot'))?.spec.replicas === 3,
    );
    await eventually(
      'the claim raised to 200Gi',
      async () =>
        (await k.get('pvc', 'support-bot-data'))?.spec.resources.requests.storage === '200Gi',
    );
    // The claim keeps what cannot change.
    expect((await k.get('pvc', 'support-bot-data'))!.spec.accessModes).to.deep.equal([
      'ReadWriteMany',
    ]);
  });

  it('reports a child the API server refuses, and still updates the others', async () => {
    await cluster.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'fixed-size' },
        provisioner: 'example.com/fixed',
        allowVolumeExpansion: false,
      }),
    );
    const sample = await productionSample();
    await k.apply({
      ...sample,
      metadata: { name: 'fixed' },
      spec: { ...sample.spec, storage: { size: '10Gi', storageClassName: 'fixed-size' } },
    });
    await eventually('the claim of fixed', async () => !!(await k.get('pvc', 'fixed-data')));
    await bindClaim(k, 'fixed-data', '10Gi');
    await k.patch('chatbot', 'fixed', {
      spec: { storage: { size: '20Gi' }, resources: { gpu: 3 } },
    });
    const degraded = await eventually('Degraded ApplyFailed', async () => {
      const c = condition(await k.get('chatbot', 'fixed'), 'Degraded');
      return c?.reason === 'ApplyFailed' && c;
    });
    expect(degraded.message).to.match(/PersistentVolumeClaim fixed-data: .*storage ?class/i);
    await eventually(
      'the Deployment updated all the same',
      async () =>
        (await k.get('deployment', 'fixed'))?.spec.template.spec.containers[0].resources.limits[
          'nvidia.com/gpu'
        ] === '3',
    );
    await k.delete('chatbot', 'fixed');
  });

  it('restores a child that was edited or deleted by hand', async () => {
    await k.patch(
      'deployment',
      'support-bot',
      {
        spec: { template: { spec: { containers: [{ name: 'runtime', image: 'evil/image:1' }] } } },
      },
      ['--type=strategic'],
    );
    await eventually(
      'the runtime image restored',
      async () =>
        (await k.get('deployment', 'support-bot'))?.spec.template.spec.containers[0].image ===
        'registry.example/clawbot/runtime:test',
    );
    await k.delete('service', 'support-bot');
    await eventually('the Service recreated', async () => {
      const s = await k.get('service', 'support-bot');
      return s && !s.metadata.deletionTimestamp;
    });
  });

  it('garbage-collects the children on deletion and keeps the claim when asked to', async () => {
    const sample = await productionSample();
    const spec = { ...sample.spec, storage: { size: '10Gi', retainOnDelete: false } };
    await k.apply({ ...sample, metadata: { name: 'short-lived' }, spec });
    await eventually(
      'children of short-lived',
      async () =>
        !!(await k.get('pvc', 'short-lived-data')) && !!(await k.get('deployment', 'short-lived')),
    );
    await k.delete('chatbot', 'short-lived');
    await k.delete('chatbot', 'support-bot');
    // The garbage collector notices a new CRD's objects after its next discovery (~30 s).
    await eventually(
      'children collected',
      async () => {
        const left = await Promise.all([
          k.get('deployment', 'short-lived'),
          k.get('pvc', 'short-lived-data'),
          k.get('deployment', 'support-bot'),
          k.get('secret', 'support-bot-keys'),
        ]);
        return left.every((o) => !o || o.metadata.deletionTimestamp);
      },
      120_000,
    );
    // retainOnDelete (the default): the data outlives the ChatBot.
    const kept = await k.get('pvc', 'support-bot-data');
    expect(kept, 'support-bot-data was deleted').to.not.equal(undefined);
    expect(kept!.metadata.deletionTimestamp).to.equal(undefined);
  });
});
