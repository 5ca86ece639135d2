// The run's cluster with a real node, as a user's would be after `helm install`: ClawBot's images
// built from the Dockerfiles (npm run images) and loaded into the node, and the operator installed
// by its Helm chart into a namespace that enforces Pod Security "restricted". Started on first
// use, shared by test/node/*, stopped after the run (test/hooks.ts).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { repoRoot } from '../../tools/cluster/paths.ts';
import type { NodeState } from '../../tools/node/node.ts';
import { loadImages } from '../../tools/node/node-images.ts';
import { ensureProjectImages } from '../../tools/images/project-images.ts';
import { tinyGguf } from '../../runtime/model/tiny/tiny-gguf.ts';
import { eventually } from '../../tools/eventually.ts';
import { sharedCluster, type TestCluster } from '../cluster.ts';
import type { kube } from '../kube.ts';

export interface NodeCluster extends TestCluster {
  node: NodeState;
  /** Where pods reach this machine: the node's gateway address (pods cannot reach loopback). */
  hostIp: string;
  operatorNamespace: string;
  release: string;
  images: { operator: string; runtime: string };
}

export const operatorNamespace = 'clawbot-system';
export const release = 'clawbot';

let starting: Promise<NodeCluster> | undefined;

export function nodeCluster(): Promise<NodeCluster> {
  starting ??= start();
  return starting;
}

async function start(): Promise<NodeCluster> {
  const cluster = await sharedCluster('node', { node: true });
  const node = cluster.controlPlane.state.node!;
  const built = await ensureProjectImages(() => {});
  await loadImages(
    node.dir,
    node.containerdSocket,
    built.map((b) => b.reference),
    () => {},
  );
  const image = (name: string) => built.find((b) => b.name === name)!.reference;
  const images = { operator: image('operator'), runtime: image('runtime-cpu') };
  await cluster.kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: operatorNamespace,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    }),
  );
  // As README says: the chart's default operator image, the runtime's CPU variant for ChatBots.
  await cluster.helm([
    'install',
    release,
    join(repoRoot, 'charts/clawbot-operator'),
    '--namespace',
    operatorNamespace,
    '--set',
    `runtimeImage=${images.runtime}`,
    '--wait',
    '--timeout',
    '5m',
  ]);
  return {
    ...cluster,
    node,
    hostIp: node.network.hostIp,
    operatorNamespace,
    release,
    images,
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The tiny random-weight test model (seconds to load; its answers are noise). */
export function tinyModel(): { bytes: Buffer; sha256: string } {
  const bytes = Buffer.from(tinyGguf());
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Waits until the ChatBot's condition of this type matches; resolves with the condition. */
export function untilCondition(
  k: ReturnType<typeof kube>,
  chatBot: string,
  type: string,
  matches: (condition: Json) => boolean,
  timeoutMs = 600_000,
): Promise<Json> {
  return eventually(
    `ChatBot ${chatBot}: condition ${type} as expected`,
    async () => {
      const cb = await k.get('chatbot', chatBot);
      const condition = (cb?.status?.conditions as Json[] | undefined)?.find(
        (c) => c.type === type,
      );
      return condition && matches(condition) && condition;
    },
    timeoutMs,
    1000,
  );
}

export interface FileServer {
  url(path: string): string;
  /** How many times each path was fetched. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

/** Serves files over HTTP where the node's pods can reach them, the way a model registry would. */
export async function serveFiles(
  hostIp: string,
  files: Record<string, string | Buffer>,
): Promise<FileServer> {
  const requests = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const file = files[path];
    if (file === undefined) return void res.writeHead(404).end();
    if (Buffer.isBuffer(file))
      return void res.writeHead(200, { 'content-length': file.length }).end(file);
    void stat(file).then((info) => {
      res.writeHead(200, { 'content-length': info.size });
      createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, hostIp, resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (path) => `http://${hostIp}:${port}${path}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface PortForward {
  port: number;
  stop(): void;
}

/** `kubectl port-forward <target> :<remotePort>` on a free local port, as a user reaches a pod. */
export async function portForward(
  cluster: TestCluster,
  namespace: string,
  target: string,
  remotePort: number,
): Promise<PortForward> {
  const child = spawn(
    cluster.controlPlane.binaries.kubectl,
    ['port-forward', '-n', namespace, target, `:${remotePort}`, '--address=127.0.0.1'],
    { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (errors += c));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) =>
      reject(new Error(`kubectl port-forward ${target} exited (${code}): ${errors}`)),
    );
  });
  return { port, stop: () => child.kill() };
}

/** A client pod as Pod Security "restricted" admits it: non-root, no capabilities, seccomp. */
export function clientPod(
  name: string,
  container: { image: string; command: string[]; env?: Array<{ name: string; value: string }> },
  pod: { labels?: Record<string, string>; restartPolicy?: 'Never' } = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(pod.labels && { labels: pod.labels }) },
    spec: {
      terminationGracePeriodSeconds: 0,
      ...(pod.restartPolicy && { restartPolicy: pod.restartPolicy }),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'client',
          imagePullPolicy: 'IfNotPresent',
          ...container,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}
