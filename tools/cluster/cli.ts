// `npm run cluster -- up|down|status|build`: a local Kubernetes cluster for trying ClawBot.
// `up` prints shell lines to eval, so `eval "$(npm run -s cluster -- up)"` configures the shell.

import { ControlPlane, prepareNode, readState, stopCluster } from './control-plane.ts';
import { isRunning } from './processes.ts';
import { ensureBinaries, helmVersion, kubernetesVersion } from './toolchain.ts';

const name = process.env.CLAWBOT_CLUSTER ?? 'local';

const usage = `usage: npm run cluster -- <command>

  up [--node]     start etcd, kube-apiserver and kube-controller-manager on loopback (in the
                  background) and print the export lines for KUBECONFIG and PATH (kubectl, helm).
                  --node: a whole cluster, as kind makes one: kube-scheduler, every controller,
                  and a real node on this machine (containerd + runc, kubelet, kube-proxy, CNI,
                  kube-router enforcing NetworkPolicies)
                  with CoreDNS, a default StorageClass (local-path) and metrics-server; needs root
  down            stop everything and delete its data (a node's namespaces, network devices,
                  cgroups and mounts too; kernel settings the kubelet changed are put back)
  status          say whether it runs, where, and with which processes
  build [--node]  only build (or verify the cache of) the binaries, and with --node the node's
                  Debian packages, binaries and images

The first run builds Kubernetes ${kubernetesVersion()} and Helm ${helmVersion()} from Go modules
(several minutes); later runs reuse the cache. \`npm run images\` builds ClawBot's own images and
loads them into running nodes. CLAWBOT_CLUSTER names the cluster (default: local).`;

function exports(kubeconfig: string, binDirs: string[]): string {
  return `export KUBECONFIG=${kubeconfig}\nexport PATH=${binDirs.join(':')}:$PATH`;
}

async function main(command: string | undefined, flags: string[]): Promise<number> {
  const unknown = flags.filter((f) => f !== '--node');
  if (unknown.length) {
    console.error(`unknown option ${unknown[0]}\n\n${usage}`);
    return 2;
  }
  const node = flags.includes('--node');
  switch (command) {
    case 'up': {
      const existing = await readState(name);
      if (existing && existing.processes.every(isRunning)) {
        console.error(`control plane "${name}" is already running at ${existing.server}`);
        console.log(exports(existing.kubeconfig, existing.binDirs));
        return 0;
      }
      if (existing) await stopCluster(existing); // partly dead: start clean
      const cluster = await ControlPlane.start({
        name,
        detached: true,
        node,
        log: (line) => console.error(line),
      });
      console.error('run these lines (or eval this output) to use it:');
      console.log(exports(cluster.kubeconfig, cluster.state.binDirs));
      return 0;
    }
    case 'down': {
      const state = await readState(name);
      if (!state) {
        console.error(`no control plane "${name}" is running`);
        return 0;
      }
      await stopCluster(state);
      console.error(
        `${state.node ? 'cluster' : 'control plane'} "${name}" stopped; its data is deleted`,
      );
      return 0;
    }
    case 'status': {
      const state = await readState(name);
      if (!state) {
        console.log(`control plane "${name}": not running`);
        return 3;
      }
      const lines = state.processes.map(
        (p) => `  ${p.name.padEnd(24)} pid ${p.pid}  ${isRunning(p) ? 'running' : 'NOT RUNNING'}`,
      );
      const healthy = state.processes.every(isRunning);
      const nodeLine = state.node
        ? `\n  node: ${state.node.name} at ${state.node.network.nodeIp} (network namespace ` +
          `${state.node.network.netns}, pods ${state.node.network.podCidr})`
        : '';
      console.log(
        `${state.node ? 'cluster' : 'control plane'} "${name}": ${healthy ? 'running' : 'degraded'} ` +
          `at ${state.server} (since ${state.startedAt})\n${lines.join('\n')}${nodeLine}\n` +
          `  kubeconfig: ${state.kubeconfig}`,
      );
      return healthy ? 0 : 1;
    }
    case 'build': {
      const binaries = await ensureBinaries();
      for (const [tool, path] of Object.entries(binaries))
        console.log(`${tool.padEnd(22)} ${path}`);
      if (node) {
        const prepared = await prepareNode((line) => console.error(line));
        for (const [tool, path] of Object.entries(prepared.binaries))
          console.log(`${tool.padEnd(22)} ${path}`);
        for (const [image, reference] of Object.entries(prepared.images))
          console.log(`${`${image} image`.padEnd(22)} ${reference}`);
      }
      return 0;
    }
    default:
      console.error(usage);
      return command === undefined || command === 'help' ? 0 : 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`cluster ${process.argv[2]}: ${err.message}`);
    process.exit(1);
  },
);
