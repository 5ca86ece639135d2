// The imported ONNX decoder, run by onnxruntime, against the float64 reference forward pass over
// the same (dequantized) GGUF tensors, for every supported tensor type and importer encoding.
//
// Tolerance: float32 has a unit roundoff of 2^-24 ≈ 6e-8, and each logit of the tiny model is the
// end of a chain of dot products of length ≤ 512 over two layers, so rounding alone can move a
// logit (|logit| < 5 here) by a few 1e-6; 2e-5 leaves headroom for summation order while any real
// mistake (a wrong rotary layout, a leaking mask, a misread block) moves logits by 1e-2 or more.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openGguf } from '../gguf/reader.ts';
import { importGguf } from '../import-gguf.ts';
import type { TinyModelOptions } from '../tiny/tiny-gguf.ts';
import { tinyGguf } from '../tiny/tiny-gguf.ts';
import type { LlamaConfig } from './config.ts';
import { llamaConfigFromGguf } from './config.ts';
import type { WeightOptions } from './gguf-weights.ts';
import { DEFAULT_WEIGHT_OPTIONS } from './gguf-weights.ts';
import { referenceLogits } from '../../../test/support/llama-reference.ts';

const EXACT_TOLERANCE = 2e-5;
const PAD = 2;
const PROMPT_A = [1, 40, 50, 60, 270, 100, 3, 200];
const PROMPT_B = [1, 120, 7, 255, 33];

interface Case {
  title: string;
  gguf: TinyModelOptions;
  weights?: Partial<WeightOptions>;
  tolerance?: number;
}

const cases: Case[] = [
  { title: 'F32, tied embedding', gguf: { tensorType: 'F32' } },
  { title: 'F16, separate output head', gguf: { tensorType: 'F16', tieEmbeddings: false } },
  { title: 'BF16', gguf: { tensorType: 'BF16' } },
  { title: 'Q8_0 as exact pairs of 4-bit MatMulNBits blocks', gguf: { tensorType: 'Q8_0' } },
  {
    title: 'Q4_0 as MatMulNBits, separate output head',
    gguf: { tensorType: 'Q4_0', tieEmbeddings: false },
  },
  {
    title: 'Q4_1 as MatMulNBits with block minimums, Q8_0 embedding (SmolLM2 layout)',
    gguf: { tensorType: 'Q4_1', embeddingType: 'Q8_0' },
  },
  {
    title: 'Q4_1 dequantized to float32',
    gguf: { tensorType: 'Q4_1' },
    weights: { q4_1: 'dense' },
  },
  {
    title: 'Q4_1, multi-head attention (one query head per KV head)',
    gguf: { tensorType: 'Q4_1', numKvHeads: 4 },
  },
  {
    title: 'Q4_0, multi-query attention (one KV head for all)',
    gguf: { tensorType: 'Q4_0', numKvHeads: 1 },
  },
  // K-quant rows are whole super-blocks: these tiny models get a hidden size of 256.
  {
    title: 'Q4_K as MatMulNBits with block minimums, Q6_K tied head (Q4_K_M layout)',
    gguf: { tensorType: 'Q4_K', embeddingType: 'Q6_K' },
  },
  {
    title: 'Q6_K as exact pairs of 4-bit blocks of 16, separate output head',
    gguf: { tensorType: 'Q6_K', tieEmbeddings: false },
  },
  // int8 activations round each matmul input to 1/254 of its block's largest magnitude, which
  // moves these logits by up to ~0.1 (measured); 0.25 bounds that and still fails on layout bugs.
  ...(['Q4_1', 'Q4_0', 'Q8_0'] as const).map((type) => ({
    title: `${type} with int8 activations (--accuracy int8)`,
    gguf: { tensorType: type, embeddingType: 'Q8_0' as const },
    weights: { accuracy: 'int8' as const },
    tolerance: 0.25,
  })),
];

interface Step {
  ids: number[][];
  mask: number[][];
  positions: number[][];
  keep: number;
}

class Decoder {
  readonly past = new Map<string, ort.Tensor>();
  private readonly session: ort.InferenceSession;
  private readonly config: LlamaConfig;
  constructor(session: ort.InferenceSession, config: LlamaConfig) {
    this.session = session;
    this.config = config;
  }

  reset(batch: number) {
    const { numLayers, numKvHeads, headDim } = this.config;
    for (let i = 0; i < numLayers; i++) {
      for (const kind of ['key', 'value']) {
        this.past.set(
          `past_key_values.${i}.${kind}`,
          new ort.Tensor('float32', new Float32Array(0), [batch, numKvHeads, 0, headDim]),
        );
      }
    }
  }

