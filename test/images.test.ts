// The operator and runtime images, checked without a Docker engine: their Dockerfiles are parsed
// and their stages played out here (test/dockerfile.ts), so a COPY of something missing, a
// compile step that fails in the image's build stage, an entrypoint that does not start from the
// image's files, a root user, unpinned base images, or ports and health checks that drifted from
// the code's defaults all fail here first.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { expect } from 'chai';
import packageJson from '../package.json' with { type: 'json' };
import { runtimeDefaults } from '../common/runtime-env.ts';
import { desiredDeployment } from '../operator/chatbot/desired-deployment.ts';
import { chatBot, productionSpec } from '../operator/chatbot/fixtures.ts';
import { parseOptions } from '../operator/options.ts';
import { repoRoot } from '../tools/cluster/paths.ts';
import { only, render } from './chart/helm.ts';
import {
  envOf,
  execForm,
  last,
  parseDockerfile,
  playStages,
  removeStages,
  type PlayedStage,
  type Stage,
} from './dockerfile.ts';

const run = promisify(execFile);

const operatorDefaults = parseOptions([], { POD_NAMESPACE: 'x' }, packageJson.version);
const chatBotPod = desiredDeployment(chatBot(productionSpec), { defaultRuntimeImage: 'x' }).spec!
  .template.spec!;
const runtimeContainer = chatBotPod.containers.find((c) => c.name === 'runtime')!;

interface Image {
  dockerfile: string;
  /** Ports the code listens on by default. */
  ports: number[];
  /** The probe the health check must agree with (path and port number). */
  probe: () => Promise<{ path: string; port: number }>;
  /** Argument lists the image must start with (after its entrypoint). */
  commands: string[][];
}

const images: Image[] = [
  {
    dockerfile: 'Dockerfile.operator',
    ports: [operatorDefaults.healthPort],
    probe: async () => {
      const deployment = only(await render(), 'Deployment');
      const path = deployment.spec.template.spec.containers[0].livenessProbe.httpGet.path;
      return { path, port: operatorDefaults.healthPort };
    },
    commands: [['--help']],
  },
  {
    dockerfile: 'Dockerfile.runtime',
    ports: [runtimeDefaults.port, runtimeDefaults.healthPort],
    probe: async () => ({
      path: runtimeContainer.livenessProbe!.httpGet!.path!,
      port: runtimeDefaults.healthPort,
    }),
    // The two containers the operator puts in every ChatBot pod: the server and the loader.
    commands: [
      [...runtimeContainer.args!.slice(0, 1), '--help'],
      [...chatBotPod.initContainers![0]!.args!.slice(0, 1), '--help'],
    ],
  },
];

for (const image of images) {
  describe(`image: ${image.dockerfile} (parsed and played out, no Docker engine)`, function () {
    this.timeout(180_000);
    let stages: Stage[];
    let final: Stage;
    let played: PlayedStage[];

    before(async () => {
      stages = parseDockerfile(await readFile(join(repoRoot, image.dockerfile), 'utf8'));
      final = stages.at(-1)!;
    });

    after(() => removeStages(played));

    it('pins every base image to a version, and Node to the one the project runs on', () => {
      const names = new Set(stages.map((s) => s.name));
      const bases = stages.map((s) => s.from).filter((from) => !names.has(from));
      for (const base of bases) {
        const tag = /:([^/@]+)$/.exec(base)?.[1];
        expect(tag, `${base} has no tag`).to.be.a('string');
        expect(tag).to.not.equal('latest');
        expect(tag, `${base}: pin a full version`).to.match(/\d+\.\d+\.\d+/);
      }
      const node = bases.filter((b) => b.startsWith('node:'));
      expect(node.length, 'a node: base image').to.be.greaterThan(0);
      for (const b of node)
        expect(b).to.match(new RegExp(`^node:${packageJson.devDependencies.node}-`));
    });

    it('builds: every COPY source is in the build context and the compile step passes', async () => {
      played = await playStages(stages, repoRoot);
      expect(played).to.have.length(stages.length);
    });

    it('ships its entrypoint, which starts from the files the image holds', async () => {
      expect(played, 'the build stages did not play out').to.not.equal(undefined);
      const finalStage = played.at(-1)!;
      const entrypoint = execForm(last(final, 'ENTRYPOINT')!.args);
      expect(entrypoint[0]).to.equal('node');
      const cwd = join(finalStage.root, finalStage.workdir);
      expect(existsSync(join(cwd, entrypoint[1]!)), `${entrypoint[1]} in the image`).to.equal(true);
      for (const args of image.commands) {
        // Node 24 as in the image, nothing but the image's files: its dist/, its node_modules.
        const { stdout } = await run(process.execPath, [...entrypoint.slice(1), ...args], {
          cwd,
          env: { PATH: process.env.PATH, ...finalStage.env },
        });
        expect(stdout, `${entrypoint.join(' ')} ${args.join(' ')}`).to.match(/usage/i);
      }
    });

    it('runs as a numeric, non-root user (runAsNonRoot can verify it)', () => {
      const user = last(final, 'USER')?.args;
      expect(user, 'the final stage sets USER').to.be.a('string');
      const [uid, gid] = user!.split(':').map(Number);
      expect(uid).to.be.a('number').and.greaterThan(0);
      if (gid !== undefined) expect(gid).to.be.greaterThan(0);
    });

    it('exposes the ports the code listens on by default', () => {
      const exposed = final.instructions
        .filter((i) => i.keyword === 'EXPOSE')
        .flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0])));
      expect(exposed).to.deep.equal(image.ports);
      const env = Object.assign(
        {},
        ...final.instructions.filter((i) => i.keyword === 'ENV').map((i) => envOf(i.args)),
      ) as Record<string, string>;
      if (image.dockerfile === 'Dockerfile.runtime') {
        expect(env).to.deep.include({
          PORT: String(runtimeDefaults.port),
          HEALTH_PORT: String(runtimeDefaults.healthPort),
        });
      }
    });

    it('health-checks the path and port its Kubernetes liveness probe uses', async () => {
      const check = last(final, 'HEALTHCHECK')!.args;
      const script = execForm(check).at(-1)!;
      const { path, port } = await image.probe();
      // The URL the check fetches: a literal port, or HEALTH_PORT falling back to the default.
      const literal = /http:\/\/127\.0\.0\.1:(\d+)(\/\w+)/.exec(script);
      const fallback = /\|\|\s*(\d+)\)\s*\+\s*'(\/\w+)'/.exec(script);
      const [, checkedPort, checkedPath] = (literal ?? fallback)!;
      expect({ path: checkedPath, port: Number(checkedPort) }).to.deep.equal({ path, port });
    });
  });
}
