// API key rotation under crashes: the real operator, killed after each write of a rotation, on
// the control plane without a node (the keys' end-to-end path through a real pod is in
// test/node/apikeys.test.ts). Each issuance and rotation is told once as an Event all the same.

import { createSecretKey } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { expect } from 'chai';
import { hashApiKey, parseApiKey } from '../../common/api-key.ts';
import { parseApiKeyVerifier, parsePepper } from '../../common/runtime-secrets.ts';
import { testCluster, type TestCluster } from '../cluster.ts';
import { installCrds } from '../crds.ts';
import { eventually } from '../../tools/eventually.ts';
import { applyBotWithApiKey, kube } from '../kube.ts';
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
  let firstKeyId: string;
  /** Each rotation's outgoing and incoming key ids, in order. */
  const rotations: Array<{ from: string; to: string }> = [];

  /** The Events on the ApiKey, as `kubectl get events` lists them. */
  const apiKeyEvents = async (): Promise<CoreV1Event[]> =>
    (
      JSON.parse(
        await k.kubectl([
          'get',
          'events',
          '--field-selector=involvedObject.kind=ApiKey,involvedObject.name=crash',
          '-o',
          'json',
        ]),
      ) as { items: CoreV1Event[] }
    ).items;

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
    await applyBotWithApiKey(k, 'crash', 'crash-secret');
    const operator = await startOperator(cluster, [
      '--leader-elect=false',
      `--namespaces=${namespace}`,
    ]);
    firstKeyId = await eventually('the first key', async () => {
      const status = (await k.get('apikey', 'crash'))?.status;
      return status?.revision === 1 && (status.currentKeyId as string);
    });
    await eventually('the Issued event', async () =>
      (await apiKeyEvents()).some((e) => e.reason === 'Issued'),
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
        rotations.push({ from: before.currentKeyId, to: after.currentKeyId });
      } finally {
        await operator.stop();
      }
    });
  }

  it('told Issued once and Rotated once per rotation on the ApiKey, naming key ids only', async () => {
    const apiKey = (await k.get('apikey', 'crash'))!;
    const events = await apiKeyEvents();
    const told = (reason: string) =>
      events
        .filter((e) => e.reason === reason)
        .map((e) => ({ message: e.message ?? '', count: e.count }));
    const issued = told('Issued');
    expect(issued).to.have.length(1);
    expect(issued[0]!.count).to.equal(1);
    expect(issued[0]!.message).to.match(new RegExp(`^key ${firstKeyId} is issued`));
    const rotated = told('Rotated');
    expect(rotated, 'one Rotated per rotation, each told once').to.have.length(rotations.length);
    for (const { from, to } of rotations) {
      const event = rotated.find((e) => e.message.startsWith(`key ${to} is issued`));
      expect(event, `Rotated to ${to}`).to.not.equal(undefined);
      expect(event!.count).to.equal(1);
      expect(event!.message).to.include(`key ${from} stays valid until`);
    }
    for (const event of events) {
      expect(event.involvedObject.uid).to.equal(apiKey.metadata.uid);
      expect(event.type).to.equal('Normal');
      // No key (cbk_…) and no hash (64 hex digits): key ids and times only.
      expect(event.message).to.not.match(/cbk_|[0-9a-f]{64}/);
    }
  });
});
