// The ChatBot API: what a user writes to get a chat service, and what the operator reports back.

import { executionProviders, runtimeSettings as settings } from '../../common/runtime-env.ts';
import { conditionsSchema } from './conditions.ts';
import {
  array,
  boolean,
  duration,
  integer,
  object,
  quantity,
  string,
  stringMap,
  type Schema,
} from './schema.ts';

const modelSource = object(
  'ModelSource',
  'Where the model comes from. Set exactly one of url, pvc or image.',
  {
    url: string(
      'HTTP(S) address of the model: a GGUF file (imported to ONNX at load time) or an archive ' +
        "of an ONNX model folder. Downloaded once into the ChatBot's storage by the model-loader " +
        'init container and verified against sha256.',
      {
        maxLength: 2048,
        'x-kubernetes-validations': [
          {
            rule: 'self.startsWith("https://") || self.startsWith("http://")',
            message: 'model.source.url must start with https:// or http://',
          },
        ],
      },
    ),
    sha256: string(
      'SHA-256 of the file at url, as 64 hexadecimal characters (the output of sha256sum). ' +
        'Required with url: a model whose bytes do not match is never served.',
      {
        maxLength: 64,
        'x-kubernetes-validations': [
          {
            rule: 'self.matches("^[0-9a-fA-F]{64}$")',
            message:
              'model.source.sha256 must be 64 hexadecimal characters (the output of sha256sum)',
          },
        ],
      },
    ),
    pvc: object(
      'ModelPvcSource',
      'An existing PersistentVolumeClaim that already holds the model folder, mounted read-only.',
      {
        claimName: string("Name of the claim, in the ChatBot's namespace.", { maxLength: 253 }),
        path: string('Folder of the model inside the claim.', { default: '/', maxLength: 1024 }),
      },
      { required: ['claimName'] },
    ),
    image: object(
      'ModelImageSource',
      'An OCI image whose filesystem holds the model folder, mounted read-only as an image ' +
        'volume (needs Kubernetes with the ImageVolume feature).',
      {
        reference: string('Image reference, e.g. registry.example.com/models/smollm2:1.0.', {
          maxLength: 1024,
        }),
        path: string('Folder of the model inside the image.', { default: '/', maxLength: 1024 }),
        pullPolicy: string('When the kubelet pulls the image.', {
          enum: ['Always', 'IfNotPresent', 'Never'],
          default: 'IfNotPresent',
        }),
      },
      { required: ['reference'] },
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: '[has(self.url), has(self.pvc), has(self.image)].filter(x, x).size() == 1',
        message: 'set exactly one of model.source.url, model.source.pvc or model.source.image',
      },
      {
        rule: '!has(self.url) || has(self.sha256)',
        message:
          'model.source.sha256 is required with model.source.url, so a corrupted or replaced ' +
          'download is never served; compute it with sha256sum',
      },
      {
        rule: '!has(self.sha256) || has(self.url)',
        message: 'model.source.sha256 only applies to model.source.url',
      },
    ],
  },
);

const model = object(
  'ModelSpec',
  'The chat model to serve.',
  {
    source: modelSource,
    format: string('Format of the model at the source: onnx (a model folder) or gguf.', {
      enum: ['onnx', 'gguf'],
      default: 'onnx',
    }),
    name: string(
      'Name clients see in /v1/models and pass as "model"; defaults to the ChatBot\'s name.',
      { maxLength: 253 },
    ),
    maxTokens: integer("Most tokens one answer may have (the runtime's MAX_TOKENS).", {
      default: settings.maxTokens.default,
      minimum: 1,
      maximum: 1048576,
    }),
    contextLength: integer(
      'Context window in tokens (prompt + answer). Defaults to what the model declares.',
      { minimum: 1, maximum: 1048576 },
    ),
  },
  {
    required: ['source'],
    'x-kubernetes-validations': [
      {
        rule: '!has(self.contextLength) || self.maxTokens <= self.contextLength',
        message:
          'model.maxTokens cannot exceed model.contextLength: an answer must fit the context',
        fieldPath: '.maxTokens',
      },
    ],
  },
);

