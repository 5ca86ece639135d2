// `npm run cluster -- up|down|status|build`: a local Kubernetes control plane for trying ClawBot.
// `up` prints shell lines to eval, so `eval "$(npm run -s cluster -- up)"` configures the shell.

import { ControlPlane, readState, stopCluster } from './control-plane.ts';
import { isRunning } from './processes.ts';
import { ensureBinaries, helmVersion, kubernetesVersion } from './toolchain.ts';

const name = process.env.CLAWBOT_CLUSTER ?? 'local';

const usage = `usage: npm run cluster -- <command>

  up       start etcd, kube-apiserver and kube-controller-manager on loopback (in the background)
           and print the export lines for KUBECONFIG and PATH (kubectl, helm)
  down     stop the control plane and delete its data
  status   say whether it runs, where, and with which processes
  build    only build (or verify the cache of) the binaries

The first run builds Kubernetes ${kubernetesVersion()} and Helm ${helmVersion()} from Go modules
(several minutes); later runs reuse the cache.`;

function exports(kubeconfig: string, binDirs: string[]): string {
  return `export KUBECONFIG=${kubeconfig}\nexport PATH=${binDirs.join(':')}:$PATH`;
}

async function main(command: string | undefined): Promise<number> {
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
      console.error(`control plane "${name}" stopped; its data is deleted`);
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
      console.log(
        `control plane "${name}": ${healthy ? 'running' : 'degraded'} at ${state.server} ` +
          `(since ${state.startedAt})\n${lines.join('\n')}\n  kubeconfig: ${state.kubeconfig}`,
      );
      return healthy ? 0 : 1;
    }
    case 'build': {
      const binaries = await ensureBinaries();
      for (const [tool, path] of Object.entries(binaries))
        console.log(`${tool.padEnd(22)} ${path}`);
      return 0;
    }
    default:
      console.error(usage);
      return command === undefined || command === 'help' ? 0 : 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`cluster ${process.argv[2]}: ${err.message}`);
    process.exit(1);
  },
);
