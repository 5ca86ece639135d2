// A node's life on this machine: a second cluster's node runs beside the shared one in namespaces
// and address ranges of its own, and a node goes without a trace, both when `down` stops it and
// when the run that owned it was killed (the next start cleans up). "Without a trace": no process,
// no network namespace or device, no route, no mount, no cgroup, and the kernel settings the
// kubelet changed stay changed only while another node runs.

import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  readState,
  removeStaleClusters,
  type ClusterState,
} from '../../tools/cluster/control-plane.ts';
import { isRunning } from '../../tools/cluster/processes.ts';
import { kubeletKernelSettings } from '../../tools/node/kernel-settings.ts';
import { repoRoot } from '../../tools/cluster/paths.ts';
import { nodeCluster, type NodeCluster } from './node-cluster.ts';

const run = promisify(execFile);

/** Everything of this node that could outlive it, as this machine sees it now. */
async function traces(state: ClusterState) {
  const node = state.node!;
  const [links, routes, netns, mounts, cgroups] = await Promise.all([
    run('ip', ['-o', 'link', 'show']).then((r) => r.stdout),
    run('ip', ['route', 'show']).then((r) => r.stdout),
    run('ip', ['netns', 'list']).then((r) => r.stdout),
    readFile('/proc/self/mounts', 'utf8'),
    run('sh', ['-c', `ls -d /sys/fs/cgroup/*${node.cgroupRoot} 2>/dev/null || true`]).then(
      (r) => r.stdout,
    ),
  ]);
  return {
    processes: state.processes.filter(isRunning).map((p) => p.name),
    device: links.includes(`${node.network.hostInterface}@`),
    route: routes.includes(node.network.podCidr.split('/')[0]!),
    netns: netns
      .split('\n')
      .some((line) => line.startsWith(`${node.network.netns} `) || line === node.network.netns),
    mounts: mounts.split('\n').filter((line) => line.includes(state.name)),
    cgroups: cgroups.trim(),
  };
}

const gone = { processes: [], device: false, route: false, netns: false, mounts: [], cgroups: '' };

const kernelSettings = () =>
  Object.fromEntries(
    kubeletKernelSettings.map((s) => [s, readFileSync(`/proc/sys/${s}`, 'utf8').trim()]),
  );

/** Starts a cluster with a node owned by a child process; resolves with its state. */
async function ownedNodeCluster(name: string) {
  const child = spawn(process.execPath, ['test/fixtures/owned-cluster.ts', name, '--node'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stateFile = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the cluster's owner exited (${code})`)));
  });
  return { child, stateFile, state: JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState };
}

describe('node: a node comes and goes without a trace', function () {
  this.timeout(900_000);
  let shared: NodeCluster;

  before(async () => {
    shared = await nodeCluster();
  });

  it("is cleaned up after the run that owned it was killed, beside another cluster's node", async () => {
    const settingsWithNodes = kernelSettings();
    const { child, stateFile, state } = await ownedNodeCluster(`killed-node-${process.pid}`);
    expect(state.node!.network.netns).to.not.equal(shared.node.network.netns);
    expect(state.node!.network.podCidr).to.not.equal(shared.node.network.podCidr);
    const before = await traces(state);
    expect(before.processes).to.include.members([
      'node',
      'containerd',
      'kubelet',
      'kube-proxy',
      'kube-router',
    ]);
    expect(before).to.include({ device: true, route: true, netns: true });

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect((await traces(state)).processes, 'orphans survive the kill').to.not.deep.equal([]);

    await removeStaleClusters(() => {});
    expect(await traces(state)).to.deep.equal(gone);
    expect(existsSync(stateFile)).to.equal(false);
    // The shared cluster's node runs on, and with it the kubelet's kernel settings.
    expect(kernelSettings()).to.deep.equal(settingsWithNodes);
    const ready = await shared.kubectl([
      'get',
      'node',
      shared.node.name,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    expect(ready).to.equal('True');
  });

  it('`cluster down` stops a node cluster started by `cluster up --node`', async () => {
    const name = `down-${process.pid}`;
    const cli = (command: string) =>
      run(
        process.execPath,
        ['tools/cluster/cli.ts', command, ...(command === 'up' ? ['--node'] : [])],
        {
          cwd: repoRoot,
          env: { ...process.env, CLAWBOT_CLUSTER: name },
        },
      );
    await cli('up');
    const state = (await readState(name))!;
    const status = await cli('status');
    expect(status.stdout).to.match(/cluster ".*": running/);
    expect(status.stdout).to.contain(`node: ${name}-node at ${state.node!.network.nodeIp}`);
    await cli('down');
    expect(await traces(state)).to.deep.equal(gone);
  });
});
