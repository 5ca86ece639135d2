// Shared by the kit's integration tests: a throwaway CRD with a status subresource, installed once
// per run, and a bounded wait for an outcome (tests assert outcomes, never timings).

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { TestCluster } from '../cluster.ts';
import { eventually } from '../../tools/eventually.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import { metricsRegistry } from '../../operator/kit/metrics.ts';
import { ObjectClient } from '../../operator/kit/objects.ts';
import type { ResourceType } from '../../operator/kit/resource.ts';
import { KubeClient } from '../../operator/kit/rest.ts';

/** ConfigMaps: the built-in resource the kit's tests watch and write. */
export const configMaps: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};

export type ConfigMap = KubernetesObject & { data?: Record<string, string> };

export const gadgets: ResourceType = {
  group: 'kit.clawbot.dev',
  version: 'v1',
  plural: 'gadgets',
  kind: 'Gadget',
  namespaced: true,
};

const gadgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.kit.clawbot.dev' },
  spec: {
    group: 'kit.clawbot.dev',
    scope: 'Namespaced',
    names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  size: { type: 'integer' },
                  color: { type: 'string' },
                  memory: { 'x-kubernetes-int-or-string': true, pattern: '^[0-9]+(Ki|Mi|Gi)?$' },
                },
              },
              status: {
                type: 'object',
                properties: {
                  phase: { type: 'string' },
                  conditions: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['type'],
                    items: {
                      type: 'object',
                      required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
                      properties: {
                        type: { type: 'string' },
                        status: { type: 'string' },
                        observedGeneration: { type: 'integer' },
                        lastTransitionTime: { type: 'string', format: 'date-time' },
                        reason: { type: 'string' },
                        message: { type: 'string' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

const customResourceDefinitions: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

type Crd = KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } };

let installed: Promise<void> | undefined;

/**
 * Installs the Gadget CRD (once per run) with the kit's own server-side apply, and waits until it
 * is served.
 */
export function installGadgetCrd(cluster: TestCluster): Promise<void> {
  installed ??= (async () => {
    const client = new ObjectClient(new KubeClient(cluster.kc));
    await client.apply(customResourceDefinitions, gadgetCrd);
    await eventually('the Gadget CRD is established', async () => {
      const crd = await client.get<Crd>(customResourceDefinitions, gadgetCrd.metadata.name);
      const established = crd?.status?.conditions?.find((c) => c.type === 'Established');
      return established?.status === 'True' ? true : undefined;
    });
  })();
  return installed;
}

/** Sum of a counter's values whose labels include all of `labels`. */
export async function counterSum(metric: string, labels: Record<string, string>): Promise<number> {
  const values = (await metricsRegistry.getSingleMetric(metric)!.get()).values;
  return values
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

/** The error promise rejects with; fails the test if it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Warnings and errors only: tests restart watches on purpose, and that is not news. */
export function testLogger(component: string): Logger {
  return createLogger(component, { level: 'warn' });
}

export interface FixtureOperator {
  child: ChildProcess;
  identity: string;
  /** The health/metrics port. */
  port: number;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Its log lines so far (JSON), to print when a test fails. */
  logs: string[];
  get(path: string): Promise<{ status: number; text: string }>;
}

const running = new Set<ChildProcess>();

/** Starts fixtures/operator.ts as a child process (see there) and waits until it serves HTTP. */
export async function startFixtureOperator(
  cluster: TestCluster,
  namespace: string,
  identity: string,
  env: Record<string, string> = {},
): Promise<FixtureOperator> {
  const script = fileURLToPath(new URL('./kit-operator.ts', import.meta.url));
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      KUBECONFIG: cluster.kubeconfig,
      NAMESPACE: namespace,
      IDENTITY: identity,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const logs: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
  const first = await Promise.race([
    new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', resolve),
    ),
    exited.then((code) => {
      throw new Error(`the fixture operator exited (${code}) before serving:\n${logs.join('\n')}`);
    }),
  ]);
  const { port } = JSON.parse(first) as { port: number };
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, text: await response.text() };
  };
  return { child, identity, port, exited, logs, get };
}

/** Kills fixture operators a test left running (only those this process started). */
export function killFixtureOperators(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** The value of one sample in Prometheus text format, or undefined if absent. */
export function sampleValue(
  metricsText: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of metricsText.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}
