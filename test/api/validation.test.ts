// The API server itself refuses invalid ChatBots and ApiKeys, with messages a person can act on.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from '../../tools/cluster/paths.ts';
import { installCrds } from '../crds.ts';
import { testCluster, type TestCluster } from '../cluster.ts';

const pvcModel = { source: { pvc: { claimName: 'models' } } };

const invalidChatBots: Array<[string, Record<string, unknown>, RegExp]> = [
  [
    'min > max replicas',
    { model: pvcModel, scaling: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } },
    /minReplicas cannot be greater than maxReplicas/,
  ],
  [
    'an unparsable CPU quantity',
    { model: pvcModel, resources: { cpu: 'two' } },
    /must be a Kubernetes quantity/,
  ],
  [
    'an unparsable memory quantity',
    { model: pvcModel, resources: { memory: '4GB' } },
    /spec.resources.memory.*must be a Kubernetes quantity/,
  ],
  [
    'a port out of range',
    { model: pvcModel, runtime: { port: 70000 } },
    /spec.runtime.port.*less than or equal to 65535/,
  ],
  [
    'two model sources',
    { model: { source: { pvc: { claimName: 'm' }, image: { reference: 'r/m:1' } } } },
    /exactly one of model.source.url, model.source.pvc or model.source.image/,
  ],
  ['no model source', { model: { source: {} } }, /exactly one of model.source/],
  [
    'a url without sha256',
    { model: { format: 'gguf', source: { url: 'https://example.com/m.gguf' } } },
    /sha256 is required with model.source.url/,
  ],
  [
    'a malformed sha256',
    { model: { format: 'gguf', source: { url: 'https://example.com/m.gguf', sha256: 'abc' } } },
    /64 hexadecimal characters/,
  ],
  [
    'a malformed CIDR',
    { model: pvcModel, network: { allowedCIDRs: ['10.0.0.0/33'] } },
    /allowedCIDRs\[0\].*CIDR notation/,
  ],
  [
    'allowed client ranges but no way for an exposed ChatBot to admit its ingress controller',
    {
      model: pvcModel,
      network: { allowedCIDRs: ['10.0.0.0/8'] },
      expose: { host: 'chat.example.com' },
    },
    /spec.expose: Invalid value.*set expose.controllerNamespaceSelector/,
  ],
  [
    'an exposed host that is not a DNS name',
    { model: pvcModel, expose: { host: 'Chat Bot!' } },
    /spec.expose.host.*should match/,
  ],
  [
    'TLS without the certificate Secret',
    { model: pvcModel, expose: { host: 'chat.example.com', tls: { issuerRef: { name: 'ca' } } } },
    /spec.expose.tls.secretName: Required value/,
  ],
  [
    'an unknown topology spread',
    { model: pvcModel, scheduling: { topologySpread: 'Sometimes' } },
    /Unsupported value: "Sometimes": supported values: "Preferred", "Required", "None"/,
  ],
  [
    'a pull secret that is not a Secret name',
    { model: pvcModel, runtime: { imagePullSecrets: [{ name: 'My_Registry' }] } },
    /spec.runtime.imagePullSecrets\[0\].name.*should match/,
  ],
  [
    'an unknown execution provider',
    { model: pvcModel, runtime: { executionProvider: 'rocm' } },
    /Unsupported value: "rocm": supported values: "auto", "cuda", "cpu"/,
  ],
  [
    'maxTokens of 0',
    { model: { ...pvcModel, maxTokens: 0 } },
    /spec.model.maxTokens.*greater than or equal to 1/,
  ],
  [
    'maxTokens over contextLength',
    { model: { ...pvcModel, maxTokens: 4096, contextLength: 2048 } },
    /maxTokens cannot exceed model.contextLength/,
  ],
  [
    'autoscaling on a ReadWriteOnce claim',
    { model: pvcModel, storage: { accessMode: 'ReadWriteOnce' } },
    /allows one replica only.*Multi-Attach/,
  ],
  [
    'replicas and autoscaling together',
    { model: pvcModel, scaling: { replicas: 2, autoscaling: {} } },
    /either scaling.replicas or scaling.autoscaling/,
  ],
  [
    'a token TTL that is not a duration',
    { model: pvcModel, auth: { tokenTTL: '1d' } },
    /tokenTTL.*positive duration such as "24h"/,
  ],
  [
    'a non-HTTP model url',
    {
      model: {
        format: 'gguf',
        source: { url: 'ftp://example.com/m.gguf', sha256: 'a'.repeat(64) },
      },
    },
    /must start with https:\/\/ or http:\/\//,
  ],
  [
    'cuda without a GPU',
    { model: pvcModel, runtime: { executionProvider: 'cuda' } },
    /cuda needs resources.gpu of at least 1/,
  ],
];

