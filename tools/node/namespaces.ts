// The node's namespaces: what a kind node container gives its kubelet, without a container. One
// long-lived process (the pause program, as PID 1 of a new PID namespace) holds a network
// namespace (the node's, see network.ts), a mount namespace and a PID namespace; containerd, the
// kubelet, kube-proxy and kube-router are started inside all three. Everything they create lives
// there:
//
// - mounts (Secret volumes, overlay snapshots, the node's own /run) never show on this machine
//   and vanish with the mount namespace;
// - every process (containerd's shims, every container) is killed by the kernel when PID 1 of
//   the PID namespace ends — so stopping the node, or a killed test run's cleanup, leaves no
//   process behind. (`--kill-child` ends it too should unshare, its parent, be killed.)

import { execFile } from 'node:child_process';
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processStartTime, sleep, startProcess, type Started } from '../cluster/processes.ts';

const run = promisify(execFile);

export interface NodeNamespaces {
  /** The process recorded in the cluster's state; ending it ends the node. */
  holder: Started;
  /** PID 1 of the node's PID namespace, as this machine sees it: the target of nsenter. */
  initPid: number;
}

export async function startNodeNamespaces(
  options: { netns: string; dir: string; pause: string; detached: boolean },
  /** Records the holder at once, so a failure from here on still stops it. */
  track: (started: Started) => Promise<void>,
): Promise<NodeNamespaces> {
  const holder = startProcess(
    'node',
    'nsenter',
    [
      `--net=/run/netns/${options.netns}`,
      '--',
      'unshare',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount',
      '--propagation',
      'slave',
      '--mount-proc',
      '--',
      options.pause,
    ],
    join(options.dir, 'node.log'),
    options.detached,
  );
  await track(holder);
  const initPid = await childOf(holder);
  // From now on the record names PID 1 itself: unshare ignores SIGTERM while it waits, whereas
  // the pause program exits on it, and the kernel then ends every process of the namespace.
  holder.record.pid = initPid;
  holder.record.startTime = processStartTime(initPid) ?? '';
  // In its PID namespace too: the node's /proc is that namespace's, where only its members have
  // a /proc/self (mount and umount read their mount table there).
  const inNode = (...args: string[]) =>
    run('nsenter', ['-t', String(initPid), '-m', '-p', '--', ...args]);
  // /sys as the node's network namespace sees it (its interfaces), keeping the cgroup mounts.
  const keep = join(options.dir, '.cgroup');
  await mkdir(keep, { recursive: true });
  await inNode('mount', '--rbind', '/sys/fs/cgroup', keep);
  await inNode('umount', '-l', '/sys');
  await inNode('mount', '-t', 'sysfs', 'sysfs', '/sys');
  await inNode('mount', '--move', keep, '/sys/fs/cgroup');
  // The node's own /run (containerd's state and shim sockets, iptables' lock, pod network
  // namespaces) and CNI's result cache, private and gone with the node.
  await inNode('mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run');
  await inNode('mkdir', '-p', '/var/lib/cni');
  await inNode('mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/var/lib/cni');
  return { holder, initPid };
}

/**
 * Starts a program inside the node's namespaces. nsenter forks to enter a PID namespace, so the
 * program is nsenter's child: its record names the program's own pid, which is what stopping it
 * must signal (nsenter passes no signals on), while `exited` still follows it through nsenter.
 */
export async function startInNode(
  initPid: number,
  name: string,
  binary: string,
  args: string[],
  logFile: string,
  detached: boolean,
): Promise<Started> {
  const started = startProcess(
    name,
    'nsenter',
    ['-t', String(initPid), '-m', '-n', '-p', '--', binary, ...args],
    logFile,
    detached,
  );
  const pid = await childOf(started);
  started.record.pid = pid;
  started.record.startTime = processStartTime(pid) ?? '';
  return started;
}

/** The pid of the single child `started` forks (its /proc children list), once it exists. */
async function childOf(started: Started): Promise<number> {
  const pid = started.record.pid;
  let exited = false;
  void started.exited.then(() => (exited = true));
  for (let attempt = 0; attempt < 200 && !exited; attempt++) {
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    const child = Number(children.trim().split(/\s+/)[0]);
    if (child) return child;
    await sleep(10);
  }
  throw new Error(
    `${started.record.name}: nsenter (pid ${pid}) ${exited ? 'exited' : 'started nothing'}; ` +
      `see ${started.logFile}`,
  );
}
