// The operator and runtime images, built by a real builder: podman builds them from the
// Dockerfiles exactly as `npm run images` does (bases built on this machine, no registry), and the
// checks run against the images themselves: their entrypoints start from the image's files, they
// run as the numeric non-root user runAsNonRoot can verify, the runtime's CPU variant loads
// onnxruntime. Static checks keep the Dockerfiles pinned and in step with the code's ports and
// probes. (Pods run from these images on a real node in test/node/.)

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import packageJson from '../package.json' with { type: 'json' };
import { defaultOf, runtimeSettings } from '../common/runtime-env.ts';
import { desiredDeployment } from '../operator/chatbot/desired-deployment.ts';
import { resolvedChatBot, productionSpec } from './support/chatbots.ts';
import { parseOptions } from '../operator/options.ts';
import { repoRoot } from '../tools/cluster/paths.ts';
import {
  baseImages,
  envOf,
  execForm,
  last,
  parseDockerfile,
  type Stage,
} from '../tools/images/dockerfile.ts';
import { podman } from '../tools/images/podman.ts';
import { ensureProjectImages, type BuiltImage } from '../tools/images/project-images.ts';
import { only, render } from './chart/helm.ts';

const operatorDefaults = parseOptions([], { POD_NAMESPACE: 'x' }, packageJson.version);
const chatBotPod = desiredDeployment(resolvedChatBot(productionSpec), { defaultRuntimeImage: 'x' })
  .spec!.template.spec!;
const runtimeContainer = chatBotPod.containers.find((c) => c.name === 'runtime')!;

interface Image {
  name: BuiltImage['name'];
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
    name: 'operator',
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
    name: 'runtime-cpu',
    dockerfile: 'Dockerfile.runtime',
    ports: [defaultOf(runtimeSettings.port), defaultOf(runtimeSettings.healthPort)],
    probe: async () => ({
      path: runtimeContainer.livenessProbe!.httpGet!.path!,
      port: defaultOf(runtimeSettings.healthPort),
    }),
    // The two containers the operator puts in every ChatBot pod: the server and the loader.
    commands: [
      [...runtimeContainer.args!.slice(0, 1), '--help'],
      [...chatBotPod.initContainers![0]!.args!.slice(0, 1), '--help'],
    ],
  },
];

let building: Promise<BuiltImage[]> | undefined;
/** Both images, built once for this run (cached by content: unchanged sources build nothing). */
const built = () => (building ??= ensureProjectImages(() => {}));

/** Runs a command in the image, with no network, as the image's own user. */
const inImage = (reference: string, args: string[]) =>
  podman(['run', '--rm', '--network=none', reference, ...args]);

for (const image of images) {
  describe(`image: ${image.dockerfile} (built by podman)`, function () {
    this.timeout(900_000);
    let stages: Stage[];
    let final: Stage;
    let reference: string;

    before(async () => {
      stages = parseDockerfile(await readFile(join(repoRoot, image.dockerfile), 'utf8'));
      final = stages.at(-1)!;
    });

    it('pins every base image to a version, and Node to the one the project runs on', () => {
      const bases = baseImages(stages);
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

    it('builds from its Dockerfile, tagged as the chart refers to it', async () => {
      const builtImage = (await built()).find((b) => b.name === image.name)!;
      expect(builtImage.id).to.match(/^[0-9a-f]{64}$/);
      reference = builtImage.reference;
      const defaults = only(await render(), 'Deployment').spec.template.spec.containers[0];
      const expected =
        image.name === 'operator'
          ? defaults.image
          : `${defaults.args.find((a: string) => a.startsWith('--runtime-image=')).split('=')[1]}-cpu`;
      expect(reference).to.equal(expected);
    });

    it('starts its entrypoint from the files the image holds', async () => {
      expect(reference, 'the image was not built').to.be.a('string');
      for (const args of image.commands) {
        const out = await inImage(reference, args);
        expect(out, `${reference} ${args.join(' ')}`).to.match(/usage/i);
      }
    });

    it('runs as a numeric, non-root user (runAsNonRoot can verify it)', async () => {
      const user = last(final, 'USER')?.args;
      expect(user, 'the final stage sets USER').to.be.a('string');
      const [uid, gid] = user!.split(':').map(Number);
      expect(uid).to.be.a('number').and.greaterThan(0);
      if (gid !== undefined) expect(gid).to.be.greaterThan(0);
      const configured = (
        await podman(['image', 'inspect', '--format', '{{.Config.User}}', reference])
      ).trim();
      expect(configured).to.equal(user);
      const id = await podman(['run', '--rm', '--network=none', '--entrypoint', 'id', reference]);
      expect(id).to.match(new RegExp(`^uid=${uid}\\b`));
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
          PORT: String(defaultOf(runtimeSettings.port)),
          HEALTH_PORT: String(defaultOf(runtimeSettings.healthPort)),
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

describe("image: the runtime's CPU variant", function () {
  this.timeout(900_000);

  it('loads onnxruntime with its CPU provider, and without the CUDA one', async () => {
    const runtime = (await built()).find((b) => b.name === 'runtime-cpu')!;
    const out = await podman([
      'run',
      '--rm',
      '--network=none',
      '--entrypoint',
      'node',
      runtime.reference,
      '-e',
      "const ort = require('onnxruntime-node'); const fs = require('fs'); " +
        "const dir = require('path').dirname(require.resolve('onnxruntime-node')); " +
        "console.log(JSON.stringify({ tensor: new ort.Tensor('float32', [1], [1]).dims, " +
        "cuda: fs.readdirSync(dir + '/../bin', { recursive: true }).some((f) => /providers_cuda/.test(f)) }))",
    ]);
    expect(JSON.parse(out)).to.deep.equal({ tensor: [1], cuda: false });
  });
});

describe('image: the operator', function () {
  this.timeout(900_000);

  it('ignores CLAWBOT_FAILPOINT: the test-only kill hook cannot fire in the image', async () => {
    const operator = (await built()).find((b) => b.name === 'operator')!;
    const out = await podman([
      'run',
      '--rm',
      '--network=none',
      '--env',
      'CLAWBOT_FAILPOINT=apikey:issue',
      '--entrypoint',
      'node',
      operator.reference,
      '--input-type=module',
      '-e',
      "const { failpoint } = await import('/app/dist/operator/failpoint.js'); " +
        "failpoint('apikey:issue'); console.log('still running');",
    ]);
    expect(out.trim()).to.equal('still running');
  });
});