const envVar = object(
  'EnvVar',
  'An extra environment variable for the runtime container.',
  {
    name: string('Variable name.', { maxLength: 256, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
    value: string('Value.', { maxLength: 32768 }),
    valueFrom: {
      type: 'object',
      description:
        'A source for the value (secretKeyRef, configMapKeyRef, fieldRef, …), as in a Pod.',
      'x-kubernetes-preserve-unknown-fields': true,
      tsType: { name: 'V1EnvVarSource', from: '@kubernetes/client-node' },
    },
  },
  { required: ['name'] },
);

const runtime = object(
  'RuntimeSpec',
  'The inference server container.',
  {
    image: string(
      'Runtime image. Defaults to the runtime image released with this operator version.',
      { maxLength: 1024 },
    ),
    imagePullPolicy: string('When the kubelet pulls the runtime image.', {
      enum: ['Always', 'IfNotPresent', 'Never'],
      default: 'IfNotPresent',
    }),
    imagePullSecrets: array(
      "Secrets (kubernetes.io/dockerconfigjson, in the ChatBot's namespace) with credentials for " +
        'a private registry holding the runtime image or a model image.',
      object(
        'LocalObjectReference',
        'A Secret in the same namespace.',
        {
          name: string('Name of the Secret.', {
            maxLength: 253,
            pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
          }),
        },
        { required: ['name'] },
      ),
      { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
    port: integer('Port of the chat API (/api/auth, /api/chat, /v1/...).', {
      default: settings.port.default,
      minimum: 1,
      maximum: 65535,
    }),
    healthPort: integer(
      'Port of /livez, /readyz and /metrics: never behind authentication, so probes and ' +
        'scrapes keep working; not part of the Service.',
      { default: settings.healthPort.default, minimum: 1, maximum: 65535 },
    ),
    executionProvider: string(
      'Where inference runs: auto tries CUDA, then falls back to CPU; cuda requires a GPU; cpu never uses one.',
      { enum: [...executionProviders], default: settings.executionProvider.default },
    ),
    maxConcurrency: integer(
      'Most requests decoded together in one batch per replica; more wait in the queue.',
      { default: settings.maxConcurrency.default, minimum: 1, maximum: 1024 },
    ),
    maxQueue: integer(
      'Most requests waiting for a batch slot per replica; beyond it clients get 429 with Retry-After.',
      { default: settings.maxQueue.default, minimum: 0, maximum: 100000 },
    ),
    logLevel: string('Runtime log level.', {
      enum: ['debug', 'info', 'warn', 'error'],
      default: settings.logLevel.default,
    }),
    env: array('Extra environment variables for the runtime container.', envVar, {
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        rule: '!has(self.port) || !has(self.healthPort) || self.port != self.healthPort',
        message: 'runtime.port and runtime.healthPort must differ',
        fieldPath: '.healthPort',
      },
    ],
  },
);

const resources = object(
  'ResourcesSpec',
  'Compute for each replica. The deployment guide sizes 2 CPU / 4Gi for about 50 concurrent ' +
    'users, and 4 CPU / 16Gi with one T4 GPU for thousands.',
  {
    cpu: quantity('CPU request per replica; autoscaling targets are relative to it.', {
      default: '2',
    }),
    memory: quantity('Memory request and limit per replica.', { default: '4Gi' }),
    gpu: integer(
      'NVIDIA GPUs per replica (nvidia.com/gpu). Above 0 the pods also tolerate the usual ' +
        'nvidia.com/gpu taint.',
      { default: 0, minimum: 0, maximum: 16 },
    ),
    gpuProduct: string(
      'Schedule only on nodes with this GPU model, as labelled by NVIDIA GPU feature discovery ' +
        '(nvidia.com/gpu.product), e.g. Tesla-T4.',
      { maxLength: 253 },
    ),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        rule: '!has(self.gpuProduct) || self.gpu > 0',
        message: 'resources.gpuProduct needs resources.gpu of at least 1',
        fieldPath: '.gpuProduct',
      },
    ],
  },
);

const storage = object(
  'StorageSpec',
  'The volume mounted at /app/data: downloaded models and conversation logs.',
  {
    size: quantity('Requested size. It can grow (the claim is expanded) but never shrink.', {
      default: '100Gi',
      'x-kubernetes-validations': [
        {
          rule: 'quantity(string(self)).compareTo(quantity(string(oldSelf))) >= 0',
          message: 'storage.size cannot shrink: volumes can only grow',
        },
      ],
    }),
    storageClassName: string(
      'StorageClass of the claim (e.g. an SSD class). Empty: the cluster default. Fixed once created.',
      {
        maxLength: 253,
        'x-kubernetes-validations': [
          {
            rule: 'self == oldSelf',
            message:
              'storage.storageClassName cannot change once the claim exists; create a new ChatBot to move the data',
          },
        ],
      },
    ),
    accessMode: string(
      'Access mode of the claim. Default: ReadWriteOnce for a single replica, ReadWriteMany ' +
        'otherwise (replicas on several nodes cannot share a ReadWriteOnce volume).',
      { enum: ['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod'] },
    ),
    existingClaim: string(
      'Use this existing claim instead of creating one (the operator never modifies or deletes it).',
      { maxLength: 253 },
    ),
    retainOnDelete: boolean(
      'Keep the claim (and the downloaded model and logs) when the ChatBot is deleted.',
      { default: true },
    ),
  },
  { default: {} },
);

const autoscaling = object(
  'AutoscalingSpec',
  'Horizontal autoscaling on CPU use (an autoscaling/v2 HorizontalPodAutoscaler).',
  {
    minReplicas: integer('Fewest replicas.', { default: 2, minimum: 1, maximum: 1000 }),
    maxReplicas: integer('Most replicas.', { default: 10, minimum: 1, maximum: 1000 }),
    targetCPUUtilizationPercentage: integer(
      'Average CPU use, in percent of the request, the autoscaler keeps replicas at.',
      { default: 70, minimum: 1, maximum: 100 },
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: 'self.minReplicas <= self.maxReplicas',
        message: 'scaling.autoscaling.minReplicas cannot be greater than maxReplicas',
        fieldPath: '.minReplicas',
      },
    ],
  },
);

const scaling = object(
  'ScalingSpec',
  'How many replicas run: a fixed count (replicas) or autoscaling. Default: autoscaling 2–10 at 70% CPU.',
  {
    replicas: integer('A fixed number of replicas, without autoscaling.', {
      minimum: 0,
      maximum: 1000,
    }),
    autoscaling,
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        rule: '!(has(self.replicas) && has(self.autoscaling))',
        message: 'set either scaling.replicas or scaling.autoscaling, not both',
      },
    ],
  },
);

