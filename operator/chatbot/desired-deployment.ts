// The runtime Deployment: one pod template that loads the model once (init container), serves the
// chat API, exposes health and metrics on a port without authentication, and hot-reloads its keys.

import type {
  V1Container,
  V1Deployment,
  V1DeploymentStrategy,
  V1EnvVar,
  V1PodSpec,
  V1Probe,
  V1Toleration,
  V1TopologySpreadConstraint,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { podPaths } from '../../common/runtime-env.ts';
import { runtimeConfig } from './desired-config.ts';
import type { ModelLocation, ResolvedChatBot } from './resolve.ts';

export interface DeploymentContext {
  /** Used when spec.runtime.image is empty: the runtime released with this operator. */
  defaultRuntimeImage: string;
  /** The Deployment as it is now, if it exists (replicas are handed over to the autoscaler). */
  live?: V1Deployment;
}

/** UID/GID of the runtime image's non-root user; fsGroup makes the data volume writable for it. */
export const runtimeUser = 10001;

const gpuResource = 'nvidia.com/gpu';

export function desiredDeployment(bot: ResolvedChatBot, ctx: DeploymentContext): V1Deployment {
  const { cb } = bot;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: bot.names.deployment,
      namespace: cb.metadata.namespace,
      labels: bot.labels,
      ownerReferences: [bot.owner],
    },
    spec: {
      replicas: desiredReplicas(bot, ctx.live),
      selector: { matchLabels: bot.selectorLabels },
      strategy: rolloutStrategy(bot),
      template: {
        metadata: {
          labels: bot.labels,
          annotations: {
            // Configuration reaches pods through env, which never updates in place: a changed
            // hash rolls the pods. Keys are mounted files and hot-reload without a roll.
            'clawbot.dev/config-hash': contentHash(runtimeConfig(bot)),
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(cb.spec.runtime.healthPort),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: podSpec(bot, ctx),
      },
    },
  };
}

/**
 * With a fixed count, the spec decides. With autoscaling the HorizontalPodAutoscaler decides; the
 * operator then repeats the live count (clamped into min..max), which never fights the
 * autoscaler, and unlike leaving the field out never drops a running Deployment to 1 replica
 * while ownership of the field moves over.
 */
function desiredReplicas({ scaling }: ResolvedChatBot, live: V1Deployment | undefined): number {
  if (scaling.mode === 'fixed') return scaling.replicas;
  const current = live?.spec?.replicas ?? scaling.minReplicas;
  return Math.min(Math.max(current, scaling.minReplicas), scaling.maxReplicas);
}

/**
 * GPU nodes rarely have a spare GPU for a surge pod, so GPU rollouts replace one pod at a time;
 * CPU rollouts add a pod before removing one, so capacity never dips. A single replica on a
 * one-node volume must stop before its successor can mount the volume.
 */
function rolloutStrategy({ cb, scaling, claim }: ResolvedChatBot): V1DeploymentStrategy {
  const single = scaling.mode === 'fixed' && scaling.replicas <= 1;
  if (single && claim.managed && claim.accessMode !== 'ReadWriteMany') {
    return { type: 'Recreate' };
  }
  return cb.spec.resources.gpu > 0
    ? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }
    : { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
}

function podSpec(bot: ResolvedChatBot, ctx: DeploymentContext): V1PodSpec {
  const { cb, model } = bot;
  const { resources, scheduling } = cb.spec;
  const image = cb.spec.runtime.image ?? ctx.defaultRuntimeImage;

  const nodeSelector: Record<string, string> = { ...scheduling.nodeSelector };
  if (resources.gpuProduct) nodeSelector['nvidia.com/gpu.product'] = resources.gpuProduct;

  const tolerations: V1Toleration[] = [...(scheduling.tolerations ?? [])];
  if (resources.gpu > 0 && !tolerations.some((t) => t.key === gpuResource)) {
    tolerations.push({ key: gpuResource, operator: 'Exists', effect: 'NoSchedule' });
  }

  const spec: V1PodSpec = {
    serviceAccountName: bot.names.serviceAccount,
    imagePullSecrets: cb.spec.runtime.imagePullSecrets,
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: runtimeUser,
      runAsGroup: runtimeUser,
      fsGroup: runtimeUser,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    initContainers: model.download
      ? [modelLoader(bot, image, model.path, model.download)]
      : undefined,
    containers: [runtimeContainer(bot, image)],
    volumes: volumes(bot),
    nodeSelector: Object.keys(nodeSelector).length ? nodeSelector : undefined,
    tolerations: tolerations.length ? tolerations : undefined,
    affinity: scheduling.affinity,
    topologySpreadConstraints: spreadConstraints(bot),
    runtimeClassName: scheduling.runtimeClassName,
    priorityClassName: scheduling.priorityClassName,
    // In-flight answers get time to finish after the pod leaves the Service.
    terminationGracePeriodSeconds: 60,
  };
  return dropUndefined(spec);
}

/**
 * The guide's HA layout ("several nodes") without the user writing it: one replica per node and
 * per zone as far as the cluster allows. Counted per rollout (pod-template-hash), so the pods of
 * the old ReplicaSet, about to go, do not skew where the new ones land. Zones are always
 * preferred only: a cluster whose nodes carry no zone label must still schedule.
 */
function spreadConstraints({
  cb,
  selectorLabels,
}: ResolvedChatBot): V1TopologySpreadConstraint[] | undefined {
  const mode = cb.spec.scheduling.topologySpread;
  if (mode === 'None') return undefined;
  const spread = (
    topologyKey: string,
    whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway',
  ): V1TopologySpreadConstraint => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable,
    labelSelector: { matchLabels: selectorLabels },
    matchLabelKeys: ['pod-template-hash'],
  });
  return [
    spread('kubernetes.io/hostname', mode === 'Required' ? 'DoNotSchedule' : 'ScheduleAnyway'),
    spread('topology.kubernetes.io/zone', 'ScheduleAnyway'),
  ];
}

