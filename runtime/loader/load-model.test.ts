import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { importGguf } from '../model/import-gguf.ts';
import { tinyGguf } from '../model/tiny/tiny-gguf.ts';
import { loadModel, type LoadModelOptions } from './load-model.ts';

describe('load-model (the init container)', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let requests = 0;
  const files = new Map<string, Buffer>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clawbot-loader-'));
    // A small ONNX-layout model folder, packed the way a user would publish one.
    const folder = join(dir, 'src');
    await mkdir(join(folder, 'onnx'), { recursive: true });
    await writeFile(join(folder, 'config.json'), '{"model_type":"llama"}');
    await writeFile(join(folder, 'onnx', 'model.onnx'), Buffer.alloc(200_000, 7));
    execFileSync('tar', ['-czf', join(dir, 'model.tar.gz'), '-C', folder, '.']);
    files.set('/model.tar.gz', await readFile(join(dir, 'model.tar.gz')));
    // An archive whose entry climbs out of the target folder.
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await writeFile(join(dir, 'a', 'evil'), 'x');
    execFileSync('tar', ['-P', '-cf', join(dir, 'evil.tar'), '../evil'], {
      cwd: join(dir, 'a', 'b'),
    });
    files.set('/evil.tar', await readFile(join(dir, 'evil.tar')));
    files.set('/tiny.gguf', Buffer.from(tinyGguf()));

    server = createServer((req, res) => {
      requests++;
      const body = files.get(req.url ?? '');
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(() => server.close());

  const sha = (name: string) => createHash('sha256').update(files.get(name)!).digest('hex');
  const options = (name: string, modelPath: string): LoadModelOptions => ({
    source: `${base}${name}`,
    sha256: sha(name),
    modelPath,
    progress: () => {},
    importGguf: () => Promise.reject(new Error('not a GGUF test')),
  });

  it('downloads, verifies and unpacks a model folder, then does nothing the second time', async () => {
    const modelPath = join(dir, 'models', 'a');
    const first = await loadModel(options('/model.tar.gz', modelPath));
    expect(first.fetched).to.equal(true);
    expect(await readFile(join(modelPath, 'config.json'), 'utf8')).to.equal(
      '{"model_type":"llama"}',
    );
    expect((await readFile(join(modelPath, 'onnx', 'model.onnx'))).length).to.equal(200_000);

    const before = requests;
    expect((await loadModel(options('/model.tar.gz', modelPath))).fetched).to.equal(false);
    expect(requests).to.equal(before);
  });

  it('imports a GGUF download into an ONNX model folder', async () => {
    const modelPath = join(dir, 'models', 'g');
    await loadModel({
      ...options('/tiny.gguf', modelPath),
      format: 'gguf',
      importGguf: (file, out) => importGguf(file, out).then(() => undefined),
    });
    for (const file of [
      'onnx/model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
      'config.json',
    ]) {
      expect(existsSync(join(modelPath, file)), file).to.equal(true);
    }
  });

  it('loads a local file (hashed in place, not copied)', async () => {
    const modelPath = join(dir, 'models', 'local');
    const result = await loadModel({
      ...options('/model.tar.gz', modelPath),
      source: join(dir, 'model.tar.gz'),
    });
    expect(result.fetched).to.equal(true);
    expect(existsSync(join(modelPath, 'onnx', 'model.onnx'))).to.equal(true);
    expect(existsSync(join(dir, 'model.tar.gz')), 'the source stays where it was').to.equal(true);
  });

  it('refuses a download whose sha256 does not match and leaves nothing behind', async () => {
    const modelPath = join(dir, 'models', 'b');
    const error = await loadModel({
      ...options('/model.tar.gz', modelPath),
      sha256: 'ab'.repeat(32),
    }).catch((err: Error) => err);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/sha256 mismatch.*expected abab/);
    expect(existsSync(modelPath)).to.equal(false);
    expect((await readdir(join(dir, 'models'))).filter((f) => f.startsWith('b'))).to.deep.equal([]);
  });

  it('refuses a source in another format than the one given', async () => {
    const error = await loadModel({
      ...options('/model.tar.gz', join(dir, 'models', 'c')),
      format: 'gguf',
    }).catch((err: Error) => err);
    expect((error as Error).message).to.match(
      /archive of an ONNX model folder.*set model.format: onnx/,
    );
  });

  it('refuses archive entries that would land outside the model folder', async () => {
    const error = await loadModel(options('/evil.tar', join(dir, 'models', 'd'))).catch(
      (err: Error) => err,
    );
    expect((error as Error).message).to.match(/points outside the model folder/);
    expect(existsSync(join(dir, 'models', 'evil'))).to.equal(false);
  });

  it('lets concurrent loaders on one volume fetch the model once', async () => {
    const modelPath = join(dir, 'models', 'e');
    const before = requests;
    const results = await Promise.all(
      [1, 2, 3].map(() => loadModel(options('/model.tar.gz', modelPath))),
    );
    expect(results.filter((r) => r.fetched)).to.have.length(1);
    expect(requests - before).to.equal(1);
  });

  describe('a lock left by a loader that died', function () {
    // Without a take-over these would wait out the one-minute staleness of the lock.
    this.timeout(20_000);

    it('is taken over at once when its process on this machine is gone', async () => {
      const modelPath = join(dir, 'models', 'h');
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      await mkdir(join(dir, 'models'), { recursive: true });
      await writeFile(`${modelPath}.lock`, `process ${hostname()}/${dead}\n`);
      expect((await loadModel(options('/model.tar.gz', modelPath))).fetched).to.equal(true);
    });

    it("is taken over at once when it is this pod's own (its init container restarted)", async () => {
      const modelPath = join(dir, 'models', 'i');
      await writeFile(`${modelPath}.lock`, 'pod support-bot-7d6-x2\n');
      process.env.POD_NAME = 'support-bot-7d6-x2';
      try {
        expect((await loadModel(options('/model.tar.gz', modelPath))).fetched).to.equal(true);
      } finally {
        delete process.env.POD_NAME;
      }
    });
  });

  it('names an unreachable source', async () => {
    const error = await loadModel({
      ...options('/model.tar.gz', join(dir, 'models', 'f')),
      source: `${base}/missing`,
    }).catch((err: Error) => err);
    expect((error as Error).message).to.match(/cannot download .*\/missing: HTTP 404/);
  });
});
