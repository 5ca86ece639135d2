import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ImportProgress } from './import-gguf.ts';
import { importGguf } from './import-gguf.ts';
import { tinyGguf } from './tiny/tiny-gguf.ts';

/** Replaces the first occurrence of `from` after `after` with same-length `to`. */
function patch(bytes: Uint8Array, after: string, from: Uint8Array, to: Uint8Array): Uint8Array {
  const buf = Buffer.from(bytes);
  const at = buf.indexOf(from, buf.indexOf(after));
  expect(at, `found ${after}`).to.be.greaterThan(0);
  buf.set(to, at);
  return buf;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).to.be.instanceOf(Error);
  return e as Error;
}

describe('importGguf', () => {
  let dir: string;
  let gguf: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'import-'));
    gguf = join(dir, 'tiny.gguf');
    await writeFile(gguf, tinyGguf({ tensorType: 'Q4_1', embeddingType: 'Q8_0' }));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the onnx-community folder layout with the model contract', async () => {
    const events: ImportProgress[] = [];
    const out = join(dir, 'model');
    await importGguf(gguf, out, { onProgress: (p) => events.push(p) });

    expect((await readdir(out)).sort()).to.deep.equal([
      'config.json',
      'generation_config.json',
      'onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect((await readdir(join(out, 'onnx'))).sort()).to.deep.equal([
      'model.onnx',
      'model.onnx_data',
    ]);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config).to.include({
      model_type: 'llama',
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 16,
      intermediate_size: 128,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      vocab_size: 279,
      bos_token_id: 1,
      eos_token_id: 2,
      tie_word_embeddings: true,
    });
    expect(JSON.parse(await readFile(join(out, 'generation_config.json'), 'utf8'))).to.deep.equal({
      bos_token_id: 1,
      eos_token_id: 2,
    });

    const session = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'));
    const cache = (prefix: string) =>
      [0, 1].flatMap((i) => [`${prefix}.${i}.key`, `${prefix}.${i}.value`]);
    expect(session.inputNames).to.deep.equal([
      'input_ids',
      'attention_mask',
      'position_ids',
      ...cache('past_key_values'),
      'num_logits_to_keep',
    ]);
    expect(session.outputNames).to.deep.equal(['logits', ...cache('present')]);
    await session.release();

    expect(events.map((e) => e.stage).filter((s, i, all) => s !== all[i - 1])).to.deep.equal([
      'read',
      'tokenizer',
      'graph',
      'weights',
      'done',
    ]);
    const last = events.filter((e) => e.stage === 'weights').at(-1);
    expect(last).to.include({ written: (last as { total: number }).total });
  });

  it('refuses to overwrite an existing directory unless forced, then replaces it whole', async () => {
    const out = join(dir, 'model');
    await mkdir(out);
    await writeFile(join(out, 'stale.txt'), 'old');
    expect((await rejection(importGguf(gguf, out))).message).to.match(
      /already exists: remove it, choose another directory, or pass --force/,
    );
    await importGguf(gguf, out, { force: true });
    expect(await readdir(out)).to.not.include('stale.txt');
    expect(await readdir(dir)).to.deep.equal(['model', 'tiny.gguf']);
  });

  it('names the supported architectures, and leaves nothing behind', async () => {
    const enc = new TextEncoder();
    await writeFile(
      gguf,
      patch(await readFile(gguf), 'general.architecture', enc.encode('llama'), enc.encode('qwen2')),
    );
    const e = await rejection(importGguf(gguf, join(dir, 'model')));
    expect(e.message).to.equal(
      'architecture "qwen2" is not supported; supported architectures: llama',
    );
    expect(await readdir(dir)).to.deep.equal(['tiny.gguf']);
  });

  // Both were imported before, into a model onnxruntime refused to load.
  it('refuses a tensor of another shape than the metadata makes it, leaving nothing', async () => {
    // blk.0.attn_k.weight is [64, 32] (2 KV heads of 16): its second dimension follows the
    // name, n_dims and the first.
    const name = Buffer.from('blk.0.attn_k.weight');
    const bytes = Buffer.from(await readFile(gguf));
    const rowsAt = bytes.indexOf(name) + name.length + 4 + 8;
    expect(bytes.readBigUInt64LE(rowsAt)).to.equal(32n);
    bytes.writeBigUInt64LE(16n, rowsAt);
    await writeFile(gguf, bytes);
    const e = await rejection(importGguf(gguf, join(dir, 'model')));
    expect(e.message).to.equal(
      "tensor blk.0.attn_k.weight has shape [64, 16], but the GGUF's llama.* metadata makes it [64, 32]: the GGUF is corrupt",
    );
    expect(await readdir(dir)).to.deep.equal(['tiny.gguf']);
  });

  it('refuses a vocab_size unlike the embedding', async () => {
    const key = Buffer.from('llama.vocab_size');
    const bytes = Buffer.from(await readFile(gguf));
    const valueAt = bytes.indexOf(key) + key.length + 4;
    expect(bytes.readUInt32LE(valueAt)).to.equal(279);
    bytes.writeUInt32LE(280, valueAt);
    await writeFile(gguf, bytes);
    const e = await rejection(importGguf(gguf, join(dir, 'model')));
    expect(e.message).to.match(
      /tensor token_embd\.weight has shape \[64, 279\], but .* makes it \[64, 280\]/,
    );
  });

  it('names unsupported tensor types and the supported ones', async () => {
    // blk.0.attn_q.weight is a 2-D tensor: its type id follows the name, n_dims and two dims.
    const name = Buffer.from('blk.0.attn_q.weight');
    const bytes = Buffer.from(await readFile(gguf));
    const typeAt = bytes.indexOf(name) + name.length + 4 + 16;
    expect(bytes.readUInt32LE(typeAt)).to.equal(3); // Q4_1
    bytes.writeUInt32LE(13, typeAt); // Q5_K
    await writeFile(gguf, bytes);
    const e = await rejection(importGguf(gguf, join(dir, 'model')));
    expect(e.message).to.match(/blk\.0\.attn_q\.weight \(Q5_K\)/);
    expect(e.message).to.match(/supported types: F32, F16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K, BF16/);
    expect(await readdir(dir)).to.deep.equal(['tiny.gguf']);
  });
});