const podNameEnv: V1EnvVar = {
  name: 'POD_NAME',
  valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
};

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The guide's `load_model --model_path`: download once, verify sha256, import GGUF, atomically. */
function modelLoader(
  { cb }: ResolvedChatBot,
  image: string,
  path: string,
  download: NonNullable<ModelLocation['download']>,
): V1Container {
  return {
    name: 'model-loader',
    image,
    imagePullPolicy: cb.spec.runtime.imagePullPolicy,
    args: [
      'load-model',
      '--source',
      download.url,
      '--sha256',
      download.sha256,
      '--format',
      download.format,
      '--model-path',
      path,
    ],
    // Names the lock it takes on the volume, so a restart of this init container takes over
    // at once the lock its crashed predecessor left.
    env: [podNameEnv],
    // The loader's reason for failing ends up in the pod status, where the operator reads it.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: restricted,
    volumeMounts: [
      { name: 'data', mountPath: podPaths.data },
      { name: 'tmp', mountPath: '/tmp' },
    ],
    resources: {
      requests: { cpu: String(cb.spec.resources.cpu), memory: String(cb.spec.resources.memory) },
    },
  };
}

function runtimeContainer(bot: ResolvedChatBot, image: string): V1Container {
  const { runtime, resources } = bot.cb.spec;
  const limits: Record<string, string> = { memory: String(resources.memory) };
  if (resources.gpu > 0) limits[gpuResource] = String(resources.gpu);

  const probe = (path: string, period: number, failures: number): V1Probe => ({
    httpGet: { path, port: 'health' },
    periodSeconds: period,
    failureThreshold: failures,
    timeoutSeconds: 5,
  });

  const env: V1EnvVar[] = [
    podNameEnv,
    ...(runtime.env ?? []).map((e) =>
      dropUndefined({ name: e.name, value: e.value, valueFrom: e.valueFrom }),
    ),
  ];

  return {
    name: 'runtime',
    image,
    imagePullPolicy: runtime.imagePullPolicy,
    args: ['serve'],
    ports: [
      { name: 'http', containerPort: runtime.port, protocol: 'TCP' },
      { name: 'health', containerPort: runtime.healthPort, protocol: 'TCP' },
    ],
    envFrom: [{ configMapRef: { name: bot.names.configMap } }],
    env,
    resources: {
      requests: { cpu: String(resources.cpu), memory: String(resources.memory) },
      limits,
    },
    // Loading a model can take minutes; liveness only starts counting once it is loaded.
    startupProbe: probe('/readyz', 10, 90),
    readinessProbe: probe('/readyz', 5, 3),
    livenessProbe: probe('/livez', 10, 3),
    securityContext: restricted,
    volumeMounts: volumeMounts(bot),
  };
}

function volumeMounts({ model }: ResolvedChatBot): V1VolumeMount[] {
  const mounts: V1VolumeMount[] = [
    { name: 'data', mountPath: podPaths.data },
    { name: 'keys', mountPath: podPaths.signingKeys, readOnly: true },
    { name: 'apikeys', mountPath: podPaths.apiKeys, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (!model.download) {
    mounts.push({ name: 'model', mountPath: podPaths.modelSource, readOnly: true });
  }
  return mounts;
}

function volumes({ cb, names, claim }: ResolvedChatBot): V1Volume[] {
  const { source } = cb.spec.model;
  const list: V1Volume[] = [
    { name: 'data', persistentVolumeClaim: { claimName: claim.name } },
    { name: 'keys', secret: { secretName: names.keysSecret, defaultMode: 0o440 } },
    { name: 'apikeys', secret: { secretName: names.apiKeysSecret, defaultMode: 0o440 } },
    { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
  ];
  if (source.pvc) {
    list.push({
      name: 'model',
      persistentVolumeClaim: { claimName: source.pvc.claimName, readOnly: true },
    });
  } else if (source.image) {
    list.push({
      name: 'model',
      image: { reference: source.image.reference, pullPolicy: source.image.pullPolicy },
    });
  }
  return list;
}

/** Server-side apply treats an explicit null/undefined differently from absence; send neither. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * A short stable hash of a JSON-able value, for pod-template annotations that roll the pods.
 * Hashed inside an array, as earlier releases did: another hash would roll every pod on upgrade.
 */
function contentHash(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([value]))
    .digest('hex')
    .slice(0, 16);
}
