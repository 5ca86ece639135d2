// One ChatBot and one ApiKey taken through everything the operator does to them, so that every
// verb it needs is used at least once: children created (server-side apply), status written,
// Events recorded and repeated, signing keys and an API key issued (Secrets created, updated and
// the staged one deleted, ApiKey finalizer and status updated), optional children deleted after a
// spec change, and the ApiKey's finalizer released on deletion. Resolves once all of it is done;
// stops early (rejecting) when `signal` aborts.

import { CoreV1Api } from '@kubernetes/client-node';
import { KubeClient, ObjectClient, type ResourceType } from '../../operator/kit/index.ts';
import { resources } from '../../operator/resources.ts';
import { sleep } from '../../tools/cluster/processes.ts';
import type { TestCluster } from '../cluster.ts';
import { eventually } from '../../tools/eventually.ts';
import { bindClaim, kube } from '../kube.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function convergeChatBotAndApiKey(
  cluster: TestCluster,
  namespace: string,
  signal: AbortSignal,
  stepTimeoutMs = 60_000,
): Promise<void> {
  const k = kube(cluster, namespace);
  const objects = new ObjectClient(new KubeClient(cluster.kc));
  const get = (resource: ResourceType, name: string) =>
    objects.get<Json>(resource, name, namespace);
  // Twice a second: several operators and scenarios may share the machine's two cores.
  const until = async <T>(what: string, probe: () => Promise<T | undefined | false>) => {
    const value = await eventually(
      what,
      async () => signal.aborted || (await sleep(400), probe()),
      stepTimeoutMs,
    );
    signal.throwIfAborted();
    return value as T;
  };
  const statusFor = (generation: number) =>
    until(`ChatBot status for generation ${generation}`, async () => {
      const cb = await get(resources.chatBots, 'bot');
      const applyFailed = (cb?.status?.conditions as Json[] | undefined)?.some(
        (c) => c.reason === 'ApplyFailed',
      );
      return cb?.status?.observedGeneration === generation && !applyFailed && cb;
    });

  // Every optional child: autoscaler and disruption budget (2–3 replicas), network policy,
  // ingress.
  await k.apply({
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ChatBot',
    metadata: { name: 'bot' },
    spec: {
      model: {
        format: 'gguf',
        source: { url: 'https://models.example.com/m.gguf', sha256: 'ab'.repeat(32) },
      },
      scaling: { autoscaling: { minReplicas: 2, maxReplicas: 3 } },
      network: { allowedCIDRs: ['10.20.0.0/16'] },
      expose: {
        host: 'chat.example.com',
        controllerNamespaceSelector: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
      },
    },
  });
  await k.apply({
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name: 'app' },
    spec: { chatBotRef: { name: 'bot' }, secretName: 'app-key' },
  });

  await statusFor(1);
  const optional: Array<[ResourceType, string]> = [
    [resources.autoscalers, 'bot'],
    [resources.disruptionBudgets, 'bot'],
    [resources.networkPolicies, 'bot'],
    [resources.ingresses, 'bot'],
  ];
  const children: Array<[ResourceType, string]> = [
    [resources.deployments, 'bot'],
    [resources.services, 'bot'],
    [resources.serviceAccounts, 'bot'],
    [resources.configMaps, 'bot-config'],
    [resources.claims, 'bot-data'],
    [resources.secrets, 'bot-keys'],
    [resources.secrets, 'bot-apikeys'],
    ...optional,
  ];
  await until('every child of the ChatBot', async () =>
    (await Promise.all(children.map(([r, name]) => get(r, name)))).every(Boolean),
  );

  // Issued: stage, publish, deliver, commit, unstage (the staged Secret deleted).
  await until('the API key issued into its Secret', async () => {
    const [apiKey, secret, staged] = await Promise.all([
      get(resources.apiKeys, 'app'),
      get(resources.secrets, 'app-key'),
      get(resources.secrets, 'app.clawbot-staged-key'),
    ]);
    return apiKey?.status?.currentKeyId && secret?.data?.['api-key'] && !staged;
  });

  // A bound claim clears Degraded (StoragePending): the earlier "AsExpected" Event repeats, and a
  // repeat bumps the existing Event's count.
  await bindClaim(k, 'bot-data', '100Gi');
  const events = cluster.kc.makeApiClient(CoreV1Api);
  await until('a repeated Event counted', async () => {
    const list = await events.listNamespacedEvent({
      namespace,
      fieldSelector: 'involvedObject.kind=ChatBot,involvedObject.name=bot,reason=AsExpected',
    });
    return list.items.some((e) => (e.count ?? 0) >= 2);
  });

  // Fixed at one replica, open to every network, not exposed: the optional children are deleted.
  await k.patch('chatbot', 'bot', {
    spec: { scaling: { autoscaling: null, replicas: 1 }, network: null, expose: null },
  });
  await statusFor(2);
  await until('the optional children deleted', async () =>
    (await Promise.all(optional.map(([r, name]) => get(r, name)))).every((o) => !o),
  );

  // Deleted: the verifier entry is dropped, then the finalizer released.
  await k.delete('apikey', 'app');
  await until('the ApiKey gone', async () => !(await get(resources.apiKeys, 'app')));
}
