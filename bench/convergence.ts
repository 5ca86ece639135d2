// Time for many ChatBots to converge (every child present, status.observedGeneration current),
// once with the operator and once with the bare apply loop, each from an unreconciled start: the
// ChatBots exist, then the operator (or the loop) process is spawned and the clock runs until the
// watch has seen the last one converge. Both clocks include their process's start-up.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import type { KubeClient } from '../operator/kit/index.ts';
import { repoRoot } from '../tools/cluster/paths.ts';
import type { TestCluster } from '../test/cluster.ts';
import { startOperator, type OperatorProcess } from '../test/operator-process.ts';
import { applyChatBots } from './chatbot-apply.ts';
import { ConvergenceWatch } from './convergence-watch.ts';
import { snapshot, type Method, type OperatorSnapshot } from './operator-metrics.ts';
import { openSockets } from './process-sockets.ts';
import { progress } from './progress.ts';

export interface Convergence {
  namespace: string;
  chatBots: number;
  /** Spawn → the last ChatBot converged. */
  seconds: number;
  /** Spawn → the last ChatBot had every child (status not yet necessarily current). */
  childrenSeconds: number;
  /** Writes sent until then, by method. */
  writes: Partial<Record<Method, number>>;
  /** 1-minute load average when the clock started and when it stopped. */
  load: [number, number];
  /** The most sockets the working process held open, sampled every 5 s. */
  maxOpenSockets: number;
}

const convergeTimeoutMs = 30 * 60_000;

/** A namespace with `count` ChatBots nobody has reconciled yet, and a watch on it. */
async function unreconciledChatBots(
  cluster: TestCluster,
  kube: KubeClient,
  prefix: string,
  count: number,
): Promise<{ namespace: string; watch: ConvergenceWatch }> {
  const namespace = await cluster.namespace(prefix);
  let shown = 0;
  await applyChatBots(kube, namespace, count, 8, (done) => {
    if (done === count || done - shown >= 250) {
      progress(`${namespace}: ${done}/${count} ChatBots applied`);
      shown = done;
    }
  });
  const watch = new ConvergenceWatch(kube, namespace);
  await watch.start();
  return { namespace, watch };
}

/**
 * Waits for every ChatBot to converge, with a progress line every 5 s; fails at once if the
 * process doing the work exits with an error (or, when it should keep running, at all).
 */
async function converged(
  watch: ConvergenceWatch,
  who: string,
  count: number,
  started: number,
  worker: { child: ChildProcess; exitIsFailure: (code: number | null) => boolean },
): Promise<{ seconds: number; childrenSeconds: number; maxOpenSockets: number }> {
  let maxOpenSockets = 0;
  let onExit: (code: number | null) => void = () => {};
  const died = new Promise<never>((_, reject) => {
    onExit = (code) => {
      if (worker.exitIsFailure(code)) reject(new Error(`${who}: the process exited (${code})`));
    };
    worker.child.once('exit', onExit);
  });
  const timer = setInterval(async () => {
    const c = watch.counts();
    const sockets = (await openSockets(worker.child.pid!)) ?? 0;
    maxOpenSockets = Math.max(maxOpenSockets, sockets);
    progress(
      `${who}: ${c.converged}/${count} converged, ${c.withChildren}/${count} with all children, ` +
        `${sockets} sockets open`,
    );
  }, 5000);
  try {
    await Promise.race([
      died,
      watch.until(
        `${who}: all converged`,
        () => watch.counts().converged >= count,
        convergeTimeoutMs,
      ),
    ]);
  } finally {
    clearInterval(timer);
    worker.child.off('exit', onExit);
  }
  const last = (pick: (p: { childrenAt?: number; convergedAt?: number }) => number | undefined) =>
    Math.max(...[...watch.progress.values()].map((p) => pick(p) ?? Infinity));
  return {
    seconds: (last((p) => p.convergedAt) - started) / 1000,
    childrenSeconds: (last((p) => p.childrenAt) - started) / 1000,
    maxOpenSockets,
  };
}

export interface OperatorConvergence extends Convergence {
  /** Spawn → the chatbot controller's caches synced (its workers start). */
  startupSeconds: number;
  /** The operator's metrics once converged. */
  atConvergence: OperatorSnapshot;
}

/** Leaves the operator running once converged: the caller measures it idle, or stops it. */
export async function convergeWithOperator(
  cluster: TestCluster,
  kube: KubeClient,
  options: { count: number; operatorArgs: string[] },
): Promise<{ result: OperatorConvergence; op: OperatorProcess }> {
  const { namespace, watch } = await unreconciledChatBots(
    cluster,
    kube,
    'bench-operator',
    options.count,
  );
  const load0 = loadavg()[0]!;
  const spawnedAt = Date.now();
  const started = performance.now();
  const op = await startOperator(cluster, [...options.operatorArgs, `--namespaces=${namespace}`], {
    LOG_LEVEL: 'info',
  });
  try {
    const times = await converged(watch, 'operator', options.count, started, {
      child: op.child,
      exitIsFailure: () => true,
    });
    const atConvergence = await snapshot(op);
    const synced = op.logs.find(
      (l) => l.msg === 'caches synced: starting workers' && l.controller === 'chatbot',
    );
    const { POST, PUT, PATCH, DELETE } = atConvergence.requests;
    return {
      op,
      result: {
        namespace,
        chatBots: options.count,
        ...times,
        startupSeconds: (Date.parse(String(synced?.time)) - spawnedAt) / 1000,
        writes: { POST, PUT, PATCH, DELETE },
        load: [load0, loadavg()[0]!],
        atConvergence,
      },
    };
  } catch (err) {
    await op.stop();
    throw err;
  } finally {
    await watch.stop();
  }
}

export async function convergeWithBareLoop(
  cluster: TestCluster,
  kube: KubeClient,
  options: { count: number; runtimeImage: string },
): Promise<Convergence> {
  const { namespace, watch } = await unreconciledChatBots(
    cluster,
    kube,
    'bench-bare',
    options.count,
  );
  try {
    const load0 = loadavg()[0]!;
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bench/bare-apply.ts'), namespace, options.runtimeImage],
      {
        env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const times = await converged(watch, 'bare loop', options.count, started, {
      child,
      exitIsFailure: (code) => code !== 0,
    });
    const code = await exited;
    if (code !== 0) throw new Error(`bench/bare-apply.ts exited with ${code}`);
    const report = JSON.parse(lines.at(-1) ?? '{}') as { writes?: Convergence['writes'] };
    return {
      namespace,
      chatBots: options.count,
      ...times,
      writes: report.writes ?? {},
      load: [load0, loadavg()[0]!],
    };
  } finally {
    await watch.stop();
  }
}
