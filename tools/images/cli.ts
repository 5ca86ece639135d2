// `npm run images`: builds ClawBot's images from Dockerfile.operator and Dockerfile.runtime (its
// CPU variant) with podman, tagged with the Helm chart's default references, and loads them into
// every local node that is running, so `helm install` runs them unchanged.

import { readdir } from 'node:fs/promises';
import { readState } from '../cluster/control-plane.ts';
import { clustersRoot } from '../cluster/paths.ts';
import { isRunning } from '../cluster/processes.ts';
import { loadImages } from '../node/node-images.ts';
import { ensureProjectImages } from './project-images.ts';

const usage = `usage: npm run images

Builds the operator image and the runtime image's CPU variant from the project's Dockerfiles with
podman (their base images are built on this machine first: no registry is reachable), tags them
as the chart's defaults, prints their ids, and loads them into every running local node
(npm run cluster -- up --node). Unchanged sources are not rebuilt.`;

async function main(args: string[]): Promise<number> {
  if (args.length) {
    console.error(usage);
    return args[0] === '--help' ? 0 : 2;
  }
  const say = (line: string) => console.error(line);
  const images = await ensureProjectImages(say);
  for (const image of images) {
    console.log(
      `${image.name.padEnd(12)} ${image.reference.padEnd(36)} ${image.id.slice(0, 12)}` +
        (image.built ? '' : '  (up to date)'),
    );
  }
  for (const name of await readdir(clustersRoot()).catch(() => [] as string[])) {
    const state = await readState(name);
    if (!state?.node || !state.processes.every(isRunning)) continue;
    const loaded = await loadImages(
      state.node.dir,
      state.node.containerdSocket,
      images.map((i) => i.reference),
      say,
    );
    say(
      `node ${state.node.name}: ${loaded.length ? `loaded ${loaded.join(', ')}` : 'already has them'}`,
    );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`images: ${err.message}`);
    process.exit(1);
  },
);
