// The runtimes ClawBot is measured against live in bench/peers with their own package.json and
// lockfile, never in the root package. They are installed there on first use with `npm ci`
// (about 1.2 GB, mostly node-llama-cpp's prebuilt binaries for every Linux flavour and
// onnxruntime-node), and again whenever the installed versions differ from the pinned ones.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../tools/cluster/paths.ts';

export const peersDir = join(repoRoot, 'bench', 'peers');

/** The pinned versions, as installed: { 'node-llama-cpp': '3.21.1', ... }. */
export async function ensurePeers(
  progress: (line: string) => void,
): Promise<Record<string, string>> {
  const pinned = (
    JSON.parse(await readFile(join(peersDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    }
  ).dependencies;
  if (!(await installedAre(pinned))) {
    progress(
      `installing the peers (${Object.entries(pinned)
        .map(([n, v]) => `${n}@${v}`)
        .join(', ')}) into bench/peers/node_modules with npm ci; one line per package fetched`,
    );
    await npmCi();
    if (!(await installedAre(pinned)))
      throw new Error('npm ci in bench/peers did not install the pinned versions');
  }
  return pinned;
}

async function installedAre(pinned: Record<string, string>): Promise<boolean> {
  for (const [name, version] of Object.entries(pinned)) {
    const installed = await readFile(
      join(peersDir, 'node_modules', name, 'package.json'),
      'utf8',
    ).then(
      (text) => (JSON.parse(text) as { version: string }).version,
      () => undefined,
    );
    if (installed !== version) return false;
  }
  return true;
}

// --loglevel http prints each package as npm fetches it: the install's progress. No install script
// runs (bench/peers/package.json's allowScripts): onnxruntime-node's would download CUDA libraries
// from outside the npm registry, and node-llama-cpp's only tries its prebuilt binary, falling back
// to fetching llama.cpp's source to compile it; bench/peers/llama-cpp.ts asks for the prebuilt
// binary (from the npm package @node-llama-cpp/linux-x64) with build: 'never' instead.
function npmCi(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npm',
      ['ci', '--prefix', peersDir, '--loglevel', 'http', '--no-audit', '--no-fund'],
      {
        stdio: ['ignore', process.stderr, process.stderr],
      },
    );
    child.on('error', (error) => reject(new Error(`cannot run npm: ${error.message}`)));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm ci --prefix bench/peers exited with ${code}`)),
    );
  });
}