  /** Runs one step, keeps its cache, and returns logits as [batch][position][vocab]. */
  async step(s: Step): Promise<number[][][]> {
    const i64 = (rows: number[][]) =>
      new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [
        rows.length,
        rows[0]!.length,
      ]);
    const out = await this.session.run({
      input_ids: i64(s.ids),
      attention_mask: i64(s.mask),
      position_ids: i64(s.positions),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(BigInt(s.keep)), []),
      ...Object.fromEntries(this.past),
    });
    for (const name of this.past.keys())
      this.past.set(name, out[name.replace('past_key_values', 'present')]!);
    const [batch, kept, vocab] = out.logits!.dims as number[];
    const data = out.logits!.data as Float32Array;
    return Array.from({ length: batch! }, (_, b) =>
      Array.from({ length: kept! }, (_, p) =>
        Array.from(data.subarray((b * kept! + p) * vocab!, (b * kept! + p + 1) * vocab!)),
      ),
    );
  }
}

function expectClose(
  actual: readonly number[],
  expected: ArrayLike<number>,
  what: string,
  tolerance: number,
) {
  expect(actual.length, what).to.equal(expected.length);
  let worst = 0;
  actual.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]!))));
  expect(worst, `${what}: largest logit difference`).to.be.at.most(tolerance);
}

const ones = (n: number) => Array<number>(n).fill(1);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('imported GGUF decoder vs the reference forward pass', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'exactness-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  for (const [n, c] of cases.entries()) {
    describe(c.title, () => {
      const close = (actual: readonly number[], expected: ArrayLike<number>, what: string) =>
        expectClose(actual, expected, what, c.tolerance ?? EXACT_TOLERANCE);
      let config: LlamaConfig;
      let reference: (tokens: number[]) => Float64Array[];
      let decoder: Decoder;
      let session: ort.InferenceSession;

      before(async () => {
        const gguf = join(dir, `${n}.gguf`);
        await writeFile(gguf, tinyGguf({ seed: n + 1, ...c.gguf }));
        await importGguf(gguf, join(dir, `${n}`), {
          weights: { ...DEFAULT_WEIGHT_OPTIONS, ...c.weights },
        });
        const file = await openGguf(gguf);
        const tensors = new Map<string, Float32Array>();
        for (const name of file.tensors.keys()) tensors.set(name, await file.readFloats(name));
        config = llamaConfigFromGguf(file.metadata, file.tensors);
        await file.close();
        reference = (tokens) => referenceLogits(config, (name) => tensors.get(name)!, tokens);
        session = await ort.InferenceSession.create(join(dir, `${n}`, 'onnx', 'model.onnx'));
        decoder = new Decoder(session, config);
      });
      after(() => session?.release());

      it('prefill: logits at every position', async () => {
        decoder.reset(1);
        const [row] = await decoder.step({
          ids: [PROMPT_A],
          mask: [ones(8)],
          positions: [range(0, 8)],
          keep: 0,
        });
        const expected = reference(PROMPT_A);
        row!.forEach((logits, p) => close(logits, expected[p]!, `position ${p}`));
      });

      it('decode: single-token steps on the KV cache, logits for the last position only', async () => {
        const expected = reference(PROMPT_A);
        decoder.reset(1);
        const [prefill] = await decoder.step({
          ids: [PROMPT_A.slice(0, 4)],
          mask: [ones(4)],
          positions: [range(0, 4)],
          keep: 1,
        });
        expect(prefill!.length).to.equal(1);
        close(prefill![0]!, expected[3]!, 'prefill last position');
        for (let p = 4; p < PROMPT_A.length; p++) {
          const [row] = await decoder.step({
            ids: [[PROMPT_A[p]!]],
            mask: [ones(p + 1)],
            positions: [[p]],
            keep: 1,
          });
          close(row![0]!, expected[p]!, `decode position ${p}`);
        }
      });

      it('left-padded batch: each row equals its prompt run alone', async () => {
        const pad = PROMPT_A.length - PROMPT_B.length;
        decoder.reset(2);
        const [a, b] = await decoder.step({
          ids: [PROMPT_A, [...Array<number>(pad).fill(PAD), ...PROMPT_B]],
          mask: [ones(8), [...Array<number>(pad).fill(0), ...ones(PROMPT_B.length)]],
          // Padding positions get an arbitrary position (1, as transformers does): they are masked.
          positions: [range(0, 8), [...Array<number>(pad).fill(1), ...range(0, PROMPT_B.length)]],
          keep: 0,
        });
        const expectedA = reference(PROMPT_A);
        const expectedB = reference(PROMPT_B);
        a!.forEach((logits, p) => close(logits, expectedA[p]!, `row A position ${p}`));
        b!.slice(pad).forEach((logits, p) => close(logits, expectedB[p]!, `row B position ${p}`));

        // One more decode step for both rows, through the padded cache.
        const [nextA, nextB] = [17, 230];
        const [stepA, stepB] = await decoder.step({
          ids: [[nextA], [nextB]],
          mask: [ones(9), [...Array<number>(pad).fill(0), ...ones(PROMPT_B.length + 1)]],
          positions: [[8], [PROMPT_B.length]],
          keep: 1,
        });
        close(stepA![0]!, reference([...PROMPT_A, nextA])[8]!, 'row A decode');
        close(stepB![0]!, reference([...PROMPT_B, nextB])[PROMPT_B.length]!, 'row B decode');
      });
    });
  }
});
