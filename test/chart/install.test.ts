// `helm install`, `helm upgrade` and `helm uninstall` of the chart into the real control plane.
// No kubelet runs here, so the operator's pods stay Pending: the tests assert the objects, and
// that Pod Security admission (enforcing "restricted" on the release namespace) let the
// ReplicaSet create the pods at all.

import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { testCluster, type TestCluster } from '../cluster.ts';
import { eventually } from '../../tools/eventually.ts';
import { kube } from '../kube.ts';
import { chartDir, withValues } from './helm.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const release = 'install-test';
const fullname = `${release}-clawbot-operator`;

describe('chart: helm install and upgrade (real API server)', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  let system: string;
  let bots: string;
  let moreBots: string;
  let k: ReturnType<typeof kube>;

  const helm = (command: 'install' | 'upgrade', values: Json) =>
    cluster.helm(withValues([command, release, chartDir, '-n', system], values));
  const deployment = () => k.get('deployment', fullname);
  const args = async () => (await deployment())!.spec.template.spec.containers[0].args as string[];
  const uid = async (kind: string, name: string, namespace?: string) => {
    const namespaced = namespace ? ['-n', namespace] : [];
    return JSON.parse(await cluster.kubectl(['get', kind, name, ...namespaced, '-o', 'json']))
      .metadata.uid as string;
  };

  before(async () => {
    cluster = await testCluster();
    system = await cluster.namespace('clawbot-system');
    bots = await cluster.namespace('bots');
    moreBots = await cluster.namespace('more-bots');
    k = kube(cluster, system);
    await cluster.kubectl([
      'label',
      'namespace',
      system,
      'pod-security.kubernetes.io/enforce=restricted',
    ]);
  });

  it('installs: CRDs served, operator pods admitted under Pod Security "restricted"', async () => {
    const out = await helm('install', { watchNamespaces: [bots] });
    expect(out).to.match(/STATUS: deployed/);
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/chatbots.clawbot.dev',
      'crd/apikeys.clawbot.dev',
    ]);
    // The namespace really enforces "restricted": a pod without the fields is refused.
    const refused = await k.kubectl(['run', 'unrestricted', '--image=x']).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(refused).to.match(/violates PodSecurity "restricted/);
    // The ReplicaSet created both operator pods: admission accepted them. They stay Pending.
    const pods = await eventually('the operator pods', async () => {
      const list = JSON.parse(
        await k.kubectl([
          'get',
          'pods',
          '-l',
          `app.kubernetes.io/instance=${release}`,
          '-o',
          'json',
        ]),
      ) as Json;
      return list.items.length === 2 && (list.items as Json[]);
    });
    expect(pods.map((p) => p.status.phase)).to.deep.equal(['Pending', 'Pending']);
    expect(pods[0]!.spec.serviceAccountName).to.equal(fullname);
  });

  it('grants the operator its rules in the watched namespace and the Lease in its own', async () => {
    const role = await kube(cluster, bots).get('role', fullname);
    expect(role!.rules.map((r: Json) => r.resources[0])).to.include.members([
      'chatbots',
      'apikeys',
      'deployments',
      'secrets',
      'events',
    ]);
    const binding = await kube(cluster, bots).get('rolebinding', fullname);
    expect(binding!.subjects).to.deep.equal([
      { kind: 'ServiceAccount', name: fullname, namespace: system },
    ]);
    expect(await k.get('role', `${fullname}-leader-election`)).to.not.equal(undefined);
    // Nothing cluster-wide when namespaces are listed.
    const clusterRole = await cluster.kubectl(['get', 'clusterrole', fullname]).then(
      () => 'found',
      (err: Error) => err.message,
    );
    expect(clusterRole).to.match(/NotFound/);
    // Asked as the ServiceAccount: allowed where it should be, not elsewhere.
    const can = (verb: string, resource: string, namespace: string) =>
      cluster
        .kubectl([
          'auth',
          'can-i',
          verb,
          resource,
          '-n',
          namespace,
          `--as=system:serviceaccount:${system}:${fullname}`,
        ])
        // "no" comes with exit code 1.
        .then(
          (out) => out.trim(),
          (err: Error) => ((err.cause as { stdout?: string }).stdout ?? err.message).trim(),
        );
    expect(await can('patch', 'deployments', bots)).to.equal('yes');
    expect(await can('patch', 'deployments', moreBots)).to.equal('no');
    expect(await can('delete', 'deployments', bots)).to.equal('no');
    expect(await can('update', 'leases/clawbot-operator', system)).to.equal('yes');
    expect(await can('update', 'leases/another-lease', system)).to.equal('no');
  });

  it('prints NOTES whose ChatBot and ApiKey the API server accepts as they stand', async () => {
    const notes = await cluster.helm(['get', 'notes', release, '-n', system]);
    expect(notes).to.contain(`kubectl rollout status deployment/${fullname} -n ${system}`);
    expect(notes).to.contain(`kubectl get secret my-app-api-key -n ${bots}`);
    expect(notes).to.contain('/api/auth');
    const manifests = [...notes.matchAll(/<<EOF\n([\s\S]*?)\n\s*EOF/g)].map((m) =>
      m[1]!
        .replace(/^ {2}/gm, '')
        .replace('$MODEL_URL', 'https://models.example.com/m.gguf')
        .replace('$MODEL_SHA256', 'ab'.repeat(32)),
    );
    expect(manifests.map((m) => parseAllDocuments(m)[0]!.toJSON().kind)).to.deep.equal([
      'ChatBot',
      'ApiKey',
    ]);
    for (const manifest of manifests) {
      await cluster.kubectl(['apply', '--dry-run=server', '-n', bots, '-f', '-'], manifest);
    }
  });

  it('upgrades: changed values applied, ChatBots, ApiKeys and CRDs kept', async () => {
    const b = kube(cluster, bots);
    await b.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'kept' },
      spec: {
        model: {
          format: 'gguf',
          source: { url: 'https://m.example/m.gguf', sha256: 'cd'.repeat(32) },
        },
      },
    });
    await b.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'kept' },
      spec: { chatBotRef: { name: 'kept' }, secretName: 'kept-key' },
    });
    const before = {
      chatBot: await uid('chatbot', 'kept', bots),
      apiKey: await uid('apikey', 'kept', bots),
      crd: await uid('crd', 'chatbots.clawbot.dev'),
    };

    const out = await helm('upgrade', {
      replicaCount: 1,
      logLevel: 'debug',
      watchNamespaces: [bots, moreBots],
      runtimeImage: 'registry.example/runtime:2',
    });
    expect(out).to.match(/REVISION: 2/);
    expect((await deployment())!.spec.replicas).to.equal(1);
    expect(await args()).to.include.members([
      '--log-level=debug',
      `--namespaces=${bots},${moreBots}`,
      '--runtime-image=registry.example/runtime:2',
    ]);
    expect(await kube(cluster, moreBots).get('role', fullname)).to.not.equal(undefined);
    expect({
      chatBot: await uid('chatbot', 'kept', bots),
      apiKey: await uid('apikey', 'kept', bots),
      crd: await uid('crd', 'chatbots.clawbot.dev'),
    }).to.deep.equal(before);
  });

  it('upgrades from listed namespaces to all: Roles give way to the ClusterRole', async () => {
    // Explicitly empty: given no values at all, helm upgrade reuses the previous release's.
    await helm('upgrade', { watchNamespaces: [] });
    expect(await kube(cluster, bots).get('role', fullname)).to.equal(undefined);
    expect(await kube(cluster, moreBots).get('rolebinding', fullname)).to.equal(undefined);
    const binding = JSON.parse(
      await cluster.kubectl(['get', 'clusterrolebinding', fullname, '-o', 'json']),
    ) as Json;
    expect(binding.roleRef.name).to.equal(fullname);
    expect(await args()).to.not.include(`--namespaces=${bots},${moreBots}`);
  });

  it('takes CRD updates the documented way, and uninstall leaves CRDs and resources', async () => {
    // What the chart's README and NOTES tell users to run when a new version changes the CRDs.
    await cluster.kubectl(['apply', '--server-side', '-f', join(chartDir, 'crds')]);
    await cluster.helm(['uninstall', release, '-n', system, '--wait']);
    expect(await kube(cluster, bots).get('chatbot', 'kept')).to.not.equal(undefined);
    expect(await kube(cluster, bots).get('apikey', 'kept')).to.not.equal(undefined);
    await cluster.kubectl(['get', 'crd', 'chatbots.clawbot.dev', 'apikeys.clawbot.dev']);
    const clusterRole = await cluster.kubectl(['get', 'clusterrole', fullname]).then(
      () => 'found',
      (err: Error) => err.message,
    );
    expect(clusterRole).to.match(/NotFound/);
  });
});
