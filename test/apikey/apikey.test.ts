// API key rotation under crashes: the real operator, killed after each write of a rotation, on
// the control plane without a node (the keys' end-to-end path through a real pod is in
// test/node/apikeys.test.ts).

import { createSecretKey } from 'node:crypto';
import { expect } from 'chai';
import { hashApiKey, parseApiKey } from '../../common/api-key.ts';
import { parseApiKeyVerifier, parsePepper } from '../../common/runtime-secrets.ts';
import { testCluster, type TestCluster } from '../cluster.ts';
import { installCrds } from '../crds.ts';
import { eventually } from '../../tools/eventually.ts';
import { kube } from '../kube.ts';
import { startOperator } from '../operator-process.ts';

describe('API key rotation under crashes (operator killed after each write)', function () {
  this.timeout(600_000);
  const failpoints = [
    'apikey:stage',
    'apikey:status:rotation-started',
    'apikey:publish',
    'apikey:deliver',
    'apikey:status:rotation-committed',
    'apikey:unstage',
  ];
  let cluster: TestCluster;
  let namespace: string;
  let k: ReturnType<typeof kube>;

  const secretData = async (name: string) => {
    const data = (await k.get('secret', name))?.data as Record<string, string> | undefined;
    return Object.fromEntries(
      Object.entries(data ?? {}).map(([key, v]) => [
        key,
        Buffer.from(v, 'base64').toString('utf8'),
      ]),
    );
  };

  /** The consumer never holds a key the verifier does not accept. */
  const assertConsumerKnown = async () => {
    const consumer = await secretData('crash-secret');
    const pepper = createSecretKey(parsePepper((await secretData('bot-keys'))['apikey-pepper']!));
    const entry = parseApiKeyVerifier((await secretData('bot-apikeys'))['crash.json']!);
    for (const key of [consumer['api-key'], consumer['previous-api-key']]) {
      if (key === undefined) continue;
      const keyId = (parseApiKey(key) as { keyId: string }).keyId;
      const record = entry.keys.find((r) => r.keyId === keyId);
      expect(record, `the verifier does not know ${keyId}`).to.not.equal(undefined);
      expect(record!.hash).to.equal(hashApiKey(pepper, key));
      expect(['Active', 'Retiring']).to.include(record!.state);
    }
  };

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    namespace = await cluster.namespace('crash');
    k = kube(cluster, namespace);
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'bot' },
      spec: { model: { source: { pvc: { claimName: 'models' } } }, scaling: { replicas: 1 } },
    });
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'crash' },
      spec: { chatBotRef: { name: 'bot' }, secretName: 'crash-secret' },
    });
    const operator = await startOperator(cluster, [
      '--leader-elect=false',
      `--namespaces=${namespace}`,
    ]);
    await eventually(
      'the first key',
      async () => (await k.get('apikey', 'crash'))?.status?.revision === 1,
    );
    await operator.stop();
  });

  for (const failpoint of failpoints) {
    it(`completes a rotation exactly once when killed after ${failpoint}`, async () => {
      const before = (await k.get('apikey', 'crash'))!.status;
      await k.kubectl([
        'annotate',
        'apikey',
        'crash',
        `clawbot.dev/rotate=${failpoint}`,
        '--overwrite',
      ]);
      const doomed = await startOperator(
        cluster,
        ['--leader-elect=false', `--namespaces=${namespace}`],
        {
          CLAWBOT_FAILPOINT: failpoint,
        },
      );
      await doomed.exit;
      expect(
        doomed.logs.some((l) => l.failpoint === failpoint),
        'the failpoint was reached',
      ).to.equal(true);
      await assertConsumerKnown();

      const operator = await startOperator(cluster, [
        '--leader-elect=false',
        `--namespaces=${namespace}`,
      ]);
      try {
        const after = await eventually('the rotation finished', async () => {
          const ak = await k.get('apikey', 'crash');
          const staged = await k.get('secret', 'crash.clawbot-staged-key');
          return ak?.status?.observedRotateRequest === failpoint && !staged && ak.status;
        });
        expect(after.revision).to.equal(before.revision + 1);
        expect(after.currentKeyId).to.not.equal(before.currentKeyId);
        const consumer = await secretData('crash-secret');
        expect(consumer['api-key-id']).to.equal(after.currentKeyId);
        await assertConsumerKnown();
      } finally {
        await operator.stop();
      }
    });
  }
});
