// `npm run bench:operator`: the operator on a control plane of its own (started here, stopped at
// the end), measured four ways:
// 1. apply → all children, one ChatBot at a time (the acceptance target is 2 s);
// 2. time for many ChatBots to converge, against a bare loop that writes the same objects with the
//    operator's concurrency and the operator's transport, and nothing else (the practical limit
//    of this machine);
// 3. the operator's memory with them all;
// 4. its API requests per idle minute, with the default relist period and a short one.
// The real operator process runs (`node operator/main.ts`, --leader-elect=false, watching only
// the namespace of its phase). Progress goes to stderr, the table to stdout, JSON to a file.
//
// Settings (environment): BENCH_CHATBOTS (1000), BENCH_ROUNDS of operator and bare loops (2),
// BENCH_SAMPLES latency samples (30),
// BENCH_IDLE_SECONDS per idle window (120), BENCH_SHORT_RELIST (10s),
// BENCH_JSON (<tmpdir>/clawbot-bench-operator.json).

import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment } from '@kubernetes/client-node';
import type { ChatBot } from '../operator/api/types.generated.ts';
import { KubeClient, ObjectClient } from '../operator/kit/index.ts';
import { resources } from '../operator/resources.ts';
import { testCluster, stopTestClusters, type TestCluster } from '../test/cluster.ts';
import { installCrds } from '../test/crds.ts';
import { startOperator, type OperatorProcess } from '../test/operator-process.ts';
import { kubernetesVersion } from '../tools/cluster/toolchain.ts';
import { measureApplyLatency, type LatencySample } from './apply-latency.ts';
import { desiredChildren, expectedChildren } from './chatbot-children.ts';
import { waitForPods } from './controller-manager.ts';
import {
  convergeWithBareLoop,
  convergeWithOperator,
  type Convergence,
  type OperatorConvergence,
} from './convergence.ts';
import { percentile } from './http-load.ts';
import { measureIdleWindow, waitUntilQuiet, type IdleWindow } from './idle-requests.ts';
import { methods, type Method, type OperatorSnapshot } from './operator-metrics.ts';
import { residentBytes } from './process-memory.ts';
import { progress } from './progress.ts';

const settings = {
  chatBots: Number(process.env.BENCH_CHATBOTS ?? 1000),
  rounds: Number(process.env.BENCH_ROUNDS ?? 2),
  samples: Number(process.env.BENCH_SAMPLES ?? 30),
  idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 120),
  shortRelist: process.env.BENCH_SHORT_RELIST ?? '10s',
  json: process.env.BENCH_JSON ?? join(tmpdir(), 'clawbot-bench-operator.json'),
};

const runtimeImage = 'registry.example/clawbot/runtime:bench';
const operatorArgs = ['--leader-elect=false', `--runtime-image=${runtimeImage}`];
const targetMs = 2000;
const podsTimeoutMs = 20 * 60_000;

type Phase = 'bare' | 'operator';

const phaseNames: Record<Phase, string> = {
  bare: 'bare loop',
  operator: 'operator',
};

interface Round {
  order: Phase[];
  bare: Convergence;
  operator: OperatorConvergence;
}

interface Results {
  settings: typeof settings;
  machine: { node: string; cpus: number; cpuModel: string; kubernetes: string };
  chatBot: { children: number; replicas: number };
  /** 1-minute load average at the start and after each phase. */
  load: Record<string, number>;
  latency: LatencySample[];
  /** The operator at the end of the latency phase. */
  latencyOperator: OperatorSnapshot;
  rounds: Round[];
  idle: IdleWindow[];
  controlPlaneResidentBytes: Record<string, number | undefined>;
}