const service = object(
  'ServiceSpec',
  'The Service in front of the replicas.',
  {
    type: string('Service type.', {
      enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
      default: 'ClusterIP',
    }),
    annotations: stringMap('Annotations for the Service (e.g. for a cloud load balancer).'),
  },
  { default: {} },
);

const network = object(
  'NetworkSpec',
  'Who may reach the chat port. Without allowedCIDRs the port is open to every client that can ' +
    'route to the Service.',
  {
    allowedCIDRs: array(
      'Only these source ranges may connect to the chat port (a NetworkPolicy; needs a network ' +
        'plugin that enforces NetworkPolicies). Health and metrics stay reachable for probes and ' +
        'scrapes.',
      string('An IPv4 or IPv6 range in CIDR notation, e.g. 10.0.0.0/16.', {
        maxLength: 64,
        'x-kubernetes-validations': [
          {
            rule: 'isCIDR(self)',
            message: 'must be an IP range in CIDR notation, such as 10.0.0.0/16 or 2001:db8::/32',
          },
        ],
      }),
      { maxItems: 64, 'x-kubernetes-list-type': 'set' },
    ),
  },
);

const expose = object(
  'ExposeSpec',
  'Reach the chat API (and its streams) from outside the cluster on 80/443, through an Ingress ' +
    'for host, path /. Needs an ingress controller in the cluster.',
  {
    host: string('Host name clients use, e.g. chat.example.com.', {
      maxLength: 253,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    }),
    ingressClassName: string('IngressClass of the Ingress; empty: the cluster default class.', {
      maxLength: 253,
    }),
    tls: object(
      'ExposeTLS',
      'HTTPS on 443 for host.',
      {
        secretName: string(
          'Secret (kubernetes.io/tls) holding the certificate for host; with issuerRef, ' +
            'cert-manager creates and renews it.',
          { maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
        ),
        issuerRef: object(
          'IssuerRef',
          'A cert-manager issuer that obtains the certificate (written as the Ingress ' +
            'annotations cert-manager reads).',
          {
            name: string('Name of the Issuer or ClusterIssuer.', { maxLength: 253 }),
            kind: string('Issuer (in the ChatBot namespace) or ClusterIssuer.', {
              enum: ['Issuer', 'ClusterIssuer'],
              default: 'Issuer',
            }),
          },
          { required: ['name'] },
        ),
      },
      { required: ['secretName'] },
    ),
    controllerNamespaceSelector: stringMap(
      'Labels of the namespace the ingress controller runs in (e.g. ' +
        'kubernetes.io/metadata.name: ingress-nginx). Needed with network.allowedCIDRs: clients ' +
        'then reach the chat port through the controller, so the NetworkPolicy admits it.',
    ),
  },
  { required: ['host'] },
);

const auth = object(
  'AuthSpec',
  'Tokens issued at POST /api/auth.',
  {
    tokenTTL: duration('How long a token is valid (the "expires_in" of /api/auth).', {
      default: settings.tokenTTL.default,
      'x-kubernetes-validations': [
        {
          rule: 'duration(self) <= duration("720h")',
          message: 'auth.tokenTTL can be at most 720h (30 days)',
        },
      ],
    }),
    signingKeyRotationInterval: duration(
      'How often the token signing key is replaced. The previous key keeps verifying until ' +
        'the tokens it signed have expired.',
      {
        default: '720h',
        'x-kubernetes-validations': [
          {
            rule: 'duration(self) >= duration("1h")',
            message: 'auth.signingKeyRotationInterval must be at least 1h',
          },
        ],
      },
    ),
  },
  { default: {} },
);

const conversationLog = object(
  'ConversationLogSpec',
  'Conversation logs written under /app/data/conversations.',
  {
    enabled: boolean('Write conversation logs.', { default: settings.conversationLog.default }),
    retention: duration('Delete log files older than this.', {
      default: settings.conversationLogRetention.default,
    }),
    maxSize: quantity('Delete the oldest log files once all of them exceed this size.', {
      default: settings.conversationLogMaxBytes.default,
    }),
  },
  { default: {} },
);

const toleration = object('Toleration', 'A toleration, as in a Pod.', {
  key: string('Taint key.', { maxLength: 316 }),
  operator: string('Exists or Equal.', { enum: ['Exists', 'Equal'] }),
  value: string('Taint value (with Equal).', { maxLength: 63 }),
  effect: string('Taint effect.', { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
  tolerationSeconds: integer('With NoExecute: how long the pod stays bound after the taint.'),
});

const scheduling = object(
  'SchedulingSpec',
  'Where the replicas run.',
  {
    nodeSelector: stringMap('Node labels the replicas require.'),
    tolerations: array('Tolerations added to the pods.', toleration, { maxItems: 64 }),
    affinity: {
      type: 'object',
      description: 'Pod affinity rules, as in a Pod spec.',
      'x-kubernetes-preserve-unknown-fields': true,
      tsType: { name: 'V1Affinity', from: '@kubernetes/client-node' },
    },
    runtimeClassName: string('RuntimeClass of the pods (e.g. nvidia).', { maxLength: 253 }),
    priorityClassName: string('PriorityClass of the pods.', { maxLength: 253 }),
    topologySpread: string(
      'How replicas spread over nodes and zones, so one node or zone going down takes few of ' +
        'them. Preferred: spread where the scheduler can, and still run on a single node. ' +
        'Required: never two replicas on one node (replicas beyond the node count stay ' +
        'Pending). None: no spread constraints (affinity then decides alone).',
      { enum: ['Preferred', 'Required', 'None'], default: 'Preferred' },
    ),
  },
  { default: {} },
);

export const chatBotSpec: Schema = object(
  'ChatBotSpec',
  'Desired state of a chat service.',
  {
    model,
    runtime,
    resources,
    storage,
    scaling,
    service,
    network,
    expose,
    auth,
    conversationLog,
    scheduling,
  },
  {
    required: ['model'],
    'x-kubernetes-validations': [
      {
        rule:
          '!has(self.expose) || !has(self.network) || !has(self.network.allowedCIDRs) || ' +
          'has(self.expose.controllerNamespaceSelector)',
        message:
          'with network.allowedCIDRs, set expose.controllerNamespaceSelector to the labels of the ' +
          "ingress controller's namespace: clients reach the chat port through it, so the " +
          'NetworkPolicy must admit it',
        fieldPath: '.expose',
      },
      {
        rule:
          '!has(self.storage.accessMode) || self.storage.accessMode == "ReadWriteMany" || ' +
          '(has(self.scaling.replicas) && self.scaling.replicas <= 1)',
        message:
          'storage.accessMode ReadWriteOnce/ReadWriteOncePod allows one replica only: replicas ' +
          'on other nodes could not mount the volume ("Multi-Attach error"). Use ReadWriteMany, ' +
          'or scaling.replicas: 1',
        fieldPath: '.storage.accessMode',
      },
      {
        rule: '!has(self.storage.existingClaim) || !has(self.storage.storageClassName)',
        message: 'storage.storageClassName does not apply to storage.existingClaim',
        fieldPath: '.storage.storageClassName',
      },
      {
        rule: '!has(self.model.source.pvc) || self.model.format == "onnx"',
        message: 'a model from a PVC must be an ONNX model folder (model.format: onnx)',
        fieldPath: '.model.format',
      },
      {
        rule: '!has(self.model.source.image) || self.model.format == "onnx"',
        message: 'a model from an image must be an ONNX model folder (model.format: onnx)',
        fieldPath: '.model.format',
      },
      {
        rule: 'self.runtime.executionProvider != "cuda" || self.resources.gpu > 0',
        message: 'runtime.executionProvider cuda needs resources.gpu of at least 1',
        fieldPath: '.runtime.executionProvider',
      },
    ],
  },
);

export const chatBotStatus: Schema = object(
  'ChatBotStatus',
  'Observed state, written by the operator.',
  {
    observedGeneration: integer('The spec generation this status describes.'),
    conditions: conditionsSchema(
      'Ready (serving), Progressing (rolling out), Degraded (something needs attention), ' +
        'ModelReady (the model is loaded).',
    ),
    replicas: integer('Replicas that exist.'),
    readyReplicas: integer('Replicas ready to serve.'),
    endpoint: string('In-cluster address of the chat API.'),
    modelPath: string('Where the runtime finds the model inside the pods (MODEL_PATH).'),
  },
);
