import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as importGguf } from './import-gguf-command.ts';
import { run as tinyModel } from './tiny-model-command.ts';

/** Runs a command with stderr (usage text and log lines) captured instead of printed. */
async function capture(command: () => Promise<number>): Promise<{ code: number; stderr: string }> {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await command(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe('import-gguf and tiny-model commands', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'model-commands-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('tiny-model writes a model folder, then refuses to overwrite it without --force', async () => {
    const out = join(dir, 'tiny');
    expect((await capture(() => tinyModel([out, '--type', 'Q4_0', '--seed', '3']))).code).to.equal(
      0,
    );
    expect(await readdir(join(out, 'onnx'))).to.include('model.onnx');
    const again = await capture(() => tinyModel([out]));
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('already exists');
    expect((await capture(() => tinyModel([out, '--force']))).code).to.equal(0);
  });

  it('tiny-model rejects unknown types and bad seeds as usage errors', async () => {
    for (const argv of [
      [join(dir, 'x'), '--type', 'Q3_K'],
      [join(dir, 'x'), '--seed', 'abc'],
      [],
    ]) {
      const { code, stderr } = await capture(() => tinyModel(argv));
      expect(code, argv.join(' ')).to.equal(2);
      expect(stderr).to.include('usage: npm run runtime -- tiny-model');
    }
  });

  it('import-gguf reports usage errors with exit code 2 and failed imports with 1', async () => {
    const usage = [
      [],
      ['a.gguf', join(dir, 'out'), '--bogus'],
      ['a.gguf', join(dir, 'out'), '--accuracy', 'fp16'],
    ];
    for (const argv of usage)
      expect((await capture(() => importGguf(argv))).code, argv.join(' ')).to.equal(2);
    expect((await capture(() => importGguf(usage[2]!))).stderr).to.include(
      '--accuracy must be one of fp32, int8; got "fp16"',
    );

    const failed = await capture(() => importGguf([join(dir, 'missing.gguf'), join(dir, 'out')]));
    expect(failed.code).to.equal(1);
    expect(JSON.parse(failed.stderr.trim())).to.include({ level: 'error', msg: 'import failed' });
    expect(await readdir(dir)).to.deep.equal([]);
  });
});