async function main(): Promise<void> {
  const load: Record<string, number> = { start: loadavg()[0]! };
  progress('starting a control plane of its own');
  const cluster = await testCluster();
  let idleOperator: OperatorProcess | undefined;
  try {
    const kube = new KubeClient(cluster.kc);
    const client = new ObjectClient(kube);
    await installCrds(cluster);
    const crdsEstablishedAt = performance.now();

    progress(`apply -> all children: ${settings.samples} ChatBots, one at a time`);
    const { samples: latency, operator: latencyOperator } = await measureApplyLatency(
      cluster,
      kube,
      {
        samples: settings.samples,
        crdsEstablishedAt,
        operatorArgs,
      },
    );
    load.latency = loadavg()[0]!;

    const rounds: Round[] = [];
    let chatBot = { children: 0, replicas: 0 };
    for (let round = 1; round <= settings.rounds; round++) {
      // The order reverses every round, so a drift in the machine's load falls on all phases
      // alike; the last round ends with the operator, which stays up for the idle windows.
      const forward: Phase[] = ['bare', 'operator'];
      const order = (settings.rounds - round) % 2 === 0 ? forward : forward.toReversed();
      const results: Partial<Omit<Round, 'order'>> = {};
      for (const phase of order) {
        progress(
          `round ${round}/${settings.rounds}, ${phaseNames[phase]}: ${settings.chatBots} ChatBots`,
        );
        let namespace: string;
        if (phase === 'operator') {
          const converged = await convergeWithOperator(cluster, kube, {
            count: settings.chatBots,
            operatorArgs,
          });
          results.operator = converged.result;
          namespace = converged.result.namespace;
          if (round === settings.rounds) idleOperator = converged.op;
          else await converged.op.stop();
        } else {
          const bare = await convergeWithBareLoop(cluster, kube, {
            count: settings.chatBots,
            runtimeImage,
          });
          results.bare = bare;
          namespace = bare.namespace;
        }
        load[`round ${round} ${phase}`] = loadavg()[0]!;
        chatBot = await shapeOf(client, namespace);
        // The controller-manager's pods for this phase's Deployments must not load the next one.
        await waitForPods(client, namespace, settings.chatBots * chatBot.replicas, podsTimeoutMs);
      }
      rounds.push({ order, ...(results as Omit<Round, 'order'>) });
    }

    const idle: IdleWindow[] = [];
    await waitUntilQuiet(idleOperator!, 15_000, 10 * 60_000);
    idle.push(await measureIdleWindow(idleOperator!, '15m (default)', settings.idleSeconds));
    await idleOperator!.stop();
    idleOperator = undefined;
    load.idleDefault = loadavg()[0]!;

    progress(`restarting the operator with --relist-period=${settings.shortRelist}`);
    const shortRelist = await startOperator(
      cluster,
      [
        ...operatorArgs,
        `--namespaces=${rounds.at(-1)!.operator.namespace}`,
        `--relist-period=${settings.shortRelist}`,
      ],
      { LOG_LEVEL: 'info' },
    );
    try {
      await cachesSynced(shortRelist);
      // Past its start-up reconcile of everything, and into the steady rhythm of relists.
      await sleep(30_000);
      idle.push(await measureIdleWindow(shortRelist, settings.shortRelist, settings.idleSeconds));
    } finally {
      await shortRelist.stop();
    }
    load.idleShort = loadavg()[0]!;

    const results: Results = {
      settings,
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        kubernetes: kubernetesVersion(),
      },
      chatBot,
      load,
      latency,
      latencyOperator,
      rounds,
      idle,
      controlPlaneResidentBytes: await controlPlaneMemory(cluster),
    };
    await writeFile(settings.json, JSON.stringify(results, null, 2) + '\n');
    report(results);
    console.log(`\nJSON: ${settings.json}`);
  } finally {
    await idleOperator?.stop();
    progress('stopping the control plane');
    await stopTestClusters();
  }
}

/** How many children a converged ChatBot of the namespace has, and its Deployment's replicas. */
async function shapeOf(
  client: ObjectClient,
  namespace: string,
): Promise<{ children: number; replicas: number }> {
  const cb = (await client.get<ChatBot>(resources.chatBots, 'bot-0', namespace))!;
  const deployment = desiredChildren(cb, runtimeImage).find(
    (c) => c.resource === resources.deployments,
  )!.object as V1Deployment;
  return { children: expectedChildren(cb).length, replicas: deployment.spec!.replicas! };
}

async function cachesSynced(op: OperatorProcess): Promise<void> {
  const synced = () =>
    op.logs.some((l) => l.msg === 'caches synced: starting workers' && l.controller === 'chatbot');
  const deadline = performance.now() + 120_000;
  while (!synced()) {
    if (performance.now() > deadline) throw new Error('the operator did not sync its caches');
    await sleep(200);
  }
}

async function controlPlaneMemory(
  cluster: TestCluster,
): Promise<Record<string, number | undefined>> {
  const memory: Record<string, number | undefined> = {};
  for (const p of cluster.controlPlane.state.processes) memory[p.name] = await residentBytes(p.pid);
  return memory;
}