const invalidApiKeys: Array<[string, Record<string, unknown>, RegExp]> = [
  ['validity over 90 days', { validity: '2200h' }, /validity can be at most 2160h \(90 days\)/],
  [
    'a grace period longer than the validity',
    { validity: '24h', rotation: { renewBefore: '1h', gracePeriod: '48h' } },
    /gracePeriod cannot be longer than validity/,
  ],
  ['an unknown scope', { scopes: ['admin'] }, /Unsupported value: "admin"/],
  [
    'a Secret name that is not an object name',
    { secretName: 'Bad_Name' },
    /must be a Kubernetes object name/,
  ],
];

describe('API validation (CRDs on the real API server)', () => {
  let cluster: TestCluster;
  let namespace: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    namespace = await cluster.namespace('validation');
  });

  const apply = (kind: string, spec: Record<string, unknown>) =>
    cluster.kubectl(
      ['apply', '-n', namespace, '-f', '-'],
      JSON.stringify({ apiVersion: 'clawbot.dev/v1alpha1', kind, metadata: { name: 'bad' }, spec }),
    );

  for (const [what, spec, message] of invalidChatBots) {
    it(`refuses a ChatBot with ${what}`, async () => {
      const error = await apply('ChatBot', spec).then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(error, 'the API server accepted it').to.be.a('string');
      expect(error).to.match(message);
    });
  }

  for (const [what, spec, message] of invalidApiKeys) {
    it(`refuses an ApiKey with ${what}`, async () => {
      const error = await apply('ApiKey', {
        chatBotRef: { name: 'bot' },
        secretName: 'bot-key',
        ...spec,
      }).then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(error, 'the API server accepted it').to.be.a('string');
      expect(error).to.match(message);
    });
  }

  it('accepts the production sample and fills in the defaults', async () => {
    const sample = parse(await readFile(join(repoRoot, 'samples/chatbot-production.yaml'), 'utf8'));
    await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(sample));
    const stored = JSON.parse(
      await cluster.kubectl(['get', '-n', namespace, 'chatbot', 'support-bot', '-o', 'json']),
    );
    expect(stored.spec.auth.tokenTTL).to.equal('24h');
    expect(stored.spec.runtime.executionProvider).to.equal('auto');
    expect(stored.spec.storage.retainOnDelete).to.equal(true);
  });

  it('refuses to shrink storage or change the storage class', async () => {
    const base = { model: pvcModel, scaling: { replicas: 1 } };
    await cluster.kubectl(
      ['apply', '-n', namespace, '-f', '-'],
      JSON.stringify({
        apiVersion: 'clawbot.dev/v1alpha1',
        kind: 'ChatBot',
        metadata: { name: 'grow' },
        spec: { ...base, storage: { size: '10Gi', storageClassName: 'ssd' } },
      }),
    );
    const patch = (storage: Record<string, unknown>) =>
      cluster
        .kubectl([
          'patch',
          '-n',
          namespace,
          'chatbot',
          'grow',
          '--type=merge',
          '-p',
          JSON.stringify({ spec: { storage } }),
        ])
        .then(
          () => 'accepted',
          (err: Error) => err.message,
        );
    expect(await patch({ size: '5Gi' })).to.match(/storage.size cannot shrink/);
    expect(await patch({ storageClassName: 'hdd' })).to.match(/storageClassName cannot change/);
    expect(await patch({ size: '20Gi' })).to.equal('accepted');
  });

  it('documents every field for kubectl explain', async () => {
    const text = await cluster.kubectl(['explain', 'chatbot.spec.model.source']);
    expect(text).to.match(/sha256.*\n.*SHA-256 of the file at url/);
    expect(await cluster.kubectl(['explain', 'apikey.spec.rotation'])).to.contain('gracePeriod');
  });
});
