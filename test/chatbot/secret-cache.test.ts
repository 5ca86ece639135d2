// Least exposure of Secrets: the operator's RBAC lets it read Secrets (it must, to deliver API keys
// and to read a referenced encryption key), but its caches hold only the Secrets it labels as
// managed. Secrets of the namespace's other tenants never enter its memory.

import { expect } from 'chai';
import { eventually } from '../../tools/eventually.ts';
import { testCluster, type TestCluster } from '../cluster.ts';
import { installCrds } from '../crds.ts';
import { applyBotWithApiKey, kube } from '../kube.ts';
import { startOperator, type OperatorProcess } from '../operator-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("Secrets in the operator's cache (real API server, operator process)", function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let k: ReturnType<typeof kube>;
  let operator: OperatorProcess;
  const others = 5;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    const namespace = await cluster.namespace('secret-cache');
    k = kube(cluster, namespace);
    for (let i = 0; i < others; i++) {
      await k.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `database-password-${i}` },
        stringData: { password: 'not the operator business' },
      });
    }
    await applyBotWithApiKey(k, 'web', 'web-key');
    operator = await startOperator(cluster, ['--leader-elect=false', `--namespaces=${namespace}`]);
  });

  after(async () => {
    await operator?.stop();
  });

  it('caches the Secrets it manages and none of the others', async () => {
    await eventually('the ApiKey to be Ready', async () => {
      const ready = (
        (await k.get('apikey', 'web'))?.status?.conditions as Json[] | undefined
      )?.find((c) => c.type === 'Ready');
      return ready?.status === 'True';
    });
    const managed = JSON.parse(
      await k.kubectl([
        'get',
        'secrets',
        '-l',
        'app.kubernetes.io/managed-by=clawbot-operator',
        '-o',
        'json',
      ]),
    ) as { items: Json[] };
    const names = managed.items.map((s) => s.metadata.name as string).sort();
    // The signing keys, the verifier entries and the delivered key.
    expect(names).to.include.members(['bot-apikeys', 'bot-keys', 'web-key']);
    const all = JSON.parse(await k.kubectl(['get', 'secrets', '-o', 'json'])) as { items: Json[] };
    expect(all.items.length).to.equal(names.length + others);

    const cached = await eventually('the operator to have cached its Secrets', async () => {
      const n = await operator.metric('clawbot_operator_cached_objects', { resource: 'secrets' });
      return n >= names.length && n;
    });
    expect(cached, 'Secrets in the operator cache').to.equal(names.length);
  });
});