function report(r: Results): void {
  const mib = (bytes: number | undefined) =>
    bytes === undefined ? '-' : (bytes / 2 ** 20).toFixed(0);
  const loads = Object.entries(r.load)
    .map(([phase, l]) => `${phase} ${l.toFixed(1)}`)
    .join(', ');
  const chatBotsInAll =
    r.latency.length +
    r.rounds.reduce((n, round) => n + round.order.length, 0) * r.settings.chatBots;
  console.log(
    `operator benchmark: node ${r.machine.node}, ${r.machine.cpus} x ${r.machine.cpuModel}, ` +
      `Kubernetes ${r.machine.kubernetes} control plane (etcd, kube-apiserver, ` +
      `kube-controller-manager) on the same machine\n` +
      `ChatBots: samples/chatbot-production.yaml (${r.chatBot.children} children, ` +
      `${r.chatBot.replicas} replicas each); operator ${operatorArgs.join(' ')}, one namespace\n` +
      `1-minute load average: ${loads}\n`,
  );

  const l = r.latency;
  const columns: Array<[string, (s: LatencySample) => number]> = [
    ['kubectl apply (process start to exit)', (s) => s.kubectlMs],
    ['kubectl start -> ChatBot on the watch', (s) => s.chatBotSeenMs],
    ['ChatBot on the watch -> all children (operator)', (s) => s.operatorMs],
    ['kubectl start -> all children', (s) => s.childrenMs],
    ['kubectl start -> children + status current', (s) => s.convergedMs],
  ];
  console.log(
    `1. apply -> all children: ${l.length} ChatBots applied one at a time with kubectl apply ` +
      `(client-side), seen by a watch`,
  );
  table(
    ['', 'p50 ms', 'p99 ms', 'max ms', 'first ms', 'p50 w/o first'],
    columns.map(([name, pick]) => {
      const all = sorted(l.map(pick));
      const rest = sorted(l.slice(1).map(pick));
      return [
        name,
        percentile(all, 0.5).toFixed(0),
        percentile(all, 0.99).toFixed(0),
        all[all.length - 1]!.toFixed(0),
        pick(l[0]!).toFixed(0),
        percentile(rest, 0.5).toFixed(0),
      ];
    }),
  );
  if (l.length < 100) {
    console.log(`   (p99 is the nearest rank: with ${l.length} samples, the largest)`);
  }
  const within = l.filter((s) => s.childrenMs <= targetMs).length;
  const operatorWithin = l.filter((s) => s.operatorMs <= targetMs).length;
  console.log(
    `   target "all children within ${targetMs / 1000} s" from kubectl start: ${within}/${l.length} ` +
      `samples (${within === l.length ? 'holds' : 'does NOT hold'}); operator's part alone: ` +
      `${operatorWithin}/${l.length}. The first kubectl started ` +
      `${l[0]!.sinceCrdsEstablishedMs.toFixed(0)} ms after the CRDs were Established.\n`,
  );

  console.log(
    `2. ${r.settings.chatBots} ChatBots to converge (all children present, ` +
      `status.observedGeneration current), clock from process spawn; rounds: ${r.rounds.length}`,
  );
  const perChatBot = (c: Convergence, method: Method) =>
    ((c.writes[method] ?? 0) / c.chatBots).toFixed(1);
  table(
    [
      'round',
      'seconds',
      'children s',
      ...writeMethods.map((m) => `${m}/bot`),
      'max sockets',
      'load 1m',
    ],
    r.rounds.flatMap((round, i) =>
      round.order.map((phase) => {
        const c = round[phase];
        return [
          `${i + 1} ${phaseNames[phase]}`,
          c.seconds.toFixed(1),
          c.childrenSeconds.toFixed(1),
          ...writeMethods.map((m) => perChatBot(c, m)),
          String(c.maxOpenSockets),
          `${c.load[0].toFixed(1)} -> ${c.load[1].toFixed(1)}`,
        ];
      }),
    ),
  );
  const ratios = (phase: Phase) => {
    const each = r.rounds.map((round) => round.operator.seconds / round[phase].seconds);
    return `${each.map((x) => x.toFixed(2)).join(', ')} (median ${median(each).toFixed(2)})`;
  };
  const startups = r.rounds.map((round) => round.operator.startupSeconds.toFixed(1));
  console.log(
    `   operator / ${phaseNames.bare}, by round: ${ratios('bare')}\n` +
      `   operator start-up (spawn -> caches synced): ${startups.join(', ')} s\n`,
  );

  console.log('3. memory (RSS)');
  table(
    ['', 'RSS MiB', 'heap MiB'],
    [
      [
        `operator at ${r.latency.length} ChatBots (end of the latency phase)`,
        mib(r.latencyOperator.residentBytes),
        mib(r.latencyOperator.heapUsedBytes),
      ],
      ...r.rounds.map((round, i) => [
        `operator at ${round.operator.chatBots} ChatBots, just converged (round ${i + 1})`,
        mib(round.operator.atConvergence.residentBytes),
        mib(round.operator.atConvergence.heapUsedBytes),
      ]),
      ...r.idle.map((w) => [
        `operator idle at ${r.settings.chatBots} ChatBots, relist ${w.relistPeriod}`,
        mib(w.residentBytes),
        mib(w.heapUsedBytes),
      ]),
      ...Object.entries(r.controlPlaneResidentBytes).map(([name, bytes]) => [
        `${name} (end of run, ${chatBotsInAll} ChatBots in all)`,
        mib(bytes),
        '',
      ]),
    ],
  );

  console.log(
    `\n4. API requests per idle minute (operator at ${r.settings.chatBots} ChatBots, ` +
      `rest_client_requests_total over ${r.settings.idleSeconds} s)`,
  );
  table(
    ['relist period', ...methods, 'writes', 'reconciles/min', 'CPU s/min'],
    r.idle.map((w) => {
      const perMinute = (n: number) => ((n * 60) / w.seconds).toFixed(1);
      return [
        w.relistPeriod,
        ...methods.map((m) => perMinute(w.requests[m])),
        perMinute(w.writes),
        perMinute(w.reconciles),
        perMinute(w.cpuSeconds),
      ];
    }),
  );
}

const writeMethods = methods.filter((m) => m !== 'GET');

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function sorted(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const cells of [header, ...rows]) {
    console.log(
      '   ' +
        cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
    );
  }
}

await main();
